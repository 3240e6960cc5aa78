"""Erasure at a person's request: their data goes, a hash of their address stays.

Erasing a contact deletes the contact and, with it, their roles, messages, events and
exposures (the database cascades). What is kept is a SHA-256 of the address in its unique
form, so that a later import of the same address is skipped: they stay suppressed without
commhub keeping who they were. Copies of their messages kept outside the database (the
outbox's files) go once the erasure is committed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from commhub.store import (
    AuditAction,
    Contact,
    Event,
    Message,
    Suppression,
    email_key,
    record_action,
    session_scope,
)

ERASED = "erased on request"


def email_hash(address: str) -> str:
    """The hash an erased address is kept as (of its case-insensitive form)."""
    return hashlib.sha256(email_key(address).encode("utf-8")).hexdigest()


@dataclass
class Erasure:
    found: bool
    messages: int = 0
    events: int = 0
    # (edition id, message id) of the messages erased, for the caller's files.
    message_keys: list[tuple[int, int]] = field(default_factory=list)


# Takes a contact's part out of the figures kept from their messages and events, before they
# go (tracking's forget_contact: contacts may not import tracking, so its callers pass it).
Forget = Callable[[Session, int], None]


def erase_contact(session: Session, address: str, now: datetime, forget: Forget) -> Erasure:
    """Erase the contact with this address (if there is one) and suppress it for good, with
    their part of the kept figures (`forget`)."""
    contact = session.scalar(select(Contact).where(Contact.email_key == email_key(address)))
    erasure = Erasure(found=contact is not None)
    if contact is not None:
        erasure.message_keys = [
            (edition_id, message_id)
            for edition_id, message_id in session.execute(
                select(Message.edition_id, Message.id).where(Message.contact_id == contact.id)
            )
        ]
        erasure.messages = len(erasure.message_keys)
        erasure.events = (
            session.scalar(select(func.count()).where(Event.contact_id == contact.id)) or 0
        )
        forget(session, contact.id)
        session.delete(contact)
    hashed = email_hash(address)
    if session.scalar(select(Suppression.id).where(Suppression.email_hash == hashed)) is None:
        session.add(Suppression(email_hash=hashed, reason=ERASED, created_at=now))
    # The log keeps no address: the hash alone says an erasure happened, and which.
    record_action(
        session, AuditAction.ERASED, "person", hashed[:16],
        f"erased at their request: {erasure.messages} messages, {erasure.events} events", now,
    )  # fmt: skip
    session.flush()
    return erasure


class MessageCopies(Protocol):
    """Where copies of sent messages are kept outside the database (the outbox's files)."""

    def remove(self, edition_id: int, message_id: int) -> None:
        """Delete the copy of one message, if there is one."""


def erase_person(
    sessions: sessionmaker[Session],
    address: str,
    now: datetime,
    copies: MessageCopies,
    forget: Forget,
) -> Erasure:
    """Erase a person at their request: the rows in one transaction, then, once it is
    committed, every copy of their messages (a failed commit leaves the files as well)."""
    with session_scope(sessions) as session:
        erasure = erase_contact(session, address, now, forget)
    for edition_id, message_id in erasure.message_keys:
        copies.remove(edition_id, message_id)
    return erasure


def suppressed_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """Of these unique address forms, those erased on request."""
    by_hash = {hashlib.sha256(key.encode("utf-8")).hexdigest(): key for key in keys}
    if not by_hash:
        return set()
    found = session.scalars(
        select(Suppression.email_hash).where(Suppression.email_hash.in_(list(by_hash)))
    )
    return {by_hash[hashed] for hashed in found}

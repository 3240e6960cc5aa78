"""Exposures and the rule of seven: who has seen which key message, how often, in which formats.

An exposure is a human signal that a contact saw an item's key message in a format (email,
video, social, rss): at most one per (contact, key message, source), so an email opened five
times is one exposure. Each new exposure bumps the contact's tally for that key message in
the same transaction; reports read the tallies and never recount events.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from commhub.message_store import role_set_includes
from commhub.models import (
    Audience,
    ContentItem,
    EditionItem,
    EditionLink,
    EditionRender,
    Exposure,
    ExposureTally,
    KeyMessage,
    Message,
    MessageStatus,
)

FORMATS = ("email", "video", "social", "rss")
SEVEN = 7  # exposures before a message sticks
THREE = 3  # formats they should come through
EXPOSURES = cast(Table, Exposure.__table__)
TALLIES = cast(Table, ExposureTally.__table__)


def record_exposures(
    session: Session,
    contact_id: int,
    key_message_ids: Iterable[int],
    fmt: str,
    source_kind: str,
    source_id: int,
    now: datetime,
) -> int:
    """Record the exposures not recorded before and bump their tallies; how many were new."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    wanted = sorted(set(key_message_ids))
    if not wanted:
        return 0
    insert = _insert(session)
    rows = [
        {
            "contact_id": contact_id,
            "key_message_id": key_message_id,
            "format": fmt,
            "source_kind": source_kind,
            "source_id": source_id,
            "occurred_at": now,
        }
        for key_message_id in wanted
    ]
    new = list(
        session.scalars(
            insert(EXPOSURES)
            .values(rows)
            .on_conflict_do_nothing()
            .returning(EXPOSURES.c.key_message_id)
        )
    )
    for key_message_id in new:
        session.execute(
            insert(TALLIES)
            .values(
                contact_id=contact_id, key_message_id=key_message_id, updated_at=now, **{fmt: 1}
            )
            .on_conflict_do_update(
                index_elements=["contact_id", "key_message_id"],
                set_={fmt: TALLIES.c[fmt] + 1, "updated_at": now},
            )
        )
    return len(new)


def _insert(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql_insert
    return sqlite_insert


def key_messages_of_message(session: Session, edition_id: int, role_set: str) -> list[int]:
    """The key messages of the items a message carried (its role set's render)."""
    link_ids = session.scalar(
        select(EditionRender.link_ids).where(
            EditionRender.edition_id == edition_id, EditionRender.role_set == role_set
        )
    )
    if not link_ids:
        return []
    return list(
        session.scalars(
            select(ContentItem.key_message_id)
            .join(EditionLink, EditionLink.content_item_id == ContentItem.id)
            .where(
                EditionLink.edition_id == edition_id,
                EditionLink.link_id.in_(link_ids),
                ContentItem.key_message_id.is_not(None),
            )
            .distinct()
        )
    )


def key_message_of_link(session: Session, edition_id: int, link_id: int) -> list[int]:
    """The key message of the item behind one link of an edition ([] if it has none)."""
    found = session.scalar(
        select(ContentItem.key_message_id)
        .join(EditionLink, EditionLink.content_item_id == ContentItem.id)
        .where(EditionLink.edition_id == edition_id, EditionLink.link_id == link_id)
    )
    return [found] if found is not None else []


@dataclass
class KeyMessageReach:
    """How far one key message got: of the contacts it was sent to, how many saw it how
    often and in how many formats."""

    key_message: str
    targeted: int
    by_exposures: Counter[int] = field(default_factory=Counter)  # 1..7 (7 means 7 or more)
    by_formats: Counter[int] = field(default_factory=Counter)  # 1..3 (3 means 3 or more)
    seven_across_three: int = 0

    @property
    def share(self) -> float:
        """The share of targeted contacts at seven exposures across three formats."""
        return self.seven_across_three / self.targeted if self.targeted else 0.0


def reach_report(session: Session) -> list[KeyMessageReach]:
    """Per key message: targeted contacts, exposures 1..7+, formats 1..3+, seven across three."""
    targeted = _targeted(session)
    reports = {
        key_id: KeyMessageReach(text, targeted.get(key_id, 0))
        for key_id, text in session.execute(select(KeyMessage.id, KeyMessage.text))
    }
    for tally in session.scalars(select(ExposureTally)):
        report = reports[tally.key_message_id]
        counts = [getattr(tally, fmt) for fmt in FORMATS]
        total, formats = sum(counts), sum(1 for n in counts if n)
        if total:
            report.by_exposures[min(total, SEVEN)] += 1
            report.by_formats[min(formats, THREE)] += 1
        if total >= SEVEN and formats >= THREE:
            report.seven_across_three += 1
    return sorted(reports.values(), key=lambda r: r.key_message)


def _targeted(session: Session) -> dict[int, int]:
    """Contacts sent a message that carried an item with the key message to one of their
    roles (a message's role set is its audience slugs, comma-separated)."""
    in_role_set = role_set_includes(Audience.slug)
    rows = session.execute(
        select(ContentItem.key_message_id, func.count(func.distinct(Message.contact_id)))
        .join(EditionItem, EditionItem.content_item_id == ContentItem.id)
        .join(Audience, Audience.id == EditionItem.audience_id)
        .join(Message, Message.edition_id == EditionItem.edition_id)
        .where(
            ContentItem.key_message_id.is_not(None),
            Message.status == MessageStatus.SENT,
            in_role_set,
        )
        .group_by(ContentItem.key_message_id)
    )
    return {int(key_id or 0): int(count) for key_id, count in rows}

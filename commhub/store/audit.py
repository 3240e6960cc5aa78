"""The audit log: who did what to which object, and when.

The domain functions write it themselves (so the CLI's actions are logged as the web's are);
who is acting comes from the context the front door sets: the signed-in user's address on the
web, "cli:<os user>" in the CLI, "scheduler" for the scheduler's own work.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from commhub.store.db import utcnow
from commhub.store.models import AuditEntry

SYSTEM_ACTOR = "system"
_actor: ContextVar[str] = ContextVar("commhub_actor", default=SYSTEM_ACTOR)


class AuditAction(enum.StrEnum):
    SIGNED_IN = "signed in"
    CREATED = "created"
    EDITED = "edited"
    IMPORTED = "imported"
    SCHEDULED = "scheduled"
    APPROVED = "approved"
    REJECTED = "rejected"
    SENT = "sent"
    PAUSED = "paused"
    RELEASED = "released"
    CANCELLED = "cancelled"
    ERASED = "erased"
    REMOVED = "removed"
    CHANGED_USER = "changed a user"


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Everything recorded inside this block is done by actor."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def current_actor() -> str:
    return _actor.get()


def record_action(
    session: Session,
    action: AuditAction,
    object_type: str,
    object_id: object,
    summary: str,
    now: datetime | None = None,
) -> None:
    """Add an entry to the log, in the caller's transaction: it lands if the change does."""
    session.add(
        AuditEntry(
            at=now or utcnow(),
            actor=current_actor()[:320],
            action=action.value,
            object_type=object_type,
            object_id=str(object_id)[:320],
            summary=summary,
        )
    )


@dataclass(frozen=True)
class AuditFilter:
    """What /audit narrows the log to; None means any."""

    actor: str | None = None
    action: AuditAction | None = None
    object_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.actor:
            found.append(AuditEntry.actor == self.actor)
        if self.action is not None:
            found.append(AuditEntry.action == self.action.value)
        if self.object_type:
            found.append(AuditEntry.object_type == self.object_type)
        if self.since is not None:
            found.append(AuditEntry.at >= self.since)
        if self.until is not None:
            found.append(AuditEntry.at < self.until)
        return found


def count_audit_entries(session: Session, where: AuditFilter) -> int:
    """How many entries the filter leaves."""
    query = select(func.count()).select_from(AuditEntry).where(*where.conditions())
    return session.scalar(query) or 0


def audit_entries(
    session: Session, where: AuditFilter, offset: int = 0, limit: int = 50
) -> Sequence[AuditEntry]:
    """One page of the log, newest first, narrowed by where."""
    return session.scalars(
        select(AuditEntry)
        .where(*where.conditions())
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()


def audit_choices(session: Session) -> tuple[list[str], list[str]]:
    """The actors and object types on file, for the filters' choices."""
    actors = session.scalars(select(AuditEntry.actor).distinct().order_by(AuditEntry.actor)).all()
    types = session.scalars(
        select(AuditEntry.object_type).distinct().order_by(AuditEntry.object_type)
    ).all()
    return list(actors), list(types)

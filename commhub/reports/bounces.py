"""Bounce rate per edition: of the latest editions that sent email, the messages that
bounced over those sent or bounced, against the mailbox providers' thresholds.

Read from the figures tracking keeps per group of messages, in one query whatever the
number of messages: `sent` there counts the messages sent now, a bounced one moved out of
it (to failed), so the messages tried are sent + bounces.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commhub.store import Edition, GroupFigures, Series

# Mailbox providers' common guidance: keep hard bounces under 2 % of the messages sent; at
# 5 % a list is considered dirty, and its sender's mail gets throttled or blocked.
BOUNCE_WARN = 0.02
BOUNCE_ALARM = 0.05
EDITIONS = 12
OK, WARN, ALARM = "ok", "warn", "alarm"


@dataclass(frozen=True)
class EditionBounces:
    """One started edition's messages: sent (delivered to the provider and not bounced
    since) and bounced."""

    edition_id: int
    series_slug: str
    series_name: str
    started_at: datetime
    sent: int
    bounces: int

    @property
    def tried(self) -> int:
        return self.sent + self.bounces

    @property
    def rate(self) -> float | None:
        """bounces / (sent + bounces); None when nothing was tried."""
        return self.bounces / self.tried if self.tried else None

    @property
    def state(self) -> str:
        """ok, warn (at or over BOUNCE_WARN) or alarm (at or over BOUNCE_ALARM)."""
        rate = self.rate or 0.0
        return ALARM if rate >= BOUNCE_ALARM else WARN if rate >= BOUNCE_WARN else OK

    def as_row(self) -> dict[str, object]:
        """One flat row (BOUNCE_COLUMNS)."""
        rate = self.rate
        return {
            "edition_id": self.edition_id,
            "series": self.series_slug,
            "series_name": self.series_name,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "sent": self.sent,
            "bounces": self.bounces,
            "bounce_rate": None if rate is None else round(rate, 4),
            "state": self.state,
        }


BOUNCE_COLUMNS: list[str] = list(EditionBounces(0, "", "", datetime.min, 0, 0).as_row())


def edition_bounces(session: Session, limit: int = EDITIONS) -> list[EditionBounces]:
    """The newest `limit` started editions that sent email (any series), oldest first, with
    their messages sent and bounced. One query."""
    rows = session.execute(
        select(
            Edition.id, Series.slug, Series.name, Edition.started_at,
            func.sum(GroupFigures.sent), func.sum(GroupFigures.bounces),
        )
        .join(Series, Series.id == Edition.series_id)
        .join(GroupFigures, GroupFigures.edition_id == Edition.id)
        .where(Edition.started_at.is_not(None))
        .group_by(Edition.id, Series.slug, Series.name, Edition.started_at)
        .order_by(Edition.started_at.desc(), Edition.id.desc())
        .limit(limit)
    ).all()  # fmt: skip
    return [
        EditionBounces(edition_id, slug, name, started_at, int(sent or 0), int(bounces or 0))
        for edition_id, slug, name, started_at, sent, bounces in reversed(rows)
        if started_at is not None  # always: only started editions are read
    ]

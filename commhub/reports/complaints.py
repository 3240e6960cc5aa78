"""Spam complaints over messages sent: the last 7 days, and each edition started in them,
against the thresholds where commhub alerts (0.1 %) and holds new editions (0.3 %)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commhub.store import Edition
from commhub.tracking import (
    ALERT_RATE,
    HOLD_RATE,
    WINDOW,
    ComplaintRate,
    edition_rates,
    recent_rate,
)


@dataclass(frozen=True)
class ComplaintReport:
    recent: ComplaintRate  # the last 7 days
    editions: dict[int, ComplaintRate]  # per edition started in them, oldest first

    @property
    def state(self) -> str:
        """ok, alert (0.1 % or more) or hold (0.3 % or more: new editions wait)."""
        rate = self.recent.rate
        return "hold" if rate >= HOLD_RATE else "alert" if rate >= ALERT_RATE else "ok"

    def as_json(self) -> dict[str, Any]:
        recent = self.recent
        return {
            "last_7_days": {
                "complaints": recent.complaints,
                "sent": recent.sent,
                "rate": recent.rate,
            },
            "editions": [
                {"edition_id": i, "complaints": r.complaints, "sent": r.sent, "rate": r.rate}
                for i, r in self.editions.items()
            ],
        }


def complaint_report(session: Session, now: datetime) -> ComplaintReport:
    """The last 7 days' complaint rate, and each edition's started in them."""
    started = session.scalars(
        select(Edition.id).where(Edition.started_at >= now - WINDOW).order_by(Edition.started_at)
    )
    return ComplaintReport(recent_rate(session, now), edition_rates(session, list(started)))

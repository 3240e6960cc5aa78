"""Complaint rates, and the holds mailbox providers' thresholds call for.

A complaint is a spam report (SendGrid's `spamreport`, stored as kind `complaint`). The rate
is complaints over messages sent, per edition and over the last 7 days. At ALERT_RATE
(0.1 %) an alert is raised; at HOLD_RATE (0.3 %), where providers start to block, every new
edition is held before it sends until an admin releases it (`commhub editions release ID`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commhub.store import Event, EventKind, Message, MessageStatus, raise_alert
from commhub.tracking.edition_totals import EditionTotals, totals_per_edition

ALERT_RATE = 0.001
HOLD_RATE = 0.003
WINDOW = timedelta(days=7)
COMPLAINT_ALERT = "complaint_rate"


@dataclass(frozen=True)
class ComplaintRate:
    complaints: int
    sent: int

    @property
    def rate(self) -> float:
        return self.complaints / self.sent if self.sent else 0.0

    def describe(self) -> str:
        noun = "complaint" if self.complaints == 1 else "complaints"
        return f"{self.rate:.2%} ({self.complaints} {noun} in {self.sent:,} sent)"


def recent_rate(session: Session, now: datetime) -> ComplaintRate:
    """Complaints over messages sent in the last 7 days."""
    since = now - WINDOW
    complaints = session.scalar(
        select(func.count()).where(Event.kind == EventKind.COMPLAINT, Event.occurred_at >= since)
    )
    sent = session.scalar(
        select(func.count()).where(Message.status == MessageStatus.SENT, Message.sent_at >= since)
    )
    return ComplaintRate(complaints or 0, sent or 0)


def edition_rates(session: Session, edition_ids: list[int]) -> dict[int, ComplaintRate]:
    """Messages that drew a complaint over messages sent, per edition (from the figures kept
    per group of messages, never the events)."""
    totals = totals_per_edition(session, edition_ids)
    return {
        i: ComplaintRate(t.complaints, t.sent)
        for i in edition_ids
        for t in [totals.get(i, EditionTotals())]
    }


def hold_reason(session: Session, now: datetime) -> str | None:
    """Why a new edition must wait for an admin, or None; raises the alert at 0.1 %."""
    recent = recent_rate(session, now)
    if recent.rate >= ALERT_RATE:
        raise_alert(
            session, COMPLAINT_ALERT, f"complaint rate {recent.rate:.2%} over 7 days",
            f"Spam complaints over the last 7 days are at {recent.describe()}. Mailbox "
            f"providers start to filter at 0.1 % and to block at 0.3 %, where commhub holds "
            "new editions until an admin releases them. Check who is being sent what.",
            now,
        )  # fmt: skip
    if recent.rate >= HOLD_RATE:
        return f"complaint rate {recent.describe()} over 7 days is at or above 0.3 %"
    return None

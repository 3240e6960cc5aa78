"""Alerts: things that need a person, raised by the system, listed until someone resolves them.

An alert's text says what happened; what a person can do about it follows from its kind, as
NextSteps (the CLI prints commands, the web UI will show buttons).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commhub.actions import Action, NextStep
from commhub.store.db import rowcount
from commhub.store.models import Alert, Edition, Series

# The kinds of alert commhub raises about editions.
APPROVAL_ALERT = "approval_needed"
PAUSE_ALERT = "edition_paused"
DOUBT_ALERT = "messages_in_doubt"
MISSED_ALERT = "edition_missed"  # found past its grace: not sent
WAITING_ALERT = "edition_waiting"  # due while the series' previous edition is under way
PREPARE_ALERT = "edition_not_prepared"  # its content or messages could not be made
PLAN_ALERT = "series_not_planned"  # its schedule cannot be worked out (a holiday too long)
REJECTED_ALERT = "edition_rejected"  # a reviewer sent it back, saying why
POSTS_ALERT = "posts_need_a_person"  # social posts failed or in doubt: live or post again?

# What a person can do about each kind of alert, in the order to do it.
_ACTIONS = {
    APPROVAL_ALERT: (Action.PREVIEW, Action.APPROVE),
    PAUSE_ALERT: (Action.RELEASE,),
    DOUBT_ALERT: (Action.SHOW_EDITION, Action.RESEND_UNKNOWN),
    MISSED_ALERT: (Action.RELEASE,),
    # WAITING_ALERT: none; its text names the edition under way, which it waits for.
    PREPARE_ALERT: (Action.RELEASE,),
    PLAN_ALERT: (Action.APPLY_SERIES,),
    REJECTED_ALERT: (Action.SHOW_EDITION, Action.CANCEL, Action.APPROVE),
    POSTS_ALERT: (Action.SHOW_EDITION, Action.SETTLE_POSTS),
}


@dataclass(frozen=True)
class AlertWithSteps:
    """An alert with what can be done about it."""

    alert: Alert
    next_steps: tuple[NextStep, ...]


def next_steps_for(alert: Alert, series_slug: str | None) -> tuple[NextStep, ...]:
    """What a person can do about an alert (of an edition of the series series_slug)."""
    return tuple(
        NextStep(action, alert.edition_id, series_slug) for action in _ACTIONS.get(alert.kind, ())
    )


def raise_alert(
    session: Session,
    kind: str,
    subject: str,
    message: str,
    now: datetime,
    edition_id: int | None = None,
) -> Alert:
    """Record an alert; an identical open alert is not raised twice."""
    existing = session.scalar(
        select(Alert).where(
            Alert.kind == kind,
            Alert.edition_id == edition_id
            if edition_id is not None
            else Alert.edition_id.is_(None),
            Alert.message == message,
            Alert.resolved_at.is_(None),
        )
    )
    if existing is not None:
        return existing
    alert = Alert(
        kind=kind, subject=_fit(subject, 300), message=message, edition_id=edition_id, raised_at=now
    )
    session.add(alert)
    session.flush()
    return alert


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def resolve_alerts(session: Session, edition_id: int, now: datetime, kinds: tuple[str, ...]) -> int:
    """Mark an edition's open alerts of these kinds resolved; returns how many."""
    result = session.execute(
        update(Alert)
        .where(Alert.edition_id == edition_id, Alert.kind.in_(kinds), Alert.resolved_at.is_(None))
        .values(resolved_at=now)
    )
    return rowcount(result)


def list_alerts(session: Session, include_resolved: bool = False) -> list[AlertWithSteps]:
    """Alerts, newest first, with their next steps; only the open ones unless include_resolved."""
    query = (
        select(Alert, Series.slug)
        .outerjoin(Edition, Edition.id == Alert.edition_id)
        .outerjoin(Series, Series.id == Edition.series_id)
        .order_by(Alert.raised_at.desc(), Alert.id.desc())
    )
    if not include_resolved:
        query = query.where(Alert.resolved_at.is_(None))
    return [
        AlertWithSteps(alert, next_steps_for(alert, slug)) for alert, slug in session.execute(query)
    ]

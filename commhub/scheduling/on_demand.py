"""What a person starts by hand, off the schedule: the next edition now, or one released.

The same rules as the schedule (one edition of a series under way at a time, each contact
in their own time zone's wave when the edition is on its date), plus one of its own: an
edition sent by hand within 12 hours of the series' last one would mail everyone again, so
it needs saying twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from commhub.actions import Action, NextStep
from commhub.config import Settings
from commhub.editions import (
    Preparation,
    prepare_edition,
    recent_edition,
    release_edition,
    start_edition,
)
from commhub.errors import Conflict
from commhub.render import Renderer
from commhub.scheduling.due import claim, local_waves
from commhub.scheduling.series import get_series
from commhub.store import AuditAction, Edition, EditionState, Series, record_action


def start_now(
    session: Session,
    series_slug: str,
    now: datetime,
    renderer: Renderer,
    settings: Settings,
    owner: str | None = None,
    again: bool = False,
) -> Preparation:
    """Start the series' next planned edition now (under owner's lease) and prepare it.

    Refused within 12 hours of the series' last edition unless again.
    """
    series = get_series(session, series_slug)
    _refuse_a_repeat(session, series, now, again)
    edition = start_edition(session, series, now, owner)
    record_action(
        session, AuditAction.SENT, "edition", edition.id,
        f"edition {edition.id} of {series_slug}: sent now by hand", now,
    )  # fmt: skip
    return prepare_edition(session, edition, now, renderer, settings, local_waves)


def send_next_soon(
    session: Session, series_slug: str, now: datetime, again: bool = False
) -> Edition:
    """Hand the series' next planned edition to the scheduler, due now: its next sweep starts
    it (the web UI's "send now": a web request prepares and sends nothing itself). With no
    planned edition, one is planned for now.

    Refused within 12 hours of the series' last edition unless again.
    """
    series = get_series(session, series_slug)
    _refuse_a_repeat(session, series, now, again)
    edition = session.scalar(
        select(Edition)
        .where(Edition.series_id == series.id, Edition.state == EditionState.PLANNED)
        .order_by(Edition.planned_at)
        .limit(1)
    )
    if edition is None:
        edition = Edition(series=series, planned_at=now, state=EditionState.PLANNED)
        session.add(edition)
    edition.due_at = now
    session.flush()
    record_action(
        session, AuditAction.SENT, "edition", edition.id,
        f"edition {edition.id} of {series_slug}: send now, handed to the scheduler", now,
    )  # fmt: skip
    return edition


def _refuse_a_repeat(session: Session, series: Series, now: datetime, again: bool) -> None:
    """An edition by hand within 12 hours of the last one would mail everyone again."""
    recent = None if again else recent_edition(session, series, now)
    if recent is not None:
        minutes = int((now - (recent.finished_at or now)).total_seconds() // 60)
        raise Conflict(
            f"edition {recent.id} of {series.slug} went out {minutes} minutes ago; "
            "another now would mail everyone again",
            [NextStep(Action.SEND_AGAIN, series=series.slug)],
        )


def release_now(session: Session, edition_id: int, now: datetime, owner: str) -> Edition:
    """Let a paused or held edition go on (under owner's lease); one planned again whose
    time has passed (it was missed, or paused past its date) is claimed to be sent now."""
    edition = release_edition(session, edition_id, now, owner)
    if edition.state is EditionState.PLANNED and edition.due_at <= now:
        claim(session, edition_id, now, owner)
    return edition

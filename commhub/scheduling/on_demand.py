"""What a person starts by hand, off the schedule: the next edition now, or one released.

The same rules as the schedule (one edition of a series under way at a time, each contact
in their own time zone's wave when the edition is on its date), plus one of its own: an
edition sent by hand within 12 hours of the series' last one would mail everyone again, so
it needs saying twice.
"""

from __future__ import annotations

from datetime import datetime

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
from commhub.store import AuditAction, Edition, EditionState, record_action


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
    recent = None if again else recent_edition(session, series, now)
    if recent is not None:
        minutes = int((now - (recent.finished_at or now)).total_seconds() // 60)
        raise Conflict(
            f"edition {recent.id} of {series_slug} went out {minutes} minutes ago; "
            "another now would mail everyone again",
            [NextStep(Action.SEND_AGAIN, series=series_slug)],
        )
    edition = start_edition(session, series, now, owner)
    record_action(
        session, AuditAction.SENT, "edition", edition.id,
        f"edition {edition.id} of {series_slug}: sent now by hand", now,
    )  # fmt: skip
    return prepare_edition(session, edition, now, renderer, settings, local_waves)


def release_now(session: Session, edition_id: int, now: datetime, owner: str) -> Edition:
    """Let a paused or held edition go on (under owner's lease); one planned again whose
    time has passed (it was missed, or paused past its date) is claimed to be sent now."""
    edition = release_edition(session, edition_id, now, owner)
    if edition.state is EditionState.PLANNED and edition.due_at <= now:
        claim(session, edition_id, now, owner)
    return edition

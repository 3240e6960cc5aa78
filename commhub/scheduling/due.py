"""What is due: each planned edition claimed once when its time comes, or marked missed.

claim takes one edition with one conditional UPDATE (planned -> sending, under the claimer's
lease), so any number of scheduler processes can try and only one succeeds; claim_due does
that for every due edition, up to what the caller can start. One found past its series'
grace is marked missed and raised as an alert instead: never sent late in silence, never
dropped. upcoming and interrupted tell a scheduler when to wake and what to resume.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commhub.editions import CLAIM_SECONDS, holder_is_dead, under_way
from commhub.scheduling.cadence import LocalWaves
from commhub.store import (
    MISSED_ALERT,
    WAITING_ALERT,
    Edition,
    EditionState,
    Message,
    MessageStatus,
    PostState,
    Series,
    SocialPost,
    raise_alert,
    resolve_alerts,
    rowcount,
)


@dataclass
class ClaimReport:
    claimed: list[int] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)
    # Due, but the series' previous edition is still under way.
    waiting: list[int] = field(default_factory=list)


def claim_due(session: Session, now: datetime, owner: str, limit: int | None = None) -> ClaimReport:
    """Start the planned editions that are due, each with one conditional UPDATE, under
    owner's lease, up to limit (what the caller can send now; the rest stay planned for
    another process or the next tick); mark those past their grace missed. Commit straight
    after: the claim is what stops another scheduler."""
    report = ClaimReport()
    due = session.execute(
        select(Edition.id, Edition.series_id, Edition.due_at, Edition.planned_at, Series)
        .join(Series, Series.id == Edition.series_id)
        .where(Edition.state == EditionState.PLANNED, Edition.due_at <= now)
        .order_by(Edition.due_at, Edition.id)
    ).all()
    for edition_id, series_id, due_at, planned_at, series in due:
        grace = timedelta(minutes=series.grace_minutes)
        if limit is not None and len(report.claimed) >= limit and now - due_at <= grace:
            continue
        if now - due_at > grace:
            if _mark_missed(session, edition_id, series, planned_at, due_at, grace, now):
                report.missed.append(edition_id)
            continue
        active = session.scalar(
            select(Edition.id).where(Edition.series_id == series_id, under_way()).limit(1)
        )
        if active is not None:
            report.waiting.append(edition_id)
            raise_alert(
                session, WAITING_ALERT, f"{series.name}: edition {edition_id} is waiting",
                f"Edition {edition_id} was due at {_local(planned_at, series.timezone)}, but "
                f"edition {active} of the series is still under way. It goes out once that "
                f"one ends, if within {_hours(grace)}.",
                now, edition_id,
            )  # fmt: skip
            continue
        if claim(session, edition_id, now, owner):
            report.claimed.append(edition_id)
    return report


def claim(session: Session, edition_id: int, now: datetime, owner: str) -> bool:
    """Start one planned edition under owner's lease: the one conditional UPDATE (planned
    -> sending) that lets any number of processes try and only one succeed."""
    try:
        with session.begin_nested():
            taken = session.execute(
                update(Edition)
                .where(Edition.id == edition_id, Edition.state == EditionState.PLANNED)
                .values(
                    state=EditionState.SENDING,
                    started_at=now,
                    lease_owner=owner,
                    lease_expires_at=now + timedelta(seconds=CLAIM_SECONDS),
                )
            )
    except IntegrityError:
        return False  # another process started an edition of this series just now
    if rowcount(taken) != 1:
        return False
    resolve_alerts(session, edition_id, now, (WAITING_ALERT,))
    return True


def _mark_missed(
    session: Session,
    edition_id: int,
    series: Series,
    planned_at: datetime,
    due_at: datetime,
    grace: timedelta,
    now: datetime,
) -> bool:
    late = now - due_at
    reason = (
        f"not started: found {_hours(late)} after it was due, past the series' grace of "
        f"{_hours(grace)} (no scheduler was running, or the previous edition was under way)"
    )
    marked = session.execute(
        update(Edition)
        .where(Edition.id == edition_id, Edition.state == EditionState.PLANNED)
        .values(state=EditionState.MISSED, finished_at=now, state_reason=reason)
    )
    if rowcount(marked) != 1:
        return False
    resolve_alerts(session, edition_id, now, (WAITING_ALERT,))
    raise_alert(
        session, MISSED_ALERT,
        f"{series.name}: the edition of {_local(planned_at, series.timezone)} was missed",
        f"Edition {edition_id} was {reason}. Nothing was sent. Release it to send it now "
        "anyway.",
        now, edition_id,
    )  # fmt: skip
    return True


def _local(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def _hours(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours >= 48:
        return f"{hours // 24} days"
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def upcoming(session: Session, now: datetime, within: timedelta) -> list[tuple[int, datetime]]:
    """What comes due after now and within `within` (edition id, when), soonest first:
    planned editions, and the next wave of local-time editions under way."""
    planned = session.execute(
        select(Edition.id, Edition.due_at).where(
            Edition.state == EditionState.PLANNED,
            Edition.due_at > now,
            Edition.due_at <= now + within,
        )
    )
    waves = session.execute(
        select(Message.edition_id, func.min(Message.next_attempt_at))
        .join(Edition, Edition.id == Message.edition_id)
        .where(
            Edition.state == EditionState.SENDING,
            Message.status == MessageStatus.QUEUED,
            Message.next_attempt_at > now,
            Message.next_attempt_at <= now + within,
        )
        .group_by(Message.edition_id)
    )
    return sorted([(i, t) for i, t in [*planned, *waves]], key=lambda found: found[1])


def interrupted(session: Session, now: datetime) -> list[int]:
    """Editions left `sending` that nobody is sending (no claim, an expired one, or one held
    by a process on this machine that has exited) and that have something to do now: not
    prepared yet, messages due or in doubt, or nothing left but to be finished. One whose
    messages all wait for a later wave is left until then."""
    pending = select(Message.id).where(
        Message.edition_id == Edition.id,
        Message.status.in_((MessageStatus.QUEUED, MessageStatus.SENDING)),
    )
    due = pending.where(
        or_(
            Message.status == MessageStatus.SENDING,
            Message.next_attempt_at.is_(None),
            Message.next_attempt_at <= now,
        )
    )
    # A social edition's posts, likewise: planned or in doubt, and due.
    pending_posts = select(SocialPost.id).where(
        SocialPost.edition_id == Edition.id,
        SocialPost.state.in_((PostState.PLANNED, PostState.POSTING)),
    )
    due_posts = pending_posts.where(
        or_(
            SocialPost.state == PostState.POSTING,
            SocialPost.next_attempt_at.is_(None),
            SocialPost.next_attempt_at <= now,
        )
    )
    rows = session.execute(
        select(Edition.id, Edition.lease_owner, Edition.lease_expires_at)
        .where(
            Edition.state == EditionState.SENDING,
            or_(
                Edition.prepared_at.is_(None),
                due.exists(),
                due_posts.exists(),
                ~pending.exists() & ~pending_posts.exists(),
            ),
        )
        .order_by(Edition.id)
    )
    return [
        edition_id
        for edition_id, owner, expires in rows
        if not owner or (expires is not None and expires <= now) or holder_is_dead(owner)
    ]


def local_waves(edition: Edition, now: datetime) -> LocalWaves | None:
    """The waves of a local-time edition started now (each contact at the series' wall time
    in their own zone); None for an edition that goes to everyone at once."""
    series = edition.series
    return LocalWaves(edition.planned_at, series.timezone, now) if series.local_time else None

"""An edition's life: start it, approve, pause, release and cancel it, and the questions
people ask of it (preparing it is editions.preparation).

    planned -> (prepare) -> sending -> sent
                         -> held (awaiting approval) -> (approve) -> sending
                         -> empty (nothing new for anyone)
    sending -> paused (failures, an unusable back end) -> (release) -> sending
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commhub.actions import Action, NextStep
from commhub.editions.leases import CLAIM_SECONDS
from commhub.editions.message_store import (
    counts_by_role_set,
    listed_status_counts,
    messages_in,
    requeue,
    skip_queued,
    skip_reasons,
    status_counts,
)
from commhub.errors import Conflict, EditionUnderWay, InvalidInput, NotFound, Problem
from commhub.render import (
    EditionFacts,
)
from commhub.store import (
    APPROVAL_ALERT,
    DOUBT_ALERT,
    MISSED_ALERT,
    PAUSE_ALERT,
    PREPARE_ALERT,
    REJECTED_ALERT,
    Alert,
    AlertWithSteps,
    AuditAction,
    Channel,
    Edition,
    EditionRender,
    EditionState,
    MessageStatus,
    Series,
    SkipReason,
    User,
    next_steps_for,
    raise_alert,
    record_action,
    resolve_alerts,
    rowcount,
)
from commhub.text import without_controls

AWAITING_APPROVAL = "awaiting approval"
REJECTED = "rejected: "  # + the reviewer's comment: held until approved after all, or cancelled
RECENT = timedelta(hours=12)
# An edition in one of these states is under way: no second edition of the series starts.
ACTIVE_STATES = (EditionState.SENDING, EditionState.PAUSED, EditionState.HELD)


def under_way() -> ColumnElement[bool]:
    """An edition started and not finished: no second edition of its series may start."""
    return and_(Edition.state.in_(ACTIVE_STATES), Edition.started_at.is_not(None))


def start_edition(
    session: Session, series: Series, now: datetime, owner: str | None = None
) -> Edition:
    """Claim the series' next planned edition for sending now (under owner's lease, if
    given), or create one for now.

    Refuses while another edition of the series is under way: two at once would carry the
    same new items.
    """
    # Serialise edition starts per series (PostgreSQL takes a row lock; SQLite has one writer).
    session.execute(select(Series.id).where(Series.id == series.id).with_for_update())
    active = session.scalar(
        select(Edition)
        .where(Edition.series_id == series.id, under_way())
        .order_by(Edition.id)
        .limit(1)
    )
    if active is not None:
        raise EditionUnderWay(
            f"edition {active.id} of {series.slug} is {describe_state(active)}",
            next_steps(active),
        )
    edition = session.scalar(
        select(Edition)
        .where(Edition.series_id == series.id, Edition.state == EditionState.PLANNED)
        .order_by(Edition.planned_at)
        .limit(1)
    )
    if edition is None:
        edition = Edition(series=series, planned_at=now, state=EditionState.PLANNED)
        session.add(edition)
        session.flush()
    try:
        claimed = session.execute(
            update(Edition)
            .where(Edition.id == edition.id, Edition.state == EditionState.PLANNED)
            .values(state=EditionState.SENDING, started_at=now, **_lease(owner, now))
            .execution_options(synchronize_session="fetch")
        )
    except IntegrityError:
        # Another process started an edition of this series between our check and here.
        raise Conflict(f"another edition of {series.slug} was started just now") from None
    if rowcount(claimed) != 1:
        raise Conflict(f"edition {edition.id} was claimed by another process")
    session.refresh(edition)
    return edition


def edition_facts(edition: Edition) -> EditionFacts:
    """What a template may know of an edition."""
    series = edition.series
    return EditionFacts(
        series_name=series.name,
        series_slug=series.slug,
        subject_template=series.subject,
        planned_at=edition.planned_at,
        timezone=series.timezone,
        edition_id=edition.id,
    )


def recent_edition(
    session: Session, series: Series, now: datetime, within: timedelta = RECENT
) -> Edition | None:
    """The series' edition that went out within `within` of now, if any: sending another
    at once would mail everyone twice in a short while."""
    return session.scalar(
        select(Edition)
        .where(
            Edition.series_id == series.id,
            Edition.state == EditionState.SENT,
            Edition.finished_at > now - within,
        )
        .order_by(Edition.finished_at.desc())
        .limit(1)
    )


def cancel_edition(session: Session, edition_id: int, now: datetime) -> int:
    """Cancel an edition that has not finished; its unsent messages are skipped, its items
    are free for the next edition. A send under way stops after the batch in flight."""
    edition = get_edition(session, edition_id)
    if edition.state not in (*ACTIVE_STATES, EditionState.PLANNED):
        raise Conflict(f"edition {edition_id} is {edition.state.value}: it cannot be cancelled")
    edition.state = EditionState.CANCELLED
    edition.state_reason = "cancelled"
    edition.finished_at = now
    skipped = skip_queued(session, edition_id, SkipReason.CANCELLED, now)
    resolve_alerts(session, edition_id, now, (APPROVAL_ALERT, PAUSE_ALERT))
    _audit(session, AuditAction.CANCELLED, edition, now, f"{skipped} unsent messages skipped")
    return skipped


def get_edition(session: Session, edition_id: int) -> Edition:
    edition = session.get(Edition, edition_id)
    if edition is None:
        raise NotFound(f"no edition {edition_id}", [NextStep(Action.LIST_EDITIONS)])
    return edition


def next_steps(edition: Edition) -> tuple[NextStep, ...]:
    """What a person can do next with an edition (nothing, once it is over)."""
    actions = _next_actions(edition.state, edition.state_reason)
    return tuple(NextStep(action, edition.id, edition.series.slug) for action in actions)


def actions_for(edition: Edition) -> tuple[NextStep, ...]:
    """Everything a person can do with an edition now: its next steps, then pausing and
    cancelling where its state allows them."""
    return steps_for_state(edition.id, edition.series.slug, edition.state, edition.state_reason)


def steps_for_state(
    edition_id: int, series_slug: str, state: EditionState, reason: str | None
) -> tuple[NextStep, ...]:
    """actions_for from an edition's columns alone: for lists (the calendar) that read
    columns, not rows."""
    extra = []
    if state in (EditionState.PLANNED, EditionState.SENDING):
        extra.append(Action.PAUSE)
    if state in (*ACTIVE_STATES, EditionState.PLANNED):
        extra.append(Action.CANCEL)
    actions = (*_next_actions(state, reason), *extra)
    return tuple(NextStep(action, edition_id, series_slug) for action in actions)


def _next_actions(state: EditionState, reason: str | None) -> tuple[Action, ...]:
    match state:
        case EditionState.HELD if _awaiting(state, reason):
            return (Action.PREVIEW, Action.APPROVE)
        case EditionState.HELD | EditionState.PAUSED:
            return (Action.RELEASE,)
        case EditionState.SENDING:
            return (Action.RESUME,)
        case _:
            return ()


def describe_state(edition: Edition) -> str:
    """An edition's state, with its reason when it has one: "held (awaiting approval)"."""
    reason = f" ({edition.state_reason})" if edition.state_reason else ""
    return f"{edition.state.value}{reason}"


def progress_note(edition: Edition, now: datetime) -> str | None:
    """Words for an edition that is moving now (None when it waits for a date or a person,
    or is over): what a page that follows its progress shows."""
    if edition.state is EditionState.PLANNED and edition.due_at <= now:
        return "due now: a scheduler starts it within a minute"
    if edition.state is not EditionState.SENDING:
        return None
    expires = edition.lease_expires_at
    if edition.lease_owner is None or (expires is not None and expires <= now):
        return "waiting for a scheduler to take it up, within a minute"
    return "sending"


def approve_edition(
    session: Session,
    edition_id: int,
    now: datetime,
    approver: User | None = None,
    owner: str | None = None,
) -> Edition:
    """Approve an edition held for approval, which is then ready to send; or a planned one
    ahead of its date, which then goes out on it without being held."""
    edition = get_edition(session, edition_id)
    if edition.approved_at is not None:
        raise Conflict(
            f"edition {edition_id} was approved at {edition.approved_at:%Y-%m-%d %H:%M} UTC"
        )
    held = awaiting_decision(edition)
    if not held and edition.state is not EditionState.PLANNED:
        raise Conflict(f"edition {edition_id} is {edition.state.value}, not awaiting approval")
    edition.approved_at = now
    edition.approved_by_id = approver.id if approver else None
    if held:
        edition.state = EditionState.SENDING
        edition.state_reason = None
        _take_lease(edition, owner, now)
    resolve_alerts(session, edition_id, now, (APPROVAL_ALERT, REJECTED_ALERT))
    _audit(session, AuditAction.APPROVED, edition, now)
    return edition


def awaiting_decision(edition: Edition) -> bool:
    """Held for approval: not yet reviewed, or sent back by a reviewer."""
    return _awaiting(edition.state, edition.state_reason)


def _awaiting(state: EditionState, reason: str | None) -> bool:
    reason = reason or ""
    return state is EditionState.HELD and (
        reason == AWAITING_APPROVAL or reason.startswith(REJECTED)
    )


def reject_edition(session: Session, edition_id: int, now: datetime, comment: str) -> Edition:
    """Send an edition awaiting approval back with the reviewer's reason: it stays held, and
    nothing goes out, until someone approves it after all or cancels it."""
    edition = get_edition(session, edition_id)
    if not awaiting_decision(edition):
        raise Conflict(f"edition {edition_id} is {describe_state(edition)}, not awaiting approval")
    reason = " ".join(without_controls(comment).split())
    if not reason:
        raise InvalidInput([Problem("reject", "say what needs to change", "comment")])
    edition.state_reason = (REJECTED + reason)[:500]
    resolve_alerts(session, edition_id, now, (APPROVAL_ALERT,))
    raise_alert(
        session, REJECTED_ALERT, f"{edition.series.name}: edition {edition_id} was rejected",
        f"Sent back: {reason}. Fix what it says, then cancel it and send a new edition, or "
        "approve it after all.", now, edition_id,
    )  # fmt: skip
    _audit(session, AuditAction.REJECTED, edition, now, reason)
    return edition


def pause_edition(session: Session, edition_id: int, now: datetime) -> Edition:
    """Pause an edition: one under way stops after the batch in flight; a planned one is
    not started on its date until released."""
    edition = get_edition(session, edition_id)
    if edition.state not in (EditionState.PLANNED, EditionState.SENDING):
        raise Conflict(f"edition {edition_id} is {edition.state.value}: it cannot be paused")
    edition.state = EditionState.PAUSED
    edition.state_reason = f"paused by a person at {now:%Y-%m-%d %H:%M} UTC"
    _audit(session, AuditAction.PAUSED, edition, now)
    return edition


def release_edition(
    session: Session, edition_id: int, now: datetime, owner: str | None = None
) -> Edition:
    """Let a paused or held edition go on sending (under owner's lease, if given); one
    paused before it started, or missed, is planned again, due at once if its time has
    passed."""
    edition = get_edition(session, edition_id)
    if edition.state is EditionState.MISSED:
        edition.state, edition.state_reason, edition.finished_at = EditionState.PLANNED, None, None
        edition.due_at = now
        resolve_alerts(session, edition_id, now, (MISSED_ALERT,))
        _audit(session, AuditAction.RELEASED, edition, now, "missed: planned again, due now")
        return edition
    if awaiting_decision(edition):
        raise Conflict(f"edition {edition_id} needs approval first", next_steps(edition))
    if edition.state not in (EditionState.HELD, EditionState.PAUSED):
        raise Conflict(f"edition {edition_id} is {edition.state.value}: nothing to release")
    edition.state_reason = None
    if edition.started_at is None:
        edition.state = EditionState.PLANNED
        edition.due_at = max(edition.due_at, now)
        _audit(session, AuditAction.RELEASED, edition, now, "planned again")
        return edition
    edition.state = EditionState.SENDING
    _take_lease(edition, owner, now)
    resolve_alerts(session, edition_id, now, (PAUSE_ALERT, PREPARE_ALERT))
    _audit(session, AuditAction.RELEASED, edition, now, "sending again")
    return edition


def _audit(
    session: Session, action: AuditAction, edition: Edition, now: datetime, detail: str = ""
) -> None:
    label = f"edition {edition.id} of {edition.series.slug}"
    record_action(
        session, action, "edition", edition.id, f"{label}: {detail}" if detail else label, now
    )


def _lease(owner: str | None, now: datetime) -> dict[str, Any]:
    """The lease columns for a state change made by owner: no scheduler takes the edition
    between the change and owner's sender starting."""
    if owner is None:
        return {}
    return {"lease_owner": owner, "lease_expires_at": now + timedelta(seconds=CLAIM_SECONDS)}


def _take_lease(edition: Edition, owner: str | None, now: datetime) -> None:
    for column, value in _lease(owner, now).items():
        setattr(edition, column, value)


def prepare_resend_unknown(
    session: Session, edition_id: int, now: datetime, owner: str | None = None
) -> int:
    """Queue an edition's in-doubt messages again (the operator accepts possible duplicates)."""
    edition = get_edition(session, edition_id)
    if edition.state not in (EditionState.SENDING, EditionState.SENT):
        raise Conflict(f"edition {edition_id} is {describe_state(edition)}", next_steps(edition))
    count = requeue(session, edition_id, MessageStatus.UNKNOWN, now)
    if count == 0:
        raise Conflict(f"edition {edition_id} has no messages in doubt")
    edition.state = EditionState.SENDING
    edition.finished_at = None
    _take_lease(edition, owner, now)
    resolve_alerts(session, edition_id, now, (DOUBT_ALERT,))
    return count


@dataclass(frozen=True)
class EditionSummary:
    id: int
    series: str
    planned_at: datetime
    state: EditionState
    state_reason: str | None
    recipients: int
    counts: Counter[MessageStatus]
    series_name: str = ""
    started_at: datetime | None = None
    channel: Channel = Channel.NEWSLETTER


def list_editions(session: Session, limit: int = 50, offset: int = 0) -> list[EditionSummary]:
    """The newest editions that have started, with their message counts (the planned ones
    are the calendar's); a page of them from offset."""
    editions = session.execute(
        select(Edition, Series.slug, Series.name, Series.channel)
        .join(Series, Series.id == Edition.series_id)
        .where(Edition.state != EditionState.PLANNED)
        .order_by(Edition.planned_at.desc(), Edition.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    counts = listed_status_counts(session, [edition.id for edition, *_series in editions])
    return [
        EditionSummary(
            edition.id,
            slug,
            edition.planned_at,
            edition.state,
            edition.state_reason,
            edition.recipient_count,
            counts[edition.id],
            name,
            edition.started_at,
            channel,
        )
        for edition, slug, name, channel in editions
    ]


@dataclass(frozen=True)
class EditionDetail:
    summary: EditionSummary
    by_role_set: dict[str, Counter[MessageStatus]]
    skip_reasons: Counter[str]
    notes: dict[str, Any]
    alerts: list[AlertWithSteps]
    unknown: list[tuple[int, str, str | None]]
    failed: list[tuple[int, str, str | None]]
    renders: int
    approved_at: datetime | None
    approved_by: str | None


def edition_detail(session: Session, edition_id: int) -> EditionDetail:
    """Everything `editions show` tells about one edition."""
    edition = get_edition(session, edition_id)
    return EditionDetail(
        summary=EditionSummary(
            edition.id,
            edition.series.slug,
            edition.planned_at,
            edition.state,
            edition.state_reason,
            edition.recipient_count,
            status_counts(session, edition.id),
            edition.series.name,
            edition.started_at,
            edition.series.channel,
        ),
        by_role_set=counts_by_role_set(session, edition_id),
        skip_reasons=skip_reasons(session, edition_id),
        notes=edition.notes,
        alerts=[
            AlertWithSteps(alert, next_steps_for(alert, edition.series.slug))
            for alert in session.scalars(
                select(Alert).where(Alert.edition_id == edition_id).order_by(Alert.raised_at)
            )
        ],
        unknown=messages_in(session, edition_id, MessageStatus.UNKNOWN),
        failed=messages_in(session, edition_id, MessageStatus.FAILED),
        approved_at=edition.approved_at,
        approved_by=_user_email(session, edition.approved_by_id) or "the command line",
        renders=session.scalar(select(func.count()).where(EditionRender.edition_id == edition_id))
        or 0,
    )


def _user_email(session: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    return user.email if user else None


def editions_to_resume(session: Session) -> list[int]:
    """Editions left `sending` (their sender stopped): resume sends them."""
    return list(
        session.scalars(
            select(Edition.id).where(Edition.state == EditionState.SENDING).order_by(Edition.id)
        )
    )

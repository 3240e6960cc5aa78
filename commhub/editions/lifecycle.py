"""An edition's life: start it, prepare it (content, links, messages, renders), approve,
release, and the questions people ask of it.

    planned -> (prepare) -> sending -> sent
                         -> held (awaiting approval) -> (approve) -> sending
                         -> empty (nothing new for anyone)
    sending -> paused (failures, an unusable back end) -> (release) -> sending

Preparing happens in one transaction: an edition either has its content, links, renders and
every message queued, or none of them.

Under a series' rule of seven, each contact's email leaves out the items whose key message
that contact has seen seven times across three formats: such an email is a variant of its
role set's, compiled once for everyone it fits, and a contact left with nothing gets none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commhub.actions import Action, NextStep
from commhub.config import Settings
from commhub.editions.leases import CLAIM_SECONDS
from commhub.editions.message_store import (
    QueuedMessage,
    counts_by_role_set,
    grouped_by_role_set,
    messages_in,
    queue_messages,
    requeue,
    skip_queued,
    skip_reasons,
    status_counts,
    status_counts_of,
)
from commhub.editions.recipients import audience_members
from commhub.editions.selection import (
    carried_content,
    pick_content,
    record_picks,
    series_audiences,
)
from commhub.errors import Conflict, EditionUnderWay, NotFound
from commhub.render import (
    CLIPPED_HTML_BYTES,
    ContentPlan,
    EditionFacts,
    Renderer,
    Section,
    Sender,
    TrackedLinks,
    html_placeholder,
    leave_out,
    raw_placeholder,
)
from commhub.store import (
    APPROVAL_ALERT,
    DOUBT_ALERT,
    FULL,
    MISSED_ALERT,
    PAUSE_ALERT,
    PREPARE_ALERT,
    Alert,
    Edition,
    EditionLink,
    EditionRender,
    EditionState,
    MessageStatus,
    OpenAlert,
    Series,
    SkipReason,
    User,
    next_steps_for,
    raise_alert,
    resolve_alerts,
    rowcount,
    variant_without,
)
from commhub.tracking import hold_reason, seen_enough

AWAITING_APPROVAL = "awaiting approval"
RECENT = timedelta(hours=12)
# An edition in one of these states is under way: no second edition of the series starts.
ACTIVE_STATES = (EditionState.SENDING, EditionState.PAUSED, EditionState.HELD)


def under_way() -> ColumnElement[bool]:
    """An edition started and not finished: no second edition of its series may start."""
    return and_(Edition.state.in_(ACTIVE_STATES), Edition.started_at.is_not(None))


@dataclass
class Preparation:
    """What preparing an edition found and queued."""

    edition: Edition
    plan: ContentPlan
    counts: Counter[MessageStatus] = field(default_factory=Counter)
    role_sets: Counter[str] = field(default_factory=Counter)
    nothing_new: Counter[str] = field(default_factory=Counter)
    # Rule of seven: contacts who had seen every key message of their email seven times
    # across three formats, so got no email, per role set ...
    seen_enough: Counter[str] = field(default_factory=Counter)
    # ... and contacts whose email left some items out for that reason.
    left_out: Counter[str] = field(default_factory=Counter)
    # Role sets whose HTML is long enough for Gmail to clip it (bytes).
    too_long: dict[str, int] = field(default_factory=dict)


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


class Waves(Protocol):
    """When each contact's message of an edition goes, by the contact's time zone."""

    def wave_of(self, zone_name: str | None) -> datetime | None:
        """The time the contact's message goes; None if it is due already."""


# The waves of an edition started now: None when everyone's message goes at once. The
# schedule's time-zone math lives with the cadences; editions are handed its answer.
WavesFor = Callable[[Edition, datetime], Waves | None]


def prepare_edition(
    session: Session,
    edition: Edition,
    now: datetime,
    renderer: Renderer,
    settings: Settings,
    waves_for: WavesFor,
) -> Preparation:
    """Pick the content, queue one message per contact and compile each role set once.

    An edition prepared already (approved ahead of its date) is left as it is.
    """
    series = edition.series
    if edition.prepared_at is not None:
        return Preparation(
            edition, carried_content(session, edition), status_counts(session, edition.id),
            Counter(edition.notes.get("role_sets", {})),
            Counter(edition.notes.get("nothing_new", {})),
            Counter(edition.notes.get("seen_enough", {})),
            Counter(edition.notes.get("left_out", {})),
        )  # fmt: skip
    plan = pick_content(session, series, now, edition.id)
    preparation = Preparation(edition, plan)
    sections_of: dict[tuple[str, ...], list[Section]] = {}
    # What each contact has seen enough of (rule of seven), and each variant's sections.
    saturated = (
        seen_enough(session, {i.key_message_id for i in plan.items() if i.key_message_id})
        if series.rule_of_seven
        else {}
    )
    variants: dict[tuple[str, str], list[Section]] = {}
    # The renders to compile, (role set, variant) -> sections, in the order first used.
    renders: dict[tuple[str, str], list[Section]] = {}
    # In waves when started on schedule; sent ahead of its date (send now), it goes now.
    on_schedule = edition.due_at <= now
    waves = waves_for(edition, now) if on_schedule else None

    def messages() -> Iterator[QueuedMessage]:
        members = audience_members(
            session, series_audiences(session, series), series.partner_filter,
            series.channel, now.date(),
        )  # fmt: skip
        for member in members:
            sections = sections_of.get(member.role_set)
            if sections is None:
                sections = sections_of[member.role_set] = plan.sections(member.role_set)
            key = ",".join(member.role_set)
            if not sections:
                preparation.nothing_new[key] += 1
                continue
            variant = FULL
            # A contact who may not be sent to is never sent this: no variant for them.
            seen = saturated.get(member.contact_id) if member.skip_reason is None else None
            if seen:
                left = [i.id for s in sections for i in s.items if i.key_message_id in seen]
                if left:
                    variant = variant_without(left)
                    kept = variants.get((key, variant))
                    if kept is None:
                        kept = variants[key, variant] = leave_out(sections, set(left))
                    if not kept:
                        preparation.seen_enough[key] += 1
                        continue
                    sections = kept
                    preparation.left_out[key] += 1
            renders.setdefault((key, variant), sections)
            preparation.role_sets[key] += 1
            wave = waves.wave_of(member.timezone) if waves else None
            yield QueuedMessage(member.contact_id, key, member.skip_reason, wave, variant)

    preparation.counts = queue_messages(
        session, edition.id, series.channel, grouped_by_role_set(messages()), now
    )
    edition.prepared_at = now
    edition.recipient_count = sum(preparation.counts.values())
    edition.notes = _notes(preparation)
    if not preparation.role_sets:
        edition.state = EditionState.EMPTY
        edition.finished_at = now
        edition.state_reason = _empty_reason(preparation)
        return preparation

    covered = {slug for key in preparation.role_sets for slug in key.split(",")}
    carried = ContentPlan(plan.audiences, {s: i for s, i in plan.picks.items() if s in covered})
    record_picks(session, edition, carried)
    link_ids = _store_links(session, edition, carried)
    facts = edition_facts(edition)
    sender = Sender(settings.org_name, settings.postal_address)
    html_links = TrackedLinks(settings.base_url, html_placeholder("token"))
    text_links = TrackedLinks(settings.base_url, raw_placeholder("token"))
    template = series.template or series.channel.value
    for (key, variant), sections in renders.items():
        compiled = renderer.compile(
            template, facts, sections, sender, link_ids, html_links, text_links
        )
        size = len(compiled.html.source().encode("utf-8"))
        if size > CLIPPED_HTML_BYTES:
            preparation.too_long[f"{key} ({variant})" if variant else key] = size
        session.add(
            EditionRender(
                edition_id=edition.id,
                role_set=key,
                variant=variant,
                link_ids=sorted(link_ids[item.id] for s in sections for item in s.items),
                subject=compiled.subject.source(),
                html=compiled.html.source(),
                text=compiled.text.source(),
                created_at=now,
            )
        )
    if preparation.too_long:
        edition.notes = {**edition.notes, "too_long": preparation.too_long}
    complaints = hold_reason(session, now)
    if complaints is not None:
        edition.state = EditionState.HELD
        edition.state_reason = complaints[:500]
        raise_alert(
            session, PAUSE_ALERT, f"{series.name}: edition {edition.id} held for complaints",
            f"Edition {edition.id} is held: the {complaints}. Release it once you have checked.",
            now, edition.id,
        )  # fmt: skip
    elif series.requires_approval and edition.approved_at is None:
        edition.state = EditionState.HELD
        edition.state_reason = AWAITING_APPROVAL
        raise_alert(
            session, APPROVAL_ALERT, f"{series.name}: edition {edition.id} needs approval",
            f"Edition {edition.id} goes out once a person has previewed and approved it.",
            now, edition.id,
        )  # fmt: skip
    session.flush()
    return preparation


def ensure_prepared(
    session: Session,
    edition_id: int,
    now: datetime,
    renderer: Renderer,
    settings: Settings,
    waves_for: WavesFor,
) -> Edition:
    """The edition, prepared if it is `sending` but not prepared yet (a scheduler claimed it
    and stopped, or preparing it failed and a person released it)."""
    edition = get_edition(session, edition_id)
    if edition.state is EditionState.SENDING and edition.prepared_at is None:
        prepare_edition(session, edition, now, renderer, settings, waves_for)
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


def _store_links(session: Session, edition: Edition, plan: ContentPlan) -> dict[int, int]:
    """Give every item of the edition a link id, the same for every contact."""
    link_ids: dict[int, int] = {}
    for link_id, item in enumerate(plan.items(), start=1):
        session.add(
            EditionLink(
                edition_id=edition.id, link_id=link_id, content_item_id=item.id, url=item.url
            )
        )
        link_ids[item.id] = link_id
    session.flush()
    return link_ids


def _empty_reason(preparation: Preparation) -> str:
    if preparation.seen_enough and preparation.nothing_new:
        return "nothing new, or nothing not seen enough (rule of seven), for anyone"
    if preparation.seen_enough:
        return "everyone had seen its key messages seven times across three formats"
    if preparation.nothing_new:
        return "nothing new for anyone"
    return "no contacts in its audiences"


def _notes(preparation: Preparation) -> dict[str, Any]:
    return {
        "role_sets": dict(sorted(preparation.role_sets.items())),
        "nothing_new": dict(sorted(preparation.nothing_new.items())),
        "seen_enough": dict(sorted(preparation.seen_enough.items())),
        "left_out": dict(sorted(preparation.left_out.items())),
        "items": {slug: [i.slug for i in items] for slug, items in preparation.plan.picks.items()},
    }


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
    return skipped


def get_edition(session: Session, edition_id: int) -> Edition:
    edition = session.get(Edition, edition_id)
    if edition is None:
        raise NotFound(f"no edition {edition_id}", [NextStep(Action.LIST_EDITIONS)])
    return edition


def next_steps(edition: Edition) -> tuple[NextStep, ...]:
    """What a person can do next with an edition (nothing, once it is over)."""
    match edition.state:
        case EditionState.HELD if edition.state_reason == AWAITING_APPROVAL:
            actions: tuple[Action, ...] = (Action.PREVIEW, Action.APPROVE)
        case EditionState.HELD | EditionState.PAUSED:
            actions = (Action.RELEASE,)
        case EditionState.SENDING:
            actions = (Action.RESUME,)
        case _:
            actions = ()
    return tuple(NextStep(action, edition.id, edition.series.slug) for action in actions)


def describe_state(edition: Edition) -> str:
    """An edition's state, with its reason when it has one: "held (awaiting approval)"."""
    reason = f" ({edition.state_reason})" if edition.state_reason else ""
    return f"{edition.state.value}{reason}"


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
    held = edition.state is EditionState.HELD and edition.state_reason == AWAITING_APPROVAL
    if not held and edition.state is not EditionState.PLANNED:
        raise Conflict(f"edition {edition_id} is {edition.state.value}, not awaiting approval")
    edition.approved_at = now
    edition.approved_by_id = approver.id if approver else None
    if held:
        edition.state = EditionState.SENDING
        edition.state_reason = None
        _take_lease(edition, owner, now)
    resolve_alerts(session, edition_id, now, (APPROVAL_ALERT,))
    return edition


def pause_edition(session: Session, edition_id: int, now: datetime) -> Edition:
    """Pause an edition: one under way stops after the batch in flight; a planned one is
    not started on its date until released."""
    edition = get_edition(session, edition_id)
    if edition.state not in (EditionState.PLANNED, EditionState.SENDING):
        raise Conflict(f"edition {edition_id} is {edition.state.value}: it cannot be paused")
    edition.state = EditionState.PAUSED
    edition.state_reason = f"paused by a person at {now:%Y-%m-%d %H:%M} UTC"
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
        return edition
    if edition.state is EditionState.HELD and edition.state_reason == AWAITING_APPROVAL:
        raise Conflict(f"edition {edition_id} needs approval first", next_steps(edition))
    if edition.state not in (EditionState.HELD, EditionState.PAUSED):
        raise Conflict(f"edition {edition_id} is {edition.state.value}: nothing to release")
    edition.state_reason = None
    if edition.started_at is None:
        edition.state = EditionState.PLANNED
        edition.due_at = max(edition.due_at, now)
        return edition
    edition.state = EditionState.SENDING
    _take_lease(edition, owner, now)
    resolve_alerts(session, edition_id, now, (PAUSE_ALERT, PREPARE_ALERT))
    return edition


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


def list_editions(session: Session, limit: int = 50) -> list[EditionSummary]:
    """The newest editions that have started, with their message counts (the planned ones
    are the calendar's)."""
    editions = session.execute(
        select(Edition, Series.slug)
        .join(Series, Series.id == Edition.series_id)
        .where(Edition.state != EditionState.PLANNED)
        .order_by(Edition.planned_at.desc(), Edition.id.desc())
        .limit(limit)
    ).all()
    counts = status_counts_of(session, [edition.id for edition, _slug in editions])
    return [
        EditionSummary(
            edition.id,
            slug,
            edition.planned_at,
            edition.state,
            edition.state_reason,
            edition.recipient_count,
            counts[edition.id],
        )
        for edition, slug in editions
    ]


@dataclass(frozen=True)
class EditionDetail:
    summary: EditionSummary
    by_role_set: dict[str, Counter[MessageStatus]]
    skip_reasons: Counter[str]
    notes: dict[str, Any]
    alerts: list[OpenAlert]
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
        ),
        by_role_set=counts_by_role_set(session, edition_id),
        skip_reasons=skip_reasons(session, edition_id),
        notes=edition.notes,
        alerts=[
            OpenAlert(alert, next_steps_for(alert, edition.series.slug))
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

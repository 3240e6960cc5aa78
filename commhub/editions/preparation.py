"""Preparing an edition: pick its content, address a message to each contact, compile each
role set once, and hold it if it must wait for a person.

Addressing is the pure step: fed the audience's members in id order, it says what each gets
(the role set's render, a variant of it without what they have seen enough of, or nothing)
and keeps the tallies and the renders those messages need. prepare_edition writes what it
finds, all in one transaction: an edition has its content, links, renders and every message
queued, or none of them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from commhub.config import Settings
from commhub.editions.accounts import accounts_of
from commhub.editions.lifecycle import AWAITING_APPROVAL, edition_facts, get_edition
from commhub.editions.message_store import (
    QueuedMessage,
    grouped_by_role_set,
    queue_messages,
    status_counts,
)
from commhub.editions.posts import plan_posts, queue_posts
from commhub.editions.recipients import AudienceMember, audience_members
from commhub.editions.selection import (
    carried_content,
    pick_content,
    record_picks,
    series_audiences,
)
from commhub.render import (
    CLIPPED_HTML_BYTES,
    ContentPlan,
    Renderer,
    Section,
    Sender,
    SocialComposer,
    TrackedLinks,
    html_placeholder,
    leave_out,
    raw_placeholder,
)
from commhub.store import (
    APPROVAL_ALERT,
    FULL,
    PAUSE_ALERT,
    Channel,
    Edition,
    EditionLink,
    EditionRender,
    EditionState,
    MessageStatus,
    RoleSet,
    raise_alert,
    variant_without,
)
from commhub.tracking import hold_reason, seen_enough

# A render of an edition: its role set (audience slugs, comma-joined) and variant.
RenderKey = tuple[str, str]


class Waves(Protocol):
    """When each contact's message of an edition goes, by the contact's time zone."""

    def wave_of(self, zone_name: str | None) -> datetime | None:
        """The time the contact's message goes; None if it is due already."""


# The waves of an edition started now: None when everyone's message goes at once. The
# schedule's time-zone math lives with the cadences; editions are handed its answer.
WavesFor = Callable[[Edition, datetime], Waves | None]


class Addressing:
    """Who gets which render of an edition, member by member: no database, no clock.

    Under a series' rule of seven, a contact's email leaves out the items whose key message
    they have seen seven times across three formats: a variant of the role set's render,
    compiled once for everyone it fits; a contact left with nothing gets no email.
    """

    def __init__(
        self,
        plan: ContentPlan,
        seen: Mapping[int, Collection[int]],
        waves: Waves | None,
    ) -> None:
        self.plan = plan
        self.seen = seen  # contact id -> key message ids they have seen enough
        self.waves = waves
        self.role_sets: Counter[str] = Counter()  # contacts addressed, per role set
        self.nothing_new: Counter[str] = Counter()  # contacts with nothing for their roles
        self.seen_enough: Counter[str] = Counter()  # contacts who had seen all of it enough
        self.left_out: Counter[str] = Counter()  # contacts sent a variant without some items
        # The renders to compile, (role set, variant) -> sections, in the order first used.
        self.renders: dict[RenderKey, list[Section]] = {}
        self._sections_of: dict[RoleSet, list[Section]] = {}
        self._variants: dict[RenderKey, list[Section]] = {}

    def messages(self, members: Iterable[AudienceMember]) -> Iterator[QueuedMessage]:
        """The message of each member who gets one, in the members' order."""
        for member in members:
            message = self.message_for(member)
            if message is not None:
                yield message

    def message_for(self, member: AudienceMember) -> QueuedMessage | None:
        """The member's message, or None when there is nothing to send them."""
        key = member.role_set.key
        sections = self._sections(member.role_set)
        if not sections:
            self.nothing_new[key] += 1
            return None
        variant = FULL
        # A contact who may not be sent to is never sent this: no variant for them.
        seen = self.seen.get(member.contact_id) if member.skip_reason is None else None
        left = [i.id for s in sections for i in s.items if seen and i.key_message_id in seen]
        if left:
            variant = variant_without(left)
            sections = self._variant(key, variant, sections, left)
            if not sections:
                self.seen_enough[key] += 1
                return None
            self.left_out[key] += 1
        self.renders.setdefault((key, variant), sections)
        self.role_sets[key] += 1
        wave = self.waves.wave_of(member.timezone) if self.waves else None
        return QueuedMessage(member.contact_id, key, member.skip_reason, wave, variant)

    def _sections(self, role_set: RoleSet) -> list[Section]:
        if role_set not in self._sections_of:
            self._sections_of[role_set] = self.plan.sections(role_set)
        return self._sections_of[role_set]

    def _variant(
        self, key: str, variant: str, sections: list[Section], left: list[int]
    ) -> list[Section]:
        if (key, variant) not in self._variants:
            self._variants[key, variant] = leave_out(sections, set(left))
        return self._variants[key, variant]


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
    # A social edition's posts, per account.
    posts: Counter[str] = field(default_factory=Counter)


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
    if edition.prepared_at is not None:
        return _prepared_before(session, edition)
    series = edition.series
    if series.channel is Channel.SOCIAL:
        return _prepare_posts(session, edition, now, renderer, settings)
    plan = pick_content(session, series, now, edition.id)
    key_messages = {i.key_message_id for i in plan.items() if i.key_message_id}
    seen = seen_enough(session, key_messages) if series.rule_of_seven else {}
    # In waves when started on schedule; sent ahead of its date (send now), it goes now.
    addressing = Addressing(plan, seen, waves_for(edition, now) if edition.due_at <= now else None)
    members = audience_members(
        session, series_audiences(session, series), series.partner_filter, series.channel,
        now.date(),
    )  # fmt: skip
    counts = queue_messages(
        session, edition.id, series.channel, grouped_by_role_set(addressing.messages(members)), now
    )
    preparation = Preparation(
        edition, plan, counts, addressing.role_sets, addressing.nothing_new,
        addressing.seen_enough, addressing.left_out,
    )  # fmt: skip
    edition.prepared_at = now
    edition.recipient_count = sum(counts.values())
    edition.notes = _notes(preparation)
    if not preparation.role_sets:
        edition.state = EditionState.EMPTY
        edition.finished_at = now
        edition.state_reason = _empty_reason(preparation)
        return preparation
    _write_renders(session, edition, addressing.renders, preparation, now, renderer, settings)
    _hold_if_needed(session, edition, now)
    session.flush()
    return preparation


def _prepare_posts(
    session: Session, edition: Edition, now: datetime, renderer: Renderer, settings: Settings
) -> Preparation:
    """A social edition: one post per account and item, composed now; nothing per contact."""
    plan = pick_content(session, edition.series, now, edition.id)
    planned = plan_posts(plan, accounts_of(edition.series.accounts))
    preparation = Preparation(edition, plan, posts=Counter(p.account.name for p in planned))
    edition.prepared_at = now
    edition.recipient_count = len(planned)
    edition.notes = {
        "items": {slug: [i.slug for i in items] for slug, items in plan.picks.items()},
        "posts": dict(sorted(preparation.posts.items())),
    }
    if not planned:
        edition.state = EditionState.EMPTY
        edition.finished_at = now
        edition.state_reason = "nothing new for any account"
        return preparation
    posted_to = {audience for post in planned for audience in post.audiences}
    record_picks(
        session,
        edition,
        ContentPlan(plan.audiences, {s: i for s, i in plan.picks.items() if s in posted_to}),
    )
    queue_posts(session, edition, planned, SocialComposer(renderer.templates_dir), settings, now)
    _hold_if_needed(session, edition, now)
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


def _prepared_before(session: Session, edition: Edition) -> Preparation:
    notes = edition.notes
    return Preparation(
        edition, carried_content(session, edition), status_counts(session, edition.id),
        Counter(notes.get("role_sets", {})), Counter(notes.get("nothing_new", {})),
        Counter(notes.get("seen_enough", {})), Counter(notes.get("left_out", {})),
        posts=Counter(notes.get("posts", {})),
    )  # fmt: skip


def _write_renders(
    session: Session,
    edition: Edition,
    renders: Mapping[RenderKey, list[Section]],
    preparation: Preparation,
    now: datetime,
    renderer: Renderer,
    settings: Settings,
) -> None:
    """Record the content carried and its links, and compile each render once."""
    plan = preparation.plan
    covered = {slug for key in preparation.role_sets for slug in RoleSet.parse(key)}
    carried = ContentPlan(plan.audiences, {s: i for s, i in plan.picks.items() if s in covered})
    record_picks(session, edition, carried)
    link_ids = _store_links(session, edition, carried)
    facts = edition_facts(edition)
    sender = Sender(settings.org_name, settings.postal_address)
    html_links = TrackedLinks(settings.base_url, html_placeholder("token"))
    text_links = TrackedLinks(settings.base_url, raw_placeholder("token"))
    template = edition.series.template or edition.series.channel.value
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


def _hold_if_needed(session: Session, edition: Edition, now: datetime) -> None:
    """Hold a prepared edition for a person: for the complaint rate, or for approval."""
    series = edition.series
    # The complaint rate is the email's: posts are held only for approval.
    complaints = hold_reason(session, now) if series.channel is not Channel.SOCIAL else None
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

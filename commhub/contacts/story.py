"""A contact's story: who they are, which key messages they have seen how often, and a
timeline of everything sent to them and everything they did, newest first.

The timeline merges messages and events in SQL: a UNION ALL of the two (each through its
contact_id index) ordered by time, one page at a time with LIMIT/OFFSET, then the details of
that page's rows only. A story is a fixed number of queries however long the contact's
history is.

The rule of seven's thresholds belong to tracking, which sits above contacts: the caller
passes them in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, literal_column, select, union_all
from sqlalchemy.orm import Session, joinedload, selectinload

from commhub.contacts.browse import ContactSummary, contact_summary
from commhub.errors import NotFound
from commhub.store import (
    FORMAT_OF,
    MAX_ID,
    Audience,
    Channel,
    Contact,
    ContentItem,
    Edition,
    Event,
    EventKind,
    ExposureTally,
    KeyMessage,
    Message,
    MessageStatus,
    Series,
    SocialPost,
)

PER_PAGE = 50
# Which table a timeline row comes from; at the same instant an event sorts above the
# message it followed (newest first).
_MESSAGE, _EVENT = 0, 1
_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_LABELS: dict[str, str] = {
    EventKind.PROCESSED: "Accepted",
    EventKind.DELIVERED: "Delivered",
    EventKind.DEFERRED: "Deferred",
    EventKind.BOUNCE: "Bounce",
    EventKind.DROPPED: "Dropped",
    EventKind.OPEN: "Open",
    EventKind.CLICK: "Click",
    EventKind.VOTE: "Vote",
    EventKind.COMPLAINT: "Spam report",
    EventKind.UNSUBSCRIBE: "Unsubscribe",
    EventKind.PREFERENCES: "Preferences",
}
_SKIPPED = {
    "unsubscribed": "they had unsubscribed",
    "bounced": "their address had bounced",
    "complained": "they had reported our mail as spam",
    "no_consent": "no consent on record",
    "opted_out": "they opted out of this channel",
    "paused": "they had paused their messages",
    "cancelled": "the edition was cancelled",
}


@dataclass(frozen=True)
class ContactFacts(ContactSummary):
    """The contact as the page's header shows them: the list's summary, and more."""

    consent_wording: str | None
    opted_out_channels: list[str]  # channel values
    paused_until: date | None
    created_at: datetime


@dataclass(frozen=True)
class ExposureLine:
    """How often the contact has seen one key message, in each format."""

    key_message_id: int
    key_message: str
    email: int
    video: int
    social: int
    rss: int
    reached: bool  # seen `seven` times or more across `three` formats or more

    @property
    def total(self) -> int:
        return self.email + self.video + self.social + self.rss

    @property
    def formats(self) -> int:
        return sum(1 for count in (self.email, self.video, self.social, self.rss) if count)


@dataclass(frozen=True)
class StoryEntry:
    """One line of the timeline: a message sent (or not) to the contact, or an event."""

    at: datetime
    kind: str  # "message", or an EventKind value
    label: str  # the kind in words ("Machine open", "Vote: yes")
    format: str | None  # a Format value: the message's channel's, or the event's
    description: str
    status: str | None = None  # a message's status
    machine: bool = False  # an open a machine made: not counted as a person's
    edition_id: int | None = None
    series: str | None = None
    item_slug: str | None = None
    item_title: str | None = None


@dataclass(frozen=True)
class ContactStory:
    contact: ContactFacts
    exposures: list[ExposureLine]
    entries: list[StoryEntry]  # this page's, newest first
    total: int  # entries on every page
    messages: int  # of the total, messages
    events: int  # of the total, events
    page: int  # 1-based, within the pages there are
    per_page: int
    seven: int
    three: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def reached(self) -> int:
        """Key messages seen `seven` times across `three` formats (or more)."""
        return sum(1 for line in self.exposures if line.reached)

    @property
    def rule(self) -> str:
        """The rule of seven in words: 'seven times across three formats'."""
        return f"{_number(self.seven)} times across {_number(self.three)} formats"

    @property
    def exposure_summary(self) -> str:
        """'Seen 3 key messages; 1 of them seven times across three formats.'"""
        seen, rule = len(self.exposures), self.rule
        if not seen:
            return "No key message seen yet."
        if seen == 1:
            return f"Seen 1 key message, {'' if self.reached else 'not yet '}{rule}."
        return f"Seen {seen:,} key messages; {self.reached or 'none'} of them {rule}."


def contact_story(
    session: Session,
    contact_id: int,
    page: int,
    per_page: int = PER_PAGE,
    *,
    seven: int,
    three: int,
) -> ContactStory:
    """The contact's facts, exposures and one page (1-based; kept within the pages there
    are) of their timeline. Raises NotFound for an unknown id."""
    if not 0 < contact_id <= MAX_ID:
        raise NotFound(f"no contact {contact_id}")
    per_page = max(1, per_page)
    contact = session.get(
        Contact, contact_id, options=[joinedload(Contact.partner), selectinload(Contact.roles)]
    )
    if contact is None:
        raise NotFound(f"no contact {contact_id}")
    messages, events = _counts(session, contact_id)
    total = messages + events
    page = min(max(page, 1), max(1, -(-total // per_page)))
    return ContactStory(
        contact=_facts(contact),
        exposures=_exposures(session, contact_id, seven, three),
        entries=_timeline(session, contact_id, (page - 1) * per_page, per_page),
        total=total,
        messages=messages,
        events=events,
        page=page,
        per_page=per_page,
        seven=seven,
        three=three,
    )


def _facts(contact: Contact) -> ContactFacts:
    return ContactFacts(
        **vars(contact_summary(contact)),
        consent_wording=contact.consent_wording,
        opted_out_channels=sorted(contact.opted_out_channels or ()),
        paused_until=contact.paused_until,
        created_at=contact.created_at,
    )


def _exposures(session: Session, contact_id: int, seven: int, three: int) -> list[ExposureLine]:
    rows = session.execute(
        select(
            ExposureTally.key_message_id, KeyMessage.text, ExposureTally.email,
            ExposureTally.video, ExposureTally.social, ExposureTally.rss,
        )
        .join(KeyMessage, KeyMessage.id == ExposureTally.key_message_id)
        .where(ExposureTally.contact_id == contact_id)
    )  # fmt: skip
    lines = []
    for key_id, text, email, video, social, rss in rows:
        counts = (email, video, social, rss)
        reached = sum(counts) >= seven and sum(1 for c in counts if c) >= three
        lines.append(ExposureLine(key_id, text, *counts, reached=reached))
    lines.sort(key=lambda line: (-line.total, line.key_message.casefold()))
    return [line for line in lines if line.total]


def _counts(session: Session, contact_id: int) -> tuple[int, int]:
    """How many messages and events the contact has (one query)."""
    messages = select(func.count()).select_from(Message).where(Message.contact_id == contact_id)
    events = select(func.count()).select_from(Event).where(Event.contact_id == contact_id)
    row = session.execute(select(messages.scalar_subquery(), events.scalar_subquery())).one()
    return int(row[0] or 0), int(row[1] or 0)


def _timeline(session: Session, contact_id: int, offset: int, limit: int) -> list[StoryEntry]:
    """One page of the contact's messages and events, newest first: the page's (source, id)
    pairs from one UNION ALL, then the details of those rows only."""
    both = union_all(
        select(
            literal_column(str(_MESSAGE)).label("source"),
            Message.id.label("id"),
            func.coalesce(Message.sent_at, Message.queued_at).label("at"),
        ).where(Message.contact_id == contact_id),
        select(
            literal_column(str(_EVENT)).label("source"),
            Event.id.label("id"),
            Event.occurred_at.label("at"),
        ).where(Event.contact_id == contact_id),
    ).subquery()
    page = list(
        session.execute(
            select(both.c.source, both.c.id)
            .order_by(both.c.at.desc(), both.c.source.desc(), both.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
    )
    message_ids = [row_id for source, row_id in page if source == _MESSAGE]
    event_ids = [row_id for source, row_id in page if source == _EVENT]
    found = {
        _MESSAGE: _message_entries(session, contact_id, message_ids),
        _EVENT: _event_entries(session, contact_id, event_ids),
    }
    return [found[source][row_id] for source, row_id in page if row_id in found[source]]


def _message_entries(session: Session, contact_id: int, ids: list[int]) -> dict[int, StoryEntry]:
    if not ids:
        return {}
    rows = session.execute(
        select(
            Message.id, Message.edition_id, Message.channel, Message.role_set, Message.status,
            Message.skip_reason, Message.sent_at, Message.queued_at, Series.name,
        )
        .join(Edition, Edition.id == Message.edition_id)
        .join(Series, Series.id == Edition.series_id)
        .where(Message.id.in_(ids), Message.contact_id == contact_id)
    )  # fmt: skip
    entries = {}
    for row in rows:
        channel, status = Channel(row.channel), MessageStatus(row.status)
        entries[row.id] = StoryEntry(
            at=row.sent_at or row.queued_at,
            kind="message",
            label="Message",
            format=FORMAT_OF[channel].value,
            description=_message_text(channel, row.role_set, status, row.skip_reason),
            status=status.value,
            edition_id=row.edition_id,
            series=row.name,
        )
    return entries


def _message_text(
    channel: Channel, role_set: str, status: MessageStatus, skip_reason: str | None
) -> str:
    what = f"The {channel.value.replace('_', ' ')} for {role_set.replace(',', ', ') or 'no role'}"
    if status is MessageStatus.SENT:
        return f"{what}, sent"
    if status is MessageStatus.SKIPPED:
        why = _SKIPPED.get(str(skip_reason or ""), str(skip_reason or "no reason recorded"))
        return f"{what}, not sent: {why}"
    if status is MessageStatus.FAILED:
        return f"{what}, not delivered"
    if status is MessageStatus.UNKNOWN:
        return f"{what}, in doubt: the server may or may not have taken it"
    return f"{what}, waiting to be sent"


def _event_entries(session: Session, contact_id: int, ids: list[int]) -> dict[int, StoryEntry]:
    if not ids:
        return {}
    rows = list(
        session.execute(
            select(
                Event.id, Event.kind, Event.format, Event.occurred_at, Event.data,
                ContentItem.title, ContentItem.slug, Message.edition_id, Message.channel,
                Series.name,
            )
            .outerjoin(ContentItem, ContentItem.id == Event.content_item_id)
            .outerjoin(Message, Message.id == Event.message_id)
            .outerjoin(Edition, Edition.id == Message.edition_id)
            .outerjoin(Series, Series.id == Edition.series_id)
            .where(Event.id.in_(ids), Event.contact_id == contact_id)
        )
    )  # fmt: skip
    posts = _posts(session, {_int(r.data, "post_id") for r in rows} - {None})
    roles = _role_names(session) if any(r.kind == EventKind.PREFERENCES for r in rows) else {}
    entries = {}
    for row in rows:
        data: Mapping[str, Any] = row.data if isinstance(row.data, dict) else {}
        fmt = row.format or (FORMAT_OF[Channel(row.channel)].value if row.channel else None)
        edition_id, series = row.edition_id, row.name
        post = posts.get(_int(data, "post_id") or 0)
        if post is not None:
            edition_id, series = post
        machine = row.kind == EventKind.OPEN and bool(
            data.get("machine") or data.get("sg_machine_open")
        )
        entries[row.id] = StoryEntry(
            at=row.occurred_at,
            kind=row.kind,
            label=_label(row.kind, data, machine),
            format=fmt,
            description=_event_text(row.kind, data, row.title, machine, roles),
            machine=machine,
            edition_id=edition_id,
            series=series,
            item_slug=row.slug,
            item_title=row.title,
        )
    return entries


def _posts(session: Session, post_ids: set[int | None]) -> dict[int, tuple[int, str]]:
    """Post id -> (edition id, series name), for the social clicks on the page."""
    wanted = sorted(i for i in post_ids if i is not None)
    if not wanted:
        return {}
    rows = session.execute(
        select(SocialPost.id, SocialPost.edition_id, Series.name)
        .join(Edition, Edition.id == SocialPost.edition_id)
        .join(Series, Series.id == Edition.series_id)
        .where(SocialPost.id.in_(wanted))
    )
    return {post_id: (edition_id, name) for post_id, edition_id, name in rows}


def _role_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Audience.slug, Audience.name)).all())


def _label(kind: str, data: Mapping[str, Any], machine: bool) -> str:
    if kind == EventKind.OPEN and machine:
        return "Machine open"
    if kind == EventKind.VOTE:
        return f"Vote: {_text(data, 'answer') or '?'}"
    return _LABELS.get(kind) or kind.replace("_", " ").capitalize()


def _event_text(
    kind: str,
    data: Mapping[str, Any],
    title: str | None,
    machine: bool,
    roles: Mapping[str, str],
) -> str:
    item = f"“{title}”" if title else None
    reason = _text(data, "reason") or _text(data, "response")
    if kind == EventKind.OPEN:
        if not machine:
            return "Opened by a person"
        flagged = "flagged by the provider" if data.get("sg_machine_open") else ""
        why = _text(data, "why") or flagged or "an automated fetch"
        return f"Opened by a machine, not a person ({why}): not counted as read"
    if kind == EventKind.CLICK:
        target = item or _text(data, "url") or "a link"
        if data.get("post_id") is not None:
            network, account = _text(data, "network"), _text(data, "account")
            where = f" on {network.capitalize()}" if network else ""
            by = f" ({account})" if account else ""
            return f"Clicked {target} in a post{where}{by}"
        if data.get("feed_id") is not None:
            return f"Clicked {target} in their personal feed"
        return f"Clicked {target}"
    if kind == EventKind.VOTE:
        answer = _text(data, "answer")
        verdict = {"yes": "relevant", "no": "not relevant"}.get(answer, f"“{answer}”")
        return f"Voted {item or 'an item'} {verdict}"
    if kind == EventKind.UNSUBSCRIBE:
        via = _text(data, "via")
        if not via and _text(data, "event"):
            via = "through the provider"
        return f"Unsubscribed from everything{f' ({via})' if via else ''}"
    if kind == EventKind.PREFERENCES:
        return _preferences_text(data, roles)
    if kind == EventKind.BOUNCE:
        sort = _text(data, "type")
        return f"Bounced{f' ({sort})' if sort else ''}{f': {reason}' if reason else ''}"
    fixed: dict[str, str] = {
        EventKind.PROCESSED: "Accepted by the provider",
        EventKind.DELIVERED: "Delivered to their mail server",
        EventKind.DEFERRED: "Delivery put off by their mail server",
        EventKind.DROPPED: "Dropped by the provider, not sent",
        EventKind.COMPLAINT: "Reported the message as spam",
    }
    text = fixed.get(kind, kind)  # an EventKind is its value: a kind not known stays as is
    return f"{text}: {reason}" if reason else text


def _preferences_text(data: Mapping[str, Any], roles: Mapping[str, str]) -> str:
    chosen = data.get("roles")
    formats = data.get("formats")
    parts = []
    if isinstance(chosen, list):
        names = [roles.get(str(slug), str(slug)) for slug in chosen]
        parts.append(f"roles {', '.join(names) or 'none'}")
    if isinstance(formats, list):
        wanted = [str(fmt).replace("_", " ") for fmt in formats]
        parts.append(f"channels {', '.join(wanted) or 'none'}")
    days = _int(data, "pause_days")
    if days is not None:
        parts.append(f"paused for {days} days" if days else "no pause")
    said = "Changed their preferences"
    return f"{said}: {'; '.join(parts)}" if parts else said


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _int(data: Any, key: str) -> int | None:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(n: int) -> str:
    return _WORDS[n] if 0 <= n < len(_WORDS) else f"{n:,}"

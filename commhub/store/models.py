"""The ORM objects. No behaviour beyond invariants; the domain modules hold the rules."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from commhub.store.db import Base, utcnow

# BIGINT on PostgreSQL for the tables that grow by the million; SQLite only autoincrements
# an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# The largest id a row can have (a BIGINT, or SQLite's INTEGER): a larger one names no row.
MAX_ID = 2**63 - 1


def _enum(cls: type[enum.StrEnum], length: int = 20) -> Enum:
    # Kept as plain strings (no native ENUM type): adding a value is a code change, not DDL.
    return Enum(
        cls,
        native_enum=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class ContactStatus(enum.StrEnum):
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


class ContentKind(enum.StrEnum):
    ARTICLE = "article"
    VIDEO = "video"
    ANNOUNCEMENT = "announcement"
    EVENT = "event"


class ContentStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class ContentSource(enum.StrEnum):
    FILE = "file"
    UI = "ui"
    FEED = "feed"


class Format(enum.StrEnum):
    """The forms a message reaches a person in; the rule of seven asks for three of them."""

    EMAIL = "email"
    VIDEO = "video"
    SOCIAL = "social"
    RSS = "rss"


class Channel(enum.StrEnum):
    """How a series reaches people; each channel is one format."""

    NEWSLETTER = "newsletter"
    VIDEO_DIGEST = "video_digest"
    SOCIAL = "social"
    FEED = "feed"


class Network(enum.StrEnum):
    """Where a social series posts: each account of the series is on one of these."""

    MASTODON = "mastodon"
    LINKEDIN = "linkedin"
    WEBHOOK = "webhook"


class PostState(enum.StrEnum):
    """A social post's life: planned when its edition is prepared, posting while the call
    is made (committed before it), then posted, failed for good, or unknown (in doubt)."""

    PLANNED = "planned"
    POSTING = "posting"
    POSTED = "posted"
    FAILED = "failed"
    UNKNOWN = "unknown"


# The format each channel's messages count as, in exposures and the heat map.
FORMAT_OF: dict[Channel, Format] = {
    Channel.NEWSLETTER: Format.EMAIL,
    Channel.VIDEO_DIGEST: Format.VIDEO,
    Channel.SOCIAL: Format.SOCIAL,
    Channel.FEED: Format.RSS,
}


class EventKind(enum.StrEnum):
    """What an event records (the events table's kind column holds these values)."""

    PROCESSED = "processed"  # the provider took the message
    DELIVERED = "delivered"
    DEFERRED = "deferred"
    BOUNCE = "bounce"
    DROPPED = "dropped"
    OPEN = "open"
    CLICK = "click"
    VOTE = "vote"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"
    PREFERENCES = "preferences"


class EditionState(enum.StrEnum):
    PLANNED = "planned"
    HELD = "held"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    MISSED = "missed"
    CANCELLED = "cancelled"
    # Nothing new for any role set: no email went out, and the edition says why.
    EMPTY = "empty"


class MessageStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"
    # Never handed to a backend: the contact may not be sent to (skip_reason says why).
    SKIPPED = "skipped"


class SkipReason(enum.StrEnum):
    """Why a contact of an edition's audience gets no message."""

    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    NO_CONSENT = "no_consent"
    OPTED_OUT = "opted_out"
    PAUSED = "paused"
    CANCELLED = "cancelled"  # the edition was cancelled before this message went out


class UserRole(enum.StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"


def email_key(address: str) -> str:
    """The form an address is unique in: case-insensitive, whitespace-free."""
    return address.strip().lower()


def name_key(name: str) -> str:
    """The form a partner name is unique in: case and spacing do not make a new partner."""
    return " ".join(name.split()).casefold()


contact_roles = Table(
    "contact_roles",
    Base.metadata,
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("audience_id", ForeignKey("audiences.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_contact_roles_audience_id", "audience_id"),
)

content_item_audiences = Table(
    "content_item_audiences",
    Base.metadata,
    Column("content_item_id", ForeignKey("content_items.id", ondelete="CASCADE"), primary_key=True),
    Column("audience_id", ForeignKey("audiences.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_content_item_audiences_audience_id", "audience_id"),
)

series_audiences = Table(
    "series_audiences",
    Base.metadata,
    Column("series_id", ForeignKey("series.id", ondelete="CASCADE"), primary_key=True),
    Column("audience_id", ForeignKey("audiences.id", ondelete="CASCADE"), primary_key=True),
)


class Audience(Base):
    __tablename__ = "audiences"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(default=list)


class Partner(Base):
    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str | None] = mapped_column(String(40))
    tier: Mapped[str | None] = mapped_column(String(40))
    region: Mapped[str | None] = mapped_column(String(60))
    tags: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    contacts: Mapped[list[Contact]] = relationship(back_populates="partner")

    @validates("name")
    def _keep_name_key(self, _key: str, value: str) -> str:
        self.name_key = name_key(value)
        return value


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="RESTRICT"), index=True
    )
    timezone: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[ContactStatus] = mapped_column(
        _enum(ContactStatus), default=ContactStatus.ACTIVE, index=True
    )
    # Consent is evidence: when, how it was collected, and which wording the person saw.
    consent_at: Mapped[datetime | None]
    consent_source: Mapped[str | None] = mapped_column(String(40))
    consent_wording: Mapped[str | None] = mapped_column(String(40))
    opted_out_channels: Mapped[list[str]] = mapped_column(default=list)
    paused_until: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    partner: Mapped[Partner | None] = relationship(back_populates="contacts")
    roles: Mapped[list[Audience]] = relationship(secondary=contact_roles, order_by=Audience.slug)

    @validates("email")
    def _keep_email_key(self, _key: str, value: str) -> str:
        self.email_key = email_key(value)
        return value


class KeyMessage(Base):
    """A sentence the programme wants remembered; items that carry it count as exposures."""

    __tablename__ = "key_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(500), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContentItem(Base):
    __tablename__ = "content_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    body_markdown: Mapped[str] = mapped_column(Text, default="")
    # Rendered and sanitised once on the way in; templates never render Markdown.
    body_html: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[ContentKind] = mapped_column(_enum(ContentKind))
    key_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("key_messages.id", ondelete="SET NULL"), index=True
    )
    url: Mapped[str | None] = mapped_column(String(2000))
    video_url: Mapped[str | None] = mapped_column(String(2000))
    thumbnail_url: Mapped[str | None] = mapped_column(String(2000))
    duration_seconds: Mapped[int | None]
    speaker: Mapped[str | None] = mapped_column(String(200))
    hashtags: Mapped[list[str]] = mapped_column(default=list)
    # What its social posts say in place of the title (front matter `social:`).
    social_line: Mapped[str | None] = mapped_column(String(300))
    publish_at: Mapped[datetime | None] = mapped_column(index=True)
    expires_at: Mapped[datetime | None]
    priority: Mapped[int] = mapped_column(default=0)
    status: Mapped[ContentStatus] = mapped_column(
        _enum(ContentStatus), default=ContentStatus.PUBLISHED
    )
    source: Mapped[ContentSource] = mapped_column(_enum(ContentSource))
    source_ref: Mapped[str | None] = mapped_column(String(2000))
    # Digest of everything imported, so that re-importing an unchanged file writes nothing.
    content_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    audiences: Mapped[list[Audience]] = relationship(
        secondary=content_item_audiences, order_by=Audience.slug
    )
    key_message: Mapped[KeyMessage | None] = relationship()


class FeedSource(Base):
    """An upstream RSS, Atom or YouTube feed whose entries become library items.

    Named "feed source" everywhere, never "feed" alone: that is the team's iCalendar feed
    (CalendarFeed). Audiences and rules are kept as written ("keyword=api -> development"),
    checked when added and parsed where used.
    """

    __tablename__ = "feed_sources"
    __table_args__ = (Index("ix_feed_sources_next_fetch_at", "next_fetch_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    title: Mapped[str] = mapped_column(String(300), default="")  # the feed's own, when fetched
    audiences: Mapped[list[str]] = mapped_column(default=list)
    rules: Mapped[list[str]] = mapped_column(default=list)
    use_audience_keywords: Mapped[bool] = mapped_column(default=True)
    kind: Mapped[ContentKind | None] = mapped_column(_enum(ContentKind))  # None: per entry
    publish: Mapped[bool] = mapped_column(default=False)  # False: entries arrive as drafts
    interval_seconds: Mapped[int] = mapped_column(default=3600)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_tried_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(default=0)  # in a row; the back-off doubles with each
    next_fetch_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A fetch is claimed like an edition: one process at a time, until the lease runs out.
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedEntryRecord(Base):
    """One entry of a feed source as last seen, and the item it became. The key (the
    entry's id, else its link) is stored with its digest, which is what is unique: keys can
    be longer than an index allows."""

    __tablename__ = "feed_entries"
    __table_args__ = (UniqueConstraint("source_id", "key_digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("feed_sources.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(Text)
    key_digest: Mapped[str] = mapped_column(String(64))
    content_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("content_items.id", ondelete="SET NULL"), index=True
    )
    entry_hash: Mapped[str] = mapped_column(String(64))  # of the fields as the feed gave them
    # A newer version of an item already published (or archived): never written over it
    # silently, it waits here for an editor (the fields as the item would take them).
    pending: Mapped[dict[str, Any] | None]
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    content_item: Mapped[ContentItem | None] = relationship()


class Shift(enum.StrEnum):
    """Where a send date that is not a business day moves."""

    NONE = "none"
    PREVIOUS = "previous"  # the business day before
    NEXT = "next"  # the business day after


class Series(Base):
    """A channel on a cadence: what it serves, how it looks, when it runs."""

    __tablename__ = "series"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    all_audiences: Mapped[bool] = mapped_column(default=False)
    cadence: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(300))
    from_address: Mapped[str] = mapped_column(String(400))
    reply_to: Mapped[str | None] = mapped_column(String(400))
    template: Mapped[str | None] = mapped_column(String(200))
    max_items: Mapped[int | None]
    # The kinds of item its editions carry, as written; None: the channel's own.
    kinds: Mapped[list[str] | None]
    # A social series' accounts, as written: [{"network", "name", "audiences": [...] | "all"}].
    accounts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    partner_filter: Mapped[dict[str, Any]] = mapped_column(default=dict)
    requires_approval: Mapped[bool] = mapped_column(default=False)
    # When it runs, beyond the cadence: the first day, the business-day rule, per-contact
    # local time, and how late a missed edition may still go out.
    start_date: Mapped[date | None]
    shift: Mapped[Shift] = mapped_column(_enum(Shift), default=Shift.NONE, server_default="none")
    holiday_country: Mapped[str | None] = mapped_column(String(16))
    company_days: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    local_time: Mapped[bool] = mapped_column(default=False, server_default=false())
    grace_minutes: Mapped[int] = mapped_column(default=360, server_default="360")
    # The rule of seven: prefer items whose key message the audience has seen less, and
    # leave out of a contact's email the key messages they saw seven times in three formats.
    rule_of_seven: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Planned editions exist as rows up to here, computed from the schedule plan_key digests.
    planned_through: Mapped[datetime | None] = mapped_column(index=True)
    plan_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    audiences: Mapped[list[Audience]] = relationship(
        secondary=series_audiences, order_by=Audience.slug
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[UserRole] = mapped_column(_enum(UserRole))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Bumped when the password or role changes: sessions signed in before are no longer valid.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # An IANA zone for the times the web UI shows this user; None: the browser's, or UTC.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # Set with a temporary password an admin handed over: the user picks their own before
    # any other page opens to them.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())

    @validates("email")
    def _keep_email_key(self, _key: str, value: str) -> str:
        self.email_key = email_key(value)
        return value


def _planned_at(context: Any) -> datetime:
    """An edition with no due time of its own is due when it is planned."""
    planned: datetime = context.get_current_parameters()["planned_at"]
    return planned


# Started and not finished. A planned edition paused by a person before its date has not
# started: it does not stop the series' other editions.
ACTIVE_EDITION_STATES = "state IN ('sending', 'paused', 'held') AND started_at IS NOT NULL"


class Edition(Base):
    """One dated run of a series."""

    __tablename__ = "editions"
    __table_args__ = (
        UniqueConstraint("series_id", "planned_at"),
        # At most one edition of a series under way: two at once would carry the same items.
        Index(
            "uq_editions_series_id_active",
            "series_id",
            unique=True,
            sqlite_where=text(ACTIVE_EDITION_STATES),
            postgresql_where=text(ACTIVE_EDITION_STATES),
        ),
        # The scheduler's question: which planned editions are due?
        Index("ix_editions_state_due_at", "state", "due_at"),
        # The calendar's and the editions page's question: what falls in this window?
        Index("ix_editions_planned_at", "planned_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    # The cadence's date and time in the series' zone; the calendar shows this.
    planned_at: Mapped[datetime]
    # When the scheduler starts it: planned_at, or earlier for a series sent at local time
    # (its first wave is where the day starts first).
    due_at: Mapped[datetime] = mapped_column(default=_planned_at)
    state: Mapped[EditionState] = mapped_column(_enum(EditionState), default=EditionState.PLANNED)
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Set when content is picked and messages are queued; the edition is frozen from then on.
    prepared_at: Mapped[datetime | None]
    recipient_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # Why the edition is held, paused or empty, in words for the person who has to act.
    state_reason: Mapped[str | None] = mapped_column(String(500))
    # The process sending the edition, and until when its claim holds without a heartbeat.
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]
    # Why role sets got nothing, and other facts a person reading the edition wants to see.
    notes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    series: Mapped[Series] = relationship()


class Message(Base):
    """One edition delivered to one contact over one channel: exactly once."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("edition_id", "contact_id", "channel"),
        # next_recipients walks an edition's queue in id order.
        Index("ix_messages_edition_status_id", "edition_id", "status", "id"),
        # The complaint rate's messages sent over the last 7 days, without a scan of all.
        Index("ix_messages_status_sent_at", "status", "sent_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    role_set: Mapped[str] = mapped_column(String(400))
    # Which of the role set's renders: "" for its full content, or what was left out of it
    # for this contact ("without:12,15", the item ids), under the series' rule of seven.
    variant: Mapped[str] = mapped_column(String(200), default="", server_default="")
    status: Mapped[MessageStatus] = mapped_column(
        _enum(MessageStatus), default=MessageStatus.QUEUED
    )
    skip_reason: Mapped[SkipReason | None] = mapped_column(_enum(SkipReason))
    attempts: Mapped[int] = mapped_column(default=0)
    # A transient failure waits until then before the next attempt.
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(200), index=True)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SocialPost(Base):
    """One item posted on one account by one edition of a social series: exactly once."""

    __tablename__ = "social_posts"
    __table_args__ = (UniqueConstraint("edition_id", "account", "content_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(
        ForeignKey("editions.id", ondelete="CASCADE"), index=True
    )
    network: Mapped[Network] = mapped_column(_enum(Network))
    account: Mapped[str] = mapped_column(String(100))
    # The account's audiences the item was picked for (one post however many).
    audiences: Mapped[list[str]] = mapped_column(JSON, default=list)
    content_item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(500))
    # The same for every attempt: a network that honours it makes one post of many requests.
    idempotency_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[PostState] = mapped_column(_enum(PostState), default=PostState.PLANNED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    attempted_at: Mapped[datetime | None]
    posted_at: Mapped[datetime | None]
    remote_id: Mapped[str | None] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(2000))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[ContentItem] = relationship()


class Event(Base):
    """Something that happened to a message, an item or a contact, as it was recorded."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_contact_occurred", "contact_id", "occurred_at"),
        # An item's page: its clicks and votes, without a scan of every event.
        Index("ix_events_item_kind", "content_item_id", "kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)  # an EventKind
    message_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE")
    )
    content_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("content_items.id", ondelete="SET NULL")
    )
    format: Mapped[str | None] = mapped_column(String(16))  # a Format
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The provider's id for the event, so that a resent webhook batch changes nothing.
    provider_event_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Alert(Base):
    """Something that needs a person: raised by the system, resolved by someone."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text)
    edition_id: Mapped[int | None] = mapped_column(
        ForeignKey("editions.id", ondelete="CASCADE"), index=True
    )
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)


class AuditEntry(Base):
    """Who did what to which object, and when: written by the domain functions themselves."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # "user@example.com" (signed in on the web), "cli:<os user>", or "scheduler".
    actor: Mapped[str] = mapped_column(String(320), index=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(320))
    summary: Mapped[str] = mapped_column(Text, default="")


class EditionItem(Base):
    """An item an edition carried to an audience: the record that stops repeats."""

    __tablename__ = "edition_items"
    __table_args__ = (Index("ix_edition_items_audience_item", "audience_id", "content_item_id"),)

    edition_id: Mapped[int] = mapped_column(
        ForeignKey("editions.id", ondelete="CASCADE"), primary_key=True
    )
    audience_id: Mapped[int] = mapped_column(
        ForeignKey("audiences.id", ondelete="CASCADE"), primary_key=True
    )
    content_item_id: Mapped[int] = mapped_column(
        ForeignKey("content_items.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int]


class EditionLink(Base):
    """A link of an edition: the click endpoint redirects only to the URL stored here."""

    __tablename__ = "edition_links"

    edition_id: Mapped[int] = mapped_column(
        ForeignKey("editions.id", ondelete="CASCADE"), primary_key=True
    )
    link_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    content_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("content_items.id", ondelete="SET NULL")
    )
    # None for an item without a page: it still has a link id for its relevance votes.
    url: Mapped[str | None] = mapped_column(String(2000))


class EditionRender(Base):
    """An edition compiled for one role set (and variant): subject, HTML and text with
    placeholders."""

    __tablename__ = "edition_renders"
    __table_args__ = (UniqueConstraint("edition_id", "role_set", "variant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    role_set: Mapped[str] = mapped_column(String(400))
    # "" for the role set's full content; otherwise the items left out ("without:12,15").
    variant: Mapped[str] = mapped_column(String(200), default="", server_default="")
    subject: Mapped[str] = mapped_column(String(1000))
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    # The edition's links this role set's message carries: the only ones its tokens may use.
    link_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarFeed(Base):
    """A subscribable iCalendar URL for the team: its token names this row, so revoking the
    row kills the URL without touching the secret keys."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The random name its URL's token signs.
    name: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class PersonalFeed(Base):
    """A contact's own Atom feed of the items for their roles. Its URL's token signs the
    random name, never the row or the contact, so that a revoked feed's URL stays dead and
    no URL can be guessed from an id. It goes with its contact on erasure."""

    __tablename__ = "personal_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class Exposure(Base):
    """A human signal that a contact saw a key message in a format: at most one per
    (contact, key message, source), where the source is a message, a feed item or a post."""

    __tablename__ = "exposures"
    __table_args__ = (UniqueConstraint("contact_id", "key_message_id", "source_kind", "source_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    key_message_id: Mapped[int] = mapped_column(
        ForeignKey("key_messages.id", ondelete="CASCADE"), index=True
    )
    format: Mapped[str] = mapped_column(String(16))  # a Format
    source_kind: Mapped[str] = mapped_column(String(16))  # message, feed_item, post
    source_id: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime]


class ExposureTally(Base):
    """How often a contact has seen a key message, by format: kept up to date as exposures
    are recorded, never recomputed from every event."""

    __tablename__ = "exposure_tallies"

    contact_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    key_message_id: Mapped[int] = mapped_column(
        ForeignKey("key_messages.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[int] = mapped_column(default=0, server_default="0")
    video: Mapped[int] = mapped_column(default=0, server_default="0")
    social: Mapped[int] = mapped_column(default=0, server_default="0")
    rss: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # When the contact was first targeted (sent a message carrying the key message, or
    # exposed to it) and met seven across three: what moves them between reach_weeks rows.
    # A row of zeros with targeted_at only: targeted, never exposed.
    targeted_at: Mapped[datetime | None]
    met_at: Mapped[datetime | None]


class ContactFormat(Base):
    """A contact's first exposure in a format: the record that makes a later exposure in the
    same format bump nothing in partner_reach."""

    __tablename__ = "contact_formats"

    contact_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    format: Mapped[str] = mapped_column(String(16), primary_key=True)  # a Format
    first_at: Mapped[datetime]


class PartnerReach(Base):
    """Per partner and role, kept as it happens: the contacts with that role, and of them
    those with at least one exposure in each format (the heat map's cells)."""

    __tablename__ = "partner_reach"

    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True
    )
    audience_id: Mapped[int] = mapped_column(
        ForeignKey("audiences.id", ondelete="CASCADE"), primary_key=True
    )
    contacts: Mapped[int] = mapped_column(default=0, server_default="0")
    email: Mapped[int] = mapped_column(default=0, server_default="0")
    video: Mapped[int] = mapped_column(default=0, server_default="0")
    social: Mapped[int] = mapped_column(default=0, server_default="0")
    rss: Mapped[int] = mapped_column(default=0, server_default="0")


class ReachCell(Base):
    """Per key message, the contacts at each capped number of exposures (1..7, 7 = 7 or more)
    and of formats (1..3, 3 = 3 or more), kept as tallies move."""

    __tablename__ = "reach_cells"

    key_message_id: Mapped[int] = mapped_column(
        ForeignKey("key_messages.id", ondelete="CASCADE"), primary_key=True
    )
    exposures: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    formats: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    contacts: Mapped[int] = mapped_column(default=0, server_default="0")


class ReachWeek(Base):
    """Per key message and week (from Monday 00:00 UTC): the contacts first targeted that
    week, and those who met seven across three that week."""

    __tablename__ = "reach_weeks"

    key_message_id: Mapped[int] = mapped_column(
        ForeignKey("key_messages.id", ondelete="CASCADE"), primary_key=True
    )
    week_of: Mapped[datetime] = mapped_column(primary_key=True)
    targeted: Mapped[int] = mapped_column(default=0, server_default="0")
    met: Mapped[int] = mapped_column(default=0, server_default="0")


class ContactMonth(Base):
    """A contact's mark for a UTC calendar month: an exposure in a format that month, or
    ("engaged") a person's open or click: the record that makes a second one bump nothing in
    partner_months."""

    __tablename__ = "contact_months"

    contact_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[datetime] = mapped_column(primary_key=True)  # its first moment, UTC
    what: Mapped[str] = mapped_column(String(16), primary_key=True)  # a Format or "engaged"


class PartnerMonthCount(Base):
    """Per partner, UTC calendar month and format (or "engaged"), kept as it happens: the
    partner's contacts with that mark (a partner's trend)."""

    __tablename__ = "partner_months"

    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[datetime] = mapped_column(primary_key=True)
    what: Mapped[str] = mapped_column(String(16), primary_key=True)
    contacts: Mapped[int] = mapped_column(default=0, server_default="0")


class MessageSignals(Base):
    """When a message first had each signal counted in the aggregates: the record that makes
    a second open, click or provider event of the same message count nothing."""

    __tablename__ = "message_signals"

    message_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    human_open_at: Mapped[datetime | None]
    click_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    bounce_at: Mapped[datetime | None]
    unsubscribe_at: Mapped[datetime | None]
    complaint_at: Mapped[datetime | None]


class MessageItemSignals(Base):
    """A message's first click on an item, and the contact's last vote on it in that message."""

    __tablename__ = "message_item_signals"

    message_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    content_item_id: Mapped[int] = mapped_column(
        ForeignKey("content_items.id", ondelete="CASCADE"), primary_key=True
    )
    click_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(String(8))  # yes, no
    voted_at: Mapped[datetime | None]


class GroupFigures(Base):
    """What came of the messages of one edition that carried one render (a role set and its
    variant), kept as it happens: messages sent, and messages with each signal."""

    __tablename__ = "group_figures"

    edition_id: Mapped[int] = mapped_column(
        ForeignKey("editions.id", ondelete="CASCADE"), primary_key=True
    )
    role_set: Mapped[str] = mapped_column(String(400), primary_key=True)
    variant: Mapped[str] = mapped_column(String(200), primary_key=True)
    sent: Mapped[int] = mapped_column(default=0, server_default="0")
    human_opens: Mapped[int] = mapped_column(default=0, server_default="0")
    clicks: Mapped[int] = mapped_column(default=0, server_default="0")
    delivered: Mapped[int] = mapped_column(default=0, server_default="0")
    bounces: Mapped[int] = mapped_column(default=0, server_default="0")
    unsubscribes: Mapped[int] = mapped_column(default=0, server_default="0")
    complaints: Mapped[int] = mapped_column(default=0, server_default="0")


class GroupItemFigures(Base):
    """Per item of one edition's render: the messages that clicked it and the votes on it
    (a message's last vote per item)."""

    __tablename__ = "group_item_figures"

    edition_id: Mapped[int] = mapped_column(
        ForeignKey("editions.id", ondelete="CASCADE"), primary_key=True
    )
    role_set: Mapped[str] = mapped_column(String(400), primary_key=True)
    variant: Mapped[str] = mapped_column(String(200), primary_key=True)
    content_item_id: Mapped[int] = mapped_column(
        ForeignKey("content_items.id", ondelete="CASCADE"), primary_key=True
    )
    clicks: Mapped[int] = mapped_column(default=0, server_default="0")
    yes: Mapped[int] = mapped_column(default=0, server_default="0")
    no: Mapped[int] = mapped_column(default=0, server_default="0")


class PostFigures(Base):
    """A social post's clicks by people (link previews left out), kept as they happen."""

    __tablename__ = "post_figures"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("social_posts.id", ondelete="CASCADE"), primary_key=True
    )
    clicks: Mapped[int] = mapped_column(default=0, server_default="0")


class FeedClickMark(Base):
    """A contact's first click on an item in their personal feed, and the roles it counted
    for (the item's audiences among the contact's roles then)."""

    __tablename__ = "feed_click_marks"

    contact_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    content_item_id: Mapped[int] = mapped_column(
        ForeignKey("content_items.id", ondelete="CASCADE"), primary_key=True
    )
    audiences: Mapped[str] = mapped_column(String(400))  # slugs, comma-separated
    clicked_at: Mapped[datetime]


class FeedItemFigures(Base):
    """Per item and audience: the contacts who clicked the item in their personal feed."""

    __tablename__ = "feed_item_figures"

    content_item_id: Mapped[int] = mapped_column(
        ForeignKey("content_items.id", ondelete="CASCADE"), primary_key=True
    )
    audience: Mapped[str] = mapped_column(String(64), primary_key=True)  # its slug
    contacts: Mapped[int] = mapped_column(default=0, server_default="0")


class Suppression(Base):
    """An address that must never be sent to or stored again, kept only as a hash: what is
    left of a contact erased at their request."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

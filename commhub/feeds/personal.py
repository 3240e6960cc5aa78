"""A contact's own feed: the items for their roles as an Atom feed at a signed, revocable URL,
each item's link a tracked click that counts as that contact's exposure in the `rss` format.

The URL's token signs a random name per feed (as the team's calendar feed does), so a feed
can be revoked and replaced, and no URL can be guessed from a row id. The feed answers only
while its contact may be written to in that format: unsubscribed, bounced, complained or
opted out of the feed in the preference centre, it is gone (404); paused, it is empty; erased,
its row went with the contact. Fetching the feed counts nothing; a click counts once per item.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from commhub.config import Settings
from commhub.contacts import record_engaged
from commhub.errors import NotFound
from commhub.feeds.outgoing import items_for_audiences, out_item
from commhub.feeds.writing import OutFeed, render_feed
from commhub.render import FeedTokens
from commhub.store import (
    Channel,
    Contact,
    ContactStatus,
    ContentItem,
    Event,
    EventKind,
    Format,
    PersonalFeed,
    email_key,
)
from commhub.tracking import count_feed_click, record_exposures, with_utm

PERSONAL_LIMIT = 50  # entries in a personal feed, newest first
SOURCE_KIND = "feed_item"  # an exposure through a personal feed: once per contact and item


@dataclass(frozen=True)
class FeedReader:
    """Whom a live personal feed token belongs to, and what they may be shown."""

    feed_id: int
    contact_id: int
    roles: tuple[str, ...]
    paused: bool


def personal_feed_of(session: Session, email: str, now: datetime) -> PersonalFeed:
    """The contact's live personal feed, made on first use."""
    contact = _contact(session, email)
    return live_personal_feed(session, contact.id) or _new_feed(session, contact.id, now)


def live_personal_feed(session: Session, contact_id: int) -> PersonalFeed | None:
    """The contact's live personal feed, if they have one (nothing is made)."""
    return session.scalar(
        select(PersonalFeed)
        .where(PersonalFeed.contact_id == contact_id, PersonalFeed.revoked_at.is_(None))
        .order_by(PersonalFeed.id)
        .limit(1)
    )


def revoke_personal_feed(session: Session, email: str, now: datetime) -> PersonalFeed:
    """Turn the contact's personal feed URL off for good, and give them a new one."""
    contact = _contact(session, email)
    session.execute(
        update(PersonalFeed)
        .where(PersonalFeed.contact_id == contact.id, PersonalFeed.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return _new_feed(session, contact.id, now)


def personal_feed_path(tokens: FeedTokens, feed: PersonalFeed) -> str:
    return f"/feeds/c/{tokens.sign(feed.name)}.atom"


def open_personal_feed(
    session: Session, tokens: FeedTokens, token: str, now: datetime
) -> FeedReader | None:
    """The reader behind a genuine, live token whose contact may have the feed; None for a
    forged, foreign or revoked token, or a contact who may not (the caller answers 404)."""
    name = tokens.read(token)
    if name is None:
        return None
    row = session.execute(
        select(PersonalFeed.id, Contact)
        .join(Contact, Contact.id == PersonalFeed.contact_id)
        .where(PersonalFeed.name == name, PersonalFeed.revoked_at.is_(None))
        .options(selectinload(Contact.roles))
    ).first()
    if row is None:
        return None
    feed_id, contact = row
    if contact.status is not ContactStatus.ACTIVE or Channel.FEED in contact.opted_out_channels:
        return None
    paused = contact.paused_until is not None and contact.paused_until >= now.date()
    return FeedReader(feed_id, contact.id, tuple(a.slug for a in contact.roles), paused)


def personal_feed(
    session: Session, reader: FeedReader, token: str, settings: Settings, now: datetime
) -> bytes:
    """The reader's Atom feed: the items for their roles, each linked through a tracked
    click (an item without a link of its own carries its body, and no link)."""
    base = settings.base_url.rstrip("/")
    items = [] if reader.paused or not reader.roles else items_for_audiences(
        session, reader.roles, now, PERSONAL_LIMIT
    )  # fmt: skip
    entries = [
        out_item(item, f"{base}/feeds/c/{token}/{item.id}" if _target(item) else base, base)
        for item in items
    ]
    feed = OutFeed(
        id=f"{base}/feeds/c/{token}.atom",
        title=f"{settings.org_name}: for you",
        subtitle="What the partner programme publishes for your roles.",
        home_url=base,
        self_url=f"{base}/feeds/c/{token}.atom",
        updated=max((e.updated for e in entries), default=now),
        items=entries,
    )
    return render_feed(feed, "atom")


def record_feed_click(
    session: Session, reader: FeedReader, item_id: int, now: datetime
) -> str | None:
    """Count a click on an item of the reader's feed (an event; an `rss` exposure to its key
    message, once per item) and return where it goes: the item's own stored URL, with UTM
    tags. None when the item is not one their feed carries, or has no link."""
    item = session.get(ContentItem, item_id)
    if item is None or not set(reader.roles) & {a.slug for a in item.audiences}:
        return None
    target = _target(item)
    if target is None:
        return None
    # The audiences the click counts for, named in its event: the contact's roles may change.
    audiences = sorted(set(reader.roles) & {a.slug for a in item.audiences})
    session.add(
        Event(
            kind=EventKind.CLICK, contact_id=reader.contact_id, content_item_id=item.id,
            format=Format.RSS.value, occurred_at=now, recorded_at=now,
            data={"channel": Channel.FEED.value, "feed_id": reader.feed_id, "url": target,
                  "audiences": audiences},
        )
    )  # fmt: skip
    count_feed_click(session, reader.contact_id, item.id, audiences, now)
    record_engaged(session, [(reader.contact_id, now)])  # the partner's month
    if item.key_message_id is not None:
        record_exposures(
            session, reader.contact_id, [item.key_message_id], Format.RSS.value, SOURCE_KIND,
            item.id, now,
        )  # fmt: skip
    return with_utm(target, "personal-feed", "rss", ",".join(reader.roles))


def _target(item: ContentItem) -> str | None:
    """Where an item's link goes: its own stored URL, else its video's (never anything a
    request says)."""
    return item.url or item.video_url or None


def _contact(session: Session, email: str) -> Contact:
    contact = session.scalar(select(Contact).where(Contact.email_key == email_key(email)))
    if contact is None:
        raise NotFound(f"no contact {email}")
    return contact


def _new_feed(session: Session, contact_id: int, now: datetime) -> PersonalFeed:
    feed = PersonalFeed(contact_id=contact_id, name=secrets.token_urlsafe(24), created_at=now)
    session.add(feed)
    session.flush()
    return feed

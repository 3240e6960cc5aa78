"""Feeds out: the library's published items for an audience (or for all of them), as a public
RSS or Atom feed, and the validator that lets a reader's poll cost one small query.

Public feeds carry no per-person tracking: each entry links straight to the item's own page,
tagged with UTM parameters that name the feed, never the reader.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from commhub.config import Settings
from commhub.feeds.writing import FeedKind, OutFeed, OutItem, render_feed
from commhub.store import Audience, ContentItem, ContentStatus
from commhub.tracking import with_utm

LIMIT = 50  # entries in a feed, newest first
ALL_AUDIENCES = "all"  # the slug of the feed of every audience, in its URL and its UTM campaign
UTM_MEDIUM = "rss"
# Part of every validator: a change to what a feed looks like changes every ETag with it.
FORMAT_VERSION = "1"
# A tag URI's date (RFC 4151): when these ids were minted. Never change it: ids would change.
TAG_DATE = "2026"


def items_for_audiences(
    session: Session, audiences: Sequence[str] | None, now: datetime, limit: int = LIMIT
) -> list[ContentItem]:
    """The published items in their window for any of these audience slugs (None: every
    audience), newest first, at most limit, their audiences loaded."""
    newest = func.coalesce(ContentItem.publish_at, ContentItem.created_at)
    query = (
        select(ContentItem)
        .where(_visible(now), _for_audiences(audiences))
        .order_by(newest.desc(), ContentItem.created_at.desc(), ContentItem.id.desc())
        .limit(limit)
        .options(selectinload(ContentItem.audiences))
    )
    return list(session.scalars(query))


def feed_version(
    session: Session, audiences: Sequence[str] | None, now: datetime
) -> tuple[str, datetime | None]:
    """An ETag and a Last-Modified time for the feed of these audiences, from one aggregate
    query: both change whenever what the feed shows may have changed."""
    visible = _visible(now)
    expired = and_(ContentItem.status == ContentStatus.PUBLISHED, ContentItem.expires_at <= now)
    count, newest_publish, newest_update, newest_expiry = session.execute(
        select(
            func.count(ContentItem.id).filter(visible),
            func.max(ContentItem.publish_at).filter(visible),
            # Every status: an item archived or unpublished leaves the feed, and says so here.
            func.max(ContentItem.updated_at),
            # An item that expired left the feed at that moment.
            func.max(ContentItem.expires_at).filter(expired),
        ).where(_for_audiences(audiences))
    ).one()
    scope = "*" if audiences is None else ",".join(sorted(set(audiences)))
    facts = [FORMAT_VERSION, scope, count, newest_publish, newest_update, newest_expiry]
    etag = hashlib.sha256("|".join(map(str, facts)).encode()).hexdigest()[:32]
    moments = [m for m in (newest_publish, newest_update, newest_expiry) if m is not None]
    return etag, max(moments, default=None)


def feed_audience(session: Session, slug: str) -> Audience | None:
    """The audience a feed URL names; None for one that does not exist."""
    return session.scalar(select(Audience).where(Audience.slug == slug))


def audience_feed(
    session: Session,
    audience: str | None,
    settings: Settings,
    now: datetime,
    kind: FeedKind,
    limit: int = LIMIT,
) -> bytes | None:
    """The public feed of one audience (None: of every audience) as RSS or Atom bytes; None
    for an audience that does not exist."""
    base = settings.base_url.rstrip("/")
    slug = audience or ALL_AUDIENCES
    if audience is None:
        title, subtitle = "all audiences", f"Everything {settings.org_name} publishes."
    else:
        found = feed_audience(session, audience)
        if found is None:
            return None
        title, subtitle = found.name, found.description
    items = items_for_audiences(session, None if audience is None else [audience], now, limit)
    entries = [out_item(item, public_link(item, slug, base), base) for item in items]
    feed = OutFeed(
        id=f"tag:{tag_authority(base)},{TAG_DATE}:commhub/feeds/{slug}",
        title=f"{settings.org_name}: {title}",
        subtitle=subtitle,
        home_url=base,
        self_url=f"{base}/feeds/{slug}.{kind}",
        updated=max((entry.updated for entry in entries), default=now),
        items=entries,
        author=settings.org_name,
    )
    return render_feed(feed, kind)


def out_item(item: ContentItem, link: str, base_url: str) -> OutItem:
    """An item as a feed entry pointing at link; its id stays the same whatever is edited."""
    published = item.publish_at or item.created_at
    return OutItem(
        id=f"tag:{tag_authority(base_url)},{TAG_DATE}:commhub/item/{item.id}",
        title=item.title,
        link=link,
        summary=item.summary,
        content_html=item.body_html,
        author=item.speaker,
        published=published,
        # An item scheduled ahead was last edited before it appeared: it changed when it did.
        updated=max(item.updated_at, published),
        video_url=item.video_url,
        thumbnail_url=item.thumbnail_url,
        duration_seconds=item.duration_seconds,
    )


def public_link(item: ContentItem, campaign: str, home_url: str) -> str:
    """Where a public entry points: the item's own URL, else its video's, tagged with UTM
    parameters naming the feed; else the site (the library's pages are staff-only)."""
    target = item.url or item.video_url
    if not target:
        return home_url
    return with_utm(target, campaign, UTM_MEDIUM, "")


def tag_authority(base_url: str) -> str:
    """The host a tag URI is minted under: the site's."""
    return urlsplit(base_url).hostname or "commhub"


def _visible(now: datetime) -> ColumnElement[bool]:
    return and_(
        ContentItem.status == ContentStatus.PUBLISHED,
        or_(ContentItem.publish_at.is_(None), ContentItem.publish_at <= now),
        or_(ContentItem.expires_at.is_(None), ContentItem.expires_at > now),
    )


def _for_audiences(audiences: Sequence[str] | None) -> ColumnElement[bool]:
    # An item for no audience goes to no one, in feeds as in editions.
    if audiences is None:
        return ContentItem.audiences.any()
    return ContentItem.audiences.any(Audience.slug.in_(list(audiences)))

"""Clicks on social posts' short links, and who they may be counted for.

A post is public: its click is stored for the item, the network and the account, never for
a person, unless the browser carries the attribution cookie. That cookie is set only when a
contact follows a tracked link in one of their own emails, only if they consented
(`consent_at`) and have not opted out of `social`; and it is honoured only if that is still
so at the click. A click then also counts as the contact's exposure in the `social` format.

Link previews (a Mastodon instance building a card, Slack or LinkedIn unfurling the URL)
fetch the link too: they are stored as machine clicks and count for nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from commhub.contacts import record_engaged
from commhub.store import (
    Channel,
    Contact,
    ContactStatus,
    ContentItem,
    ContentKind,
    Edition,
    Event,
    EventKind,
    Format,
    Series,
    SocialPost,
)
from commhub.tracking.exposures import record_exposures
from commhub.tracking.message_figures import count_post_click
from commhub.tracking.signals import with_utm

ATTRIBUTION_COOKIE = "commhub_seen"
ATTRIBUTION_LIFETIME = timedelta(days=180)
SOURCE_KIND = "post"  # an exposure's source: the post clicked
# The fetchers that unfurl a link into a card: not a person clicking.
PREVIEW_AGENTS = re.compile(
    r"mastodon/|http\.rb|pleroma|akkoma|misskey|slackbot|linkedinbot|twitterbot|"
    r"facebookexternalhit|discordbot|telegrambot|whatsapp|skypeuripreview|iframely|"
    r"embedly|googlebot|bingbot|applebot|bot\b|crawler|spider|preview",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PostClick:
    target: str  # where the click goes: the item's own URL, with UTM tags
    attributed: bool  # counted for the contact the cookie names
    forget_cookie: bool  # the cookie names someone who may no longer be counted


def may_attribute(session: Session, contact_id: int) -> bool:
    """Whether a click may count for this contact: consented, active, not opted out of
    social posts."""
    contact = session.get(Contact, contact_id)
    return (
        contact is not None
        and contact.consent_at is not None
        and contact.status is ContactStatus.ACTIVE
        and Channel.SOCIAL.value not in (contact.opted_out_channels or ())
    )


def record_post_click(
    session: Session,
    post_id: int,
    cookie_contact_id: int | None,
    user_agent: str | None,
    now: datetime,
) -> PostClick | None:
    """Store a click on a post's short link; where it leads (None: no such post)."""
    row = session.execute(
        select(SocialPost, ContentItem, Series.slug)
        .join(ContentItem, ContentItem.id == SocialPost.content_item_id)
        .join(Edition, Edition.id == SocialPost.edition_id)
        .join(Series, Series.id == Edition.series_id)
        .where(SocialPost.id == post_id)
    ).one_or_none()
    if row is None:
        return None
    post, item, series = row
    url = item.video_url if item.kind is ContentKind.VIDEO and item.video_url else item.url
    if not url:
        return None
    machine = bool(user_agent and PREVIEW_AGENTS.search(user_agent)) or not user_agent
    allowed = cookie_contact_id is not None and may_attribute(session, cookie_contact_id)
    contact_id = cookie_contact_id if allowed and not machine else None
    data: dict[str, object] = {
        "post_id": post.id,
        "network": post.network.value,
        "account": post.account,
        **({"machine": True} if machine else {}),
    }
    session.add(
        Event(
            kind=EventKind.CLICK,
            message_id=None,
            contact_id=contact_id,
            content_item_id=item.id,
            format=Format.SOCIAL.value,
            occurred_at=now,
            recorded_at=now,
            data=data,
        )
    )
    if not machine:
        count_post_click(session, post.id)
    if contact_id is not None:
        record_engaged(session, [(contact_id, now)])  # the partner's month
    if contact_id is not None and item.key_message_id is not None:
        record_exposures(
            session, contact_id, [item.key_message_id], Format.SOCIAL.value, SOURCE_KIND,
            post.id, now,
        )  # fmt: skip
    target = with_utm(url, series, Format.SOCIAL.value, post.account)
    return PostClick(target, contact_id is not None, cookie_contact_id is not None and not allowed)

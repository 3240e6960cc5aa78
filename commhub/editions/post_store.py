"""The social posts table: what each post's state may move to, and the lists people read.

Every move is one conditional UPDATE on the post's current state, committed by the caller
before the network is called (claim) or after it answered (record): two processes can never
both post the same row, and a crash leaves the row saying how far it got.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from commhub.store import (
    POSTS_ALERT,
    AuditAction,
    ContentItem,
    Edition,
    EditionState,
    Event,
    EventKind,
    Format,
    Network,
    PostState,
    Series,
    SocialPost,
    record_action,
    resolve_alerts,
    rowcount,
)

MAX_RETRY_AFTER = 24 * 3600.0  # a longer Retry-After is a network's mistake, not a plan
# The states a post rests in once its network has answered for good.
SETTLED = (PostState.POSTED, PostState.FAILED, PostState.UNKNOWN)


def post_counts(session: Session, edition_id: int) -> Counter[PostState]:
    """How many of the edition's posts are in each state."""
    rows = session.execute(
        select(SocialPost.state, func.count())
        .where(SocialPost.edition_id == edition_id)
        .group_by(SocialPost.state)
    )
    return Counter({state: int(n) for state, n in rows})


def next_post(session: Session, edition_id: int, now: datetime) -> SocialPost | None:
    """The edition's next planned post that is due, in id order."""
    return session.scalar(
        select(SocialPost)
        .where(
            SocialPost.edition_id == edition_id,
            SocialPost.state == PostState.PLANNED,
            or_(SocialPost.next_attempt_at.is_(None), SocialPost.next_attempt_at <= now),
        )
        .order_by(SocialPost.id)
        .limit(1)
    )


def earliest_post_retry(session: Session, edition_id: int) -> datetime | None:
    """When the edition's next waiting post is due again (None: none waits)."""
    return session.scalar(
        select(func.min(SocialPost.next_attempt_at)).where(
            SocialPost.edition_id == edition_id, SocialPost.state == PostState.PLANNED
        )
    )


def claim_post(session: Session, post_id: int, now: datetime) -> bool:
    """Planned -> posting, one more attempt, recorded before the call (False: another
    process took it first)."""
    claimed = session.execute(
        update(SocialPost)
        .where(SocialPost.id == post_id, SocialPost.state == PostState.PLANNED)
        .values(state=PostState.POSTING, attempts=SocialPost.attempts + 1, attempted_at=now)
    )
    return rowcount(claimed) == 1


def record_post(
    session: Session,
    post_id: int,
    state: PostState,
    now: datetime,
    reason: str | None = None,
    remote_id: str | None = None,
    url: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    """Posting -> what the network's answer makes it (planned again to retry at retry_at)."""
    values: dict[str, Any] = {"state": state, "reason": reason[:500] if reason else None}
    if state is PostState.POSTED:
        values |= {"posted_at": now, "remote_id": remote_id, "url": url, "reason": None}
    if state is PostState.PLANNED:
        values["next_attempt_at"] = retry_at
    session.execute(
        update(SocialPost)
        .where(SocialPost.id == post_id, SocialPost.state == PostState.POSTING)
        .values(**values)
    )


def interrupted_posts(session: Session, edition_id: int) -> list[SocialPost]:
    """Posts left `posting` by a process that stopped during the call: in doubt."""
    return list(
        session.scalars(
            select(SocialPost)
            .where(SocialPost.edition_id == edition_id, SocialPost.state == PostState.POSTING)
            .order_by(SocialPost.id)
        )
    )


def retry_in_doubt(session: Session, post_id: int, now: datetime, reason: str) -> None:
    """Posting -> planned, due now: asked again with the same idempotency key."""
    record_post(session, post_id, PostState.PLANNED, now, reason, retry_at=now)


def settle_post(
    session: Session, post_id: int, posted: bool, by: str, now: datetime, url: str | None = None
) -> SocialPost:
    """A person's word on a post in doubt (or failed): it is live (posted, at url), or it is
    not and may be posted again (planned). Only unknown or failed posts are settled so."""
    post = session.get(SocialPost, post_id)
    if post is None:
        raise LookupError(f"no post {post_id}")
    if post.state not in (PostState.UNKNOWN, PostState.FAILED):
        raise ValueError(f"post {post_id} is {post.state.value}: only unknown or failed posts")
    if posted:
        post.state, post.posted_at, post.url = PostState.POSTED, now, url or post.url
        post.reason = f"marked posted by {by}"
        said = "marked posted" + (f" at {url}" if url else "")
    else:
        post.state, post.next_attempt_at = PostState.PLANNED, now
        post.reason = f"to be posted again, said {by}"
        said = "to be posted again"
        # Its edition goes back to `sending`, so that the next scheduler sweep posts it.
        session.execute(
            update(Edition)
            .where(Edition.id == post.edition_id, Edition.state == EditionState.SENT)
            .values(state=EditionState.SENDING, finished_at=None)
        )
    session.flush()
    _after_settling(session, post.edition_id, now)
    record_action(
        session,
        AuditAction.EDITED,
        "post",
        post.id,
        f"edition {post.edition_id}: post {post.id} ({post.account} on {post.network.value}) "
        f"{said}, said {by}",
        now,
    )
    return post


def needing_a_person(counts: Counter[PostState]) -> list[str]:
    """The posts a person has to settle, in words: ["1 failed", "2 unknown"] (none: [])."""
    return [f"{counts[s]} {s.value}" for s in (PostState.FAILED, PostState.UNKNOWN) if counts[s]]


def _after_settling(session: Session, edition_id: int, now: datetime) -> None:
    """Once none of an edition's posts is in doubt or failed, its alerts about them are
    resolved and its reason says so no more."""
    left = needing_a_person(post_counts(session, edition_id))
    edition = session.get(Edition, edition_id)
    if edition is not None and edition.state is EditionState.SENT:
        edition.state_reason = ", ".join(left) or None
    if not left:
        resolve_alerts(session, edition_id, now, (POSTS_ALERT,))


@dataclass(frozen=True)
class PostRow:
    """One post as the lists show it."""

    id: int
    series: str
    edition_id: int
    network: Network
    account: str
    audiences: tuple[str, ...]
    item: str
    state: PostState
    text: str
    url: str | None
    posted_at: datetime | None
    reason: str | None
    attempts: int
    clicks: int

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "series": self.series,
            "edition_id": self.edition_id,
            "network": self.network.value,
            "account": self.account,
            "audience": ",".join(self.audiences),
            "item": self.item,
            "state": self.state.value,
            "text": self.text,
            "url": self.url,
            "posted_at": self.posted_at.isoformat() if self.posted_at else None,
            "reason": self.reason,
            "attempts": self.attempts,
            "clicks": self.clicks,
        }


def list_posts(
    session: Session,
    series_slug: str | None = None,
    edition_id: int | None = None,
    limit: int = 500,
) -> list[PostRow]:
    """Posts newest first, with their clicks; of one series or one edition when given."""
    clicks = (
        select(func.count(Event.id))
        .where(
            Event.kind == EventKind.CLICK,
            Event.format == Format.SOCIAL.value,
            Event.message_id.is_(None),
            Event.data["post_id"].as_integer() == SocialPost.id,
            Event.data["machine"].as_boolean().is_not(True),  # link previews are no clicks
        )
        .scalar_subquery()
    )
    query = (
        select(SocialPost, Series.slug, ContentItem.slug, clicks)
        .join(Edition, Edition.id == SocialPost.edition_id)
        .join(Series, Series.id == Edition.series_id)
        .join(ContentItem, ContentItem.id == SocialPost.content_item_id)
        .order_by(SocialPost.id.desc())
        .limit(limit)
    )
    if series_slug is not None:
        query = query.where(Series.slug == series_slug)
    if edition_id is not None:
        query = query.where(SocialPost.edition_id == edition_id)
    return [
        PostRow(
            post.id,
            series,
            post.edition_id,
            post.network,
            post.account,
            tuple(post.audiences or ()),
            item,
            post.state,
            post.text,
            post.url,
            post.posted_at,
            post.reason,
            post.attempts,
            int(n or 0),
        )
        for post, series, item, n in session.execute(query)
    ]


def retry_delay(attempts: int, retry_after: float | None, base: float, cap: float) -> timedelta:
    """How long a post waits before its next attempt: what the network asked (Retry-After,
    honoured in full, up to a day), or else doubling from base with each attempt, up to cap."""
    if retry_after is not None and retry_after > 0:
        return timedelta(seconds=min(retry_after, MAX_RETRY_AFTER))
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))

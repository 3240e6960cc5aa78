"""A social edition's posts: for each account, the items picked for any of its audiences,
one post each (however many of its audiences an item was picked for), composed when the
edition is prepared so that what a person approves is what goes out.

A post is a row before it is anything else: planned here, then posting, posted, failed or
unknown as the post sender records what each network answered.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from commhub.config import Settings
from commhub.editions.accounts import AccountSpec, accounts_of
from commhub.editions.selection import pick_content
from commhub.render import (
    LIMITS,
    ContentPlan,
    PickedItem,
    PostTooLong,
    SocialComposer,
    SocialItem,
    measure,
    post_tokens,
)
from commhub.store import (
    ContentItem,
    Edition,
    EditionState,
    Network,
    PostState,
    Series,
    SocialPost,
)

PREVIEW_LINK = "/s/preview"  # the short link shown in previews: no post, nothing tracked
PREVIEW_LENGTH_OF = 99_999  # a preview's link is as long as this post id's would be


@dataclass(frozen=True)
class PlannedPost:
    """One item for one account, and the account's audiences it was picked for."""

    account: AccountSpec
    item: PickedItem
    audiences: tuple[str, ...]


def plan_posts(plan: ContentPlan, accounts: Sequence[AccountSpec]) -> list[PlannedPost]:
    """Each account's posts: the items picked for any of its audiences, once each, in the
    order the audiences' picks list them. An item with nowhere to link to is not posted."""
    planned: list[PlannedPost] = []
    for account in accounts:
        found: dict[int, tuple[PickedItem, list[str]]] = {}
        for audience in plan.audiences:
            if not account.serves(audience.slug):
                continue
            for item in plan.picks.get(audience.slug, ()):
                found.setdefault(item.id, (item, []))[1].append(audience.slug)
        planned += [
            PlannedPost(account, item, tuple(audiences))
            for item, audiences in found.values()
            if item.url
        ]
    return planned


def social_items(session: Session, item_ids: Iterable[int]) -> dict[int, SocialItem]:
    """The plain values composition needs, by item id (its hashtags, its social line)."""
    ids = sorted(set(item_ids))
    rows = list(session.scalars(select(ContentItem).where(ContentItem.id.in_(ids))))
    return {
        item.id: SocialItem(
            title=item.title,
            summary=item.summary,
            kind=item.kind.value,
            speaker=item.speaker,
            duration_seconds=item.duration_seconds,
            hashtags=tuple(item.hashtags or ()),
            social_line=item.social_line,
        )
        for item in rows
    }


def preview_link(settings: Settings) -> str:
    """The short link previews show: as long as a real one (so that lengths come out as
    they will be), naming no post, so that nothing is tracked."""
    real = short_link(settings)(PREVIEW_LENGTH_OF)
    link = settings.base_url.rstrip("/") + PREVIEW_LINK
    return link + "." + "x" * max(len(real) - len(link) - 1, 0)


def post_limit(settings: Settings, account: AccountSpec) -> int | None:
    """A webhook's configured length limit (COMMHUB_SOCIAL_<NAME>_MAX_LENGTH); the
    networks' own limits otherwise (None)."""
    raw = settings.social_setting(account.name, "MAX_LENGTH")
    if account.network is Network.WEBHOOK and raw and raw.isdigit():
        return int(raw)
    return None


def short_link(settings: Settings) -> Callable[[int], str]:
    """The tracked short link of a post, by its id: signed, so that no other URL can be made
    to count as a post's click."""
    tokens = post_tokens(settings.secret_keys)
    base = settings.base_url.rstrip("/")
    return lambda post_id: f"{base}/s/{tokens.sign(post_id)}"


def queue_posts(
    session: Session,
    edition: Edition,
    planned: Sequence[PlannedPost],
    composer: SocialComposer,
    settings: Settings,
    now: datetime,
) -> list[SocialPost]:
    """Write one planned post per (account, item), its text composed around its own short
    link. A post that cannot be made to fit its network is recorded as failed, with why."""
    items = social_items(session, (p.item.id for p in planned))
    link_of = short_link(settings)
    posts = []
    for planned_post in planned:
        account = planned_post.account
        post = SocialPost(
            edition_id=edition.id,
            network=account.network,
            account=account.name,
            audiences=list(planned_post.audiences),
            content_item_id=planned_post.item.id,
            text="",
            link="",
            idempotency_key=uuid.uuid4().hex,
            state=PostState.PLANNED,
            created_at=now,
        )
        session.add(post)
        session.flush()  # the id, which its short link signs
        post.link = link_of(post.id)
        try:
            post.text = composer.compose(
                account.network.value,
                items[planned_post.item.id],
                post.link,
                series_name=edition.series.name,
                account_name=account.name,
                limit=post_limit(settings, account),
            ).text
        except PostTooLong as exc:
            post.state, post.reason = PostState.FAILED, str(exc)[:500]
        posts.append(post)
    session.flush()
    return posts


@dataclass(frozen=True)
class PostPreview:
    """A post as it would be written now, for a person to read before approving."""

    network: Network
    account: str
    audiences: tuple[str, ...]
    item: str
    title: str
    text: str
    length: int
    limit: int
    shortened: bool


def preview_posts(
    session: Session,
    series: Series,
    plan: ContentPlan,
    composer: SocialComposer,
    settings: Settings,
) -> list[PostPreview]:
    """The posts the next edition would make from plan, composed with a preview link."""
    planned = plan_posts(plan, accounts_of(series.accounts))
    items = social_items(session, (p.item.id for p in planned))
    link = preview_link(settings)
    previews = []
    for post in planned:
        account = post.account
        try:
            composed = composer.compose(
                account.network.value,
                items[post.item.id],
                link,
                series_name=series.name,
                account_name=account.name,
                limit=post_limit(settings, account),
            )
        except PostTooLong as exc:
            text, length, limit, shortened = f"(cannot be posted: {exc})", 0, 0, True
        else:
            text, length, limit = composed.text, composed.length, composed.limit
            shortened = composed.shortened
        previews.append(
            PostPreview(
                account.network,
                account.name,
                post.audiences,
                post.item.slug,
                post.item.title,
                text,
                length,
                limit,
                shortened,
            )
        )
    return previews


@dataclass(frozen=True)
class SocialPreview:
    """The posts of a social series' next edition: the held one's as they will go out, or
    those an edition started now would make."""

    posts: list[PostPreview]
    awaiting_approval: int | None = None  # the held edition shown, which needs approving


def social_preview(
    session: Session, series: Series, now: datetime, composer: SocialComposer, settings: Settings
) -> SocialPreview:
    """What a person approves: the held edition's posts, word for word, if one waits;
    otherwise the posts the next edition would make now."""
    held = session.scalar(
        select(Edition)
        .where(
            Edition.series_id == series.id,
            Edition.state == EditionState.HELD,
            Edition.prepared_at.is_not(None),
        )
        .order_by(Edition.planned_at)
        .limit(1)
    )
    if held is None:
        plan = pick_content(session, series, now)
        return SocialPreview(preview_posts(session, series, plan, composer, settings))
    accounts = {a.name: a for a in accounts_of(series.accounts)}
    rows = session.execute(
        select(SocialPost, ContentItem.slug, ContentItem.title)
        .join(ContentItem, ContentItem.id == SocialPost.content_item_id)
        .where(SocialPost.edition_id == held.id)
        .order_by(SocialPost.id)
    )
    posts = []
    for post, slug, title in rows:
        account = accounts.get(post.account)
        limit = (post_limit(settings, account) if account else None) or LIMITS[post.network.value]
        posts.append(
            PostPreview(
                post.network,
                post.account,
                tuple(post.audiences or ()),
                slug,
                title,
                post.text or f"(cannot be posted: {post.reason})",
                measure(post.text, post.network.value),
                limit,
                False,
            )
        )
    return SocialPreview(posts, held.id)

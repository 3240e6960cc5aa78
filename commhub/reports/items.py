"""Per item and audience: delivered, unique human opens, clicks, votes and the relevance rate,
the clicks in personal feeds (the `rss` format) and on social posts (the `social` format).

An item reaches an audience through the messages of editions that carried it to that
audience (and whose contact has that role), unless the message left it out (the rule of
seven: the contact had seen its key message enough). Opens count once per message and only
a person's; clicks once per message; a vote once per message, its last answer the one that
counts. A personal feed's clicks count once per contact, for each of the item's audiences
that was one of the contact's roles then; a post's clicks for each audience it was made for.

Read from the figures tracking keeps as events come in (commhub.tracking.message_figures): a
few rows per edition, never the events.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from commhub.store import (
    FULL,
    Audience,
    ContentItem,
    EditionItem,
    FeedItemFigures,
    GroupFigures,
    GroupItemFigures,
    PostFigures,
    SocialPost,
    role_set_includes,
    variant_leaves_out,
)


@dataclass(frozen=True)
class ItemReach:
    item: str
    audience: str
    delivered: int
    human_opens: int
    clicks: int
    yes: int
    no: int
    feed_clicks: int = 0  # contacts who clicked it in their personal feed
    social_clicks: int = 0  # clicks on its posts for this audience (link previews left out)

    @property
    def relevance(self) -> float | None:
        """yes / (yes + no), or None with no votes."""
        votes = self.yes + self.no
        return self.yes / votes if votes else None

    def as_row(self) -> dict[str, object]:
        relevance = self.relevance
        return {
            "item": self.item,
            "audience": self.audience,
            "delivered": self.delivered,
            "unique_human_opens": self.human_opens,
            "clicks": self.clicks,
            "votes_yes": self.yes,
            "votes_no": self.no,
            "relevance": round(relevance, 4) if relevance is not None else None,
            "feed_clicks": self.feed_clicks,
            "social_clicks": self.social_clicks,
        }


_Pair = tuple[int, str]  # (item id, audience slug)
_FIGURES = ("delivered", "human_opens", "clicks", "yes", "no", "feed_clicks", "social_clicks")


def item_report(session: Session, item_id: int | None = None) -> list[ItemReach]:
    """Every (item, audience) an edition carried, with what came of it; only item_id's
    audiences when given (an item's page). Five small queries, whatever the events."""
    found: defaultdict[_Pair, Counter[str]] = defaultdict(Counter)
    for item, audience, sent, opens in session.execute(_per_group(item_id)):
        found[item, audience].update(delivered=int(sent or 0), human_opens=int(opens or 0))
    for item, audience, clicks, yes, no in session.execute(_per_group_item(item_id)):
        found[item, audience].update(clicks=int(clicks or 0), yes=int(yes or 0), no=int(no or 0))
    feed = select(
        FeedItemFigures.content_item_id, FeedItemFigures.audience, FeedItemFigures.contacts
    )
    if item_id is not None:
        feed = feed.where(FeedItemFigures.content_item_id == item_id)
    for item, audience, contacts in session.execute(feed):
        found[item, audience]["feed_clicks"] += int(contacts)
    posts = select(SocialPost.content_item_id, SocialPost.audiences, PostFigures.clicks).join(
        PostFigures, PostFigures.post_id == SocialPost.id
    )
    if item_id is not None:
        posts = posts.where(SocialPost.content_item_id == item_id)
    for item, audiences, clicks in session.execute(posts):
        for audience in audiences or ():
            found[item, audience]["social_clicks"] += int(clicks)
    slugs = _slugs(session, {item for item, _audience in found})
    return sorted(
        (
            ItemReach(slugs[item], audience, *(counts[name] for name in _FIGURES))
            for (item, audience), counts in found.items()
            if item in slugs and any(counts.values())
        ),
        key=lambda reach: (reach.item, reach.audience),
    )


def _per_group(item_id: int | None) -> Select[int, str, int, int]:
    """(item, audience) -> messages sent and opened by a person, summed over the groups of
    messages that carried the item to the audience."""
    query = (
        select(
            EditionItem.content_item_id, Audience.slug, func.sum(GroupFigures.sent),
            func.sum(GroupFigures.human_opens),
        )
        .join(Audience, Audience.id == EditionItem.audience_id)
        .join(GroupFigures, GroupFigures.edition_id == EditionItem.edition_id)
        .where(
            role_set_includes(Audience.slug, GroupFigures.role_set),
            or_(
                GroupFigures.variant == FULL,
                ~variant_leaves_out(EditionItem.content_item_id, GroupFigures.variant),
            ),
        )
        .group_by(EditionItem.content_item_id, Audience.slug)
    )  # fmt: skip
    return query if item_id is None else query.where(EditionItem.content_item_id == item_id)


def _per_group_item(item_id: int | None) -> Select[int, str, int, int, int]:
    """(item, audience) -> messages that clicked the item, and their votes on it, over the
    groups whose role set holds an audience the edition carried the item to."""
    query = (
        select(
            GroupItemFigures.content_item_id, Audience.slug, func.sum(GroupItemFigures.clicks),
            func.sum(GroupItemFigures.yes), func.sum(GroupItemFigures.no),
        )
        .join(
            EditionItem,
            (EditionItem.edition_id == GroupItemFigures.edition_id)
            & (EditionItem.content_item_id == GroupItemFigures.content_item_id),
        )
        .join(Audience, Audience.id == EditionItem.audience_id)
        .where(role_set_includes(Audience.slug, GroupItemFigures.role_set))
        .group_by(GroupItemFigures.content_item_id, Audience.slug)
    )  # fmt: skip
    return query if item_id is None else query.where(GroupItemFigures.content_item_id == item_id)


def _slugs(session: Session, item_ids: set[int]) -> dict[int, str]:
    if not item_ids:
        return {}
    return dict(
        session.execute(
            select(ContentItem.id, ContentItem.slug).where(ContentItem.id.in_(sorted(item_ids)))
        ).all()
    )

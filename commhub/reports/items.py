"""Per item and audience: delivered, unique human opens, clicks, votes and the relevance rate,
the clicks in personal feeds (the `rss` format) and on social posts (the `social` format).

An item reaches an audience through the messages of editions that carried it to that
audience (and whose contact has that role), unless the message left it out (the rule of
seven: the contact had seen its key message enough). Opens count once per message and only
human ones; clicks once per message; a contact's last vote on the item is the one that counts.
A personal feed's clicks count once per contact, for each of the item's audiences that is one
of the contact's roles.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from commhub.store import (
    FULL,
    Audience,
    ContentItem,
    EditionItem,
    Event,
    EventKind,
    Format,
    Message,
    MessageStatus,
    SocialPost,
    contact_roles,
    content_item_audiences,
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


def item_report(session: Session, item_id: int | None = None) -> list[ItemReach]:
    """Every (item, audience) an edition carried, with what came of it; only item_id's
    audiences when given (an item's page). In SQL, whatever the number of events."""
    reached_rows = (
        select(
            ContentItem.id.label("item_id"),
            ContentItem.slug.label("item"),
            Audience.slug.label("audience"),
            Message.id.label("message_id"),
        )
        .join(EditionItem, EditionItem.content_item_id == ContentItem.id)
        .join(Audience, Audience.id == EditionItem.audience_id)
        .join(Message, Message.edition_id == EditionItem.edition_id)
        .where(
            Message.status == MessageStatus.SENT,
            role_set_includes(Audience.slug),
            or_(Message.variant == FULL, ~variant_leaves_out(ContentItem.id)),
        )
    )
    if item_id is not None:
        reached_rows = reached_rows.where(ContentItem.id == item_id)
    reached = reached_rows.subquery()
    human_open = select(Event.id).where(
        Event.message_id == reached.c.message_id,
        Event.kind == EventKind.OPEN,
        Event.data["machine"].as_boolean().is_not(True),
    )
    click = select(Event.id).where(
        Event.message_id == reached.c.message_id,
        Event.kind == EventKind.CLICK,
        Event.content_item_id == reached.c.item_id,
    )
    counts = session.execute(
        select(
            reached.c.item_id,
            reached.c.item,
            reached.c.audience,
            func.count(reached.c.message_id),
            func.sum(_flag(human_open.exists())),
            func.sum(_flag(click.exists())),
        )
        .group_by(reached.c.item_id, reached.c.item, reached.c.audience)
        .order_by(reached.c.item, reached.c.audience)
    ).all()
    votes = _last_votes(session, item_id) if counts else {}
    feed = _feed_clicks(session, item_id)
    social = _post_clicks(session, item_id)
    found = [
        ItemReach(
            item,
            audience,
            delivered,
            int(opens or 0),
            int(clicks or 0),
            votes.get((found_id, audience, "yes"), 0),
            votes.get((found_id, audience, "no"), 0),
            feed.pop((item, audience), 0),
            social.pop((item, audience), 0),
        )
        for found_id, item, audience, delivered, opens, clicks in counts
    ]
    # Items only feeds or posts carried so far: reached by no email, clicked all the same.
    for item, audience in sorted(feed.keys() | social.keys()):
        found.append(
            ItemReach(
                item,
                audience,
                0,
                0,
                0,
                0,
                0,
                feed.get((item, audience), 0),
                social.get((item, audience), 0),
            )
        )
    return sorted(found, key=lambda reach: (reach.item, reach.audience))


def _post_clicks(session: Session, item_id: int | None) -> dict[tuple[str, str], int]:
    """(item slug, audience slug) -> clicks on the item's posts, each counted for every
    audience its post was made for; link previews (machine clicks) left out."""
    clicked = select(
        Event.data["post_id"].as_integer().label("post_id"), Event.content_item_id
    ).where(
        Event.kind == EventKind.CLICK,
        Event.format == Format.SOCIAL.value,
        Event.message_id.is_(None),
        Event.data["machine"].as_boolean().is_not(True),
    )
    if item_id is not None:
        clicked = clicked.where(Event.content_item_id == item_id)
    # Grouped outside: PostgreSQL would not take two bound JSON paths as one expression.
    each = clicked.subquery()
    per_post = select(each.c.post_id, func.count().label("n")).group_by(each.c.post_id)
    counted = per_post.subquery()
    found: dict[tuple[str, str], int] = {}
    for slug, audiences, clicks in session.execute(
        select(ContentItem.slug, SocialPost.audiences, counted.c.n)
        .join(SocialPost, SocialPost.id == counted.c.post_id)
        .join(ContentItem, ContentItem.id == SocialPost.content_item_id)
    ):
        for audience in audiences or ():
            found[slug, audience] = found.get((slug, audience), 0) + int(clicks)
    return found


def _feed_clicks(session: Session, item_id: int | None) -> dict[tuple[str, str], int]:
    """(item slug, audience slug) -> contacts who clicked the item in their personal feed,
    counted for each audience of the item that is one of their roles."""
    query = (
        select(ContentItem.slug, Audience.slug, func.count(Event.contact_id.distinct()))
        .join(ContentItem, ContentItem.id == Event.content_item_id)
        .join(contact_roles, contact_roles.c.contact_id == Event.contact_id)
        .join(
            content_item_audiences,
            (content_item_audiences.c.content_item_id == ContentItem.id)
            & (content_item_audiences.c.audience_id == contact_roles.c.audience_id),
        )
        .join(Audience, Audience.id == contact_roles.c.audience_id)
        .where(
            Event.kind == EventKind.CLICK,
            Event.message_id.is_(None),
            Event.format == Format.RSS.value,
        )
        .group_by(ContentItem.slug, Audience.slug)
    )
    if item_id is not None:
        query = query.where(ContentItem.id == item_id)
    return {(item, audience): int(n) for item, audience, n in session.execute(query)}


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _last_votes(session: Session, item_id: int | None) -> dict[tuple[int, str, str], int]:
    """(item id, audience slug, answer) -> how many contacts' last vote on the item it is, a
    contact counting for each audience of the messages they were sent (their role sets)."""
    votes = select(
        Event.content_item_id.label("item_id"),
        Event.contact_id.label("contact_id"),
        Event.data["answer"].as_string().label("answer"),
        func.row_number()
        .over(
            partition_by=(Event.content_item_id, Event.contact_id),
            order_by=(Event.occurred_at.desc(), Event.id.desc()),
        )
        .label("rank"),
    ).where(
        Event.kind == EventKind.VOTE,
        Event.content_item_id.is_not(None),
        Event.contact_id.is_not(None),
    )
    if item_id is not None:
        votes = votes.where(Event.content_item_id == item_id)
    ranked = votes.subquery()
    in_audience = (
        select(Message.id)
        .where(
            Message.contact_id == ranked.c.contact_id,
            Message.status == MessageStatus.SENT,
            role_set_includes(Audience.slug),
        )
        .exists()
    )
    rows = session.execute(
        select(ranked.c.item_id, Audience.slug, ranked.c.answer, func.count())
        .select_from(ranked)
        .join(Audience, in_audience)
        .where(ranked.c.rank == 1)
        .group_by(ranked.c.item_id, Audience.slug, ranked.c.answer)
    )
    return {(found, audience, str(answer)): int(n) for found, audience, answer, n in rows}

"""Per item and audience: delivered, unique human opens, clicks, votes and the relevance rate.

An item reaches an audience through the messages of editions that carried it to that
audience (and whose contact has that role), unless the message left it out (the rule of
seven: the contact had seen its key message enough). Opens count once per message and only
human ones; clicks once per message; a contact's last vote on the item is the one that counts.
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
    Message,
    MessageStatus,
    RoleSet,
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
        }


def item_report(session: Session) -> list[ItemReach]:
    """Every (item, audience) an edition carried, with what came of it."""
    in_role_set = role_set_includes(Audience.slug)
    reached = (
        select(
            ContentItem.id.label("item_id"),
            ContentItem.slug.label("item"),
            Audience.slug.label("audience"),
            Message.id.label("message_id"),
            Message.contact_id.label("contact_id"),
        )
        .join(EditionItem, EditionItem.content_item_id == ContentItem.id)
        .join(Audience, Audience.id == EditionItem.audience_id)
        .join(Message, Message.edition_id == EditionItem.edition_id)
        .where(
            Message.status == MessageStatus.SENT,
            in_role_set,
            or_(Message.variant == FULL, ~variant_leaves_out(ContentItem.id)),
        )
        .subquery()
    )
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
    votes = _last_votes(session)
    audiences = _contact_audiences(session)
    reports = []
    for item_id, item, audience, delivered, opens, clicks in counts:
        answers = [
            answer
            for contact_id, answer in votes.get(item_id, {}).items()
            if audience in audiences.get(contact_id, set())
        ]
        yes, no = answers.count("yes"), answers.count("no")
        reports.append(
            ItemReach(item, audience, delivered, int(opens or 0), int(clicks or 0), yes, no)
        )
    return reports


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _last_votes(session: Session) -> dict[int, dict[int, str]]:
    """item id -> contact id -> their last answer."""
    found: dict[int, dict[int, str]] = {}
    for item_id, contact_id, data in session.execute(
        select(Event.content_item_id, Event.contact_id, Event.data)
        .where(Event.kind == EventKind.VOTE, Event.content_item_id.is_not(None))
        .order_by(Event.occurred_at, Event.id)
    ):
        found.setdefault(item_id, {})[contact_id] = str(data.get("answer"))
    return found


def _contact_audiences(session: Session) -> dict[int, set[str]]:
    """contact id -> the audiences of the messages they were sent (their role sets)."""
    found: dict[int, set[str]] = {}
    for contact_id, role_set in session.execute(
        select(Message.contact_id, Message.role_set)
        .where(Message.status == MessageStatus.SENT)
        .distinct()
    ):
        found.setdefault(contact_id, set()).update(RoleSet.parse(role_set))
    return found

"""What came of the messages, kept as it happens: per group of messages (one edition's render,
its role set and variant), the messages sent and the messages with each signal; per item of
the group, the messages that clicked it and their votes; per post, its clicks; per item and
audience, the contacts who clicked it in their personal feed.

Every figure counts messages (or contacts), not events: an open counts once per message, and
only a person's (commhub's machine flag and SendGrid's sg_machine_open left out); a click,
a delivery, a bounce, an unsubscribe and a complaint once per message; a vote once per message
and item, its last answer the one that counts. `message_signals` and `message_item_signals`
hold what each message has already been counted for, so that the second open changes nothing.

Reports read these rows (a few per edition) and never the events; message_recount works the
same rows out from the events and messages for `commhub report rebuild`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import ColumnElement, Table, and_, delete, func, insert, select, update
from sqlalchemy.orm import Session

from commhub.store import (
    BulkInsert,
    Event,
    EventKind,
    FeedClickMark,
    FeedItemFigures,
    Format,
    GroupFigures,
    GroupItemFigures,
    Message,
    MessageItemSignals,
    MessageSignals,
    MessageStatus,
    PostFigures,
)

# A signal counted once per message, and the group figure it bumps.
SIGNAL_FIGURES = {
    "human_open": "human_opens",
    "click": "clicks",
    "delivered": "delivered",
    "bounce": "bounces",
    "unsubscribe": "unsubscribes",
    "complaint": "complaints",
}
# The kinds of event behind each signal (an open only when a person's).
SIGNAL_KINDS = {
    "human_open": EventKind.OPEN,
    "click": EventKind.CLICK,
    "delivered": EventKind.DELIVERED,
    "bounce": EventKind.BOUNCE,
    "unsubscribe": EventKind.UNSUBSCRIBE,
    "complaint": EventKind.COMPLAINT,
}
GROUP_COLUMNS = ("sent", *SIGNAL_FIGURES.values())
ANSWERS = ("yes", "no")

SIGNALS_TABLE = cast(Table, MessageSignals.__table__)
ITEM_SIGNALS_TABLE = cast(Table, MessageItemSignals.__table__)
GROUPS_TABLE = cast(Table, GroupFigures.__table__)
GROUP_ITEMS_TABLE = cast(Table, GroupItemFigures.__table__)
POSTS_TABLE = cast(Table, PostFigures.__table__)
FEED_MARKS_TABLE = cast(Table, FeedClickMark.__table__)
FEED_TABLE = cast(Table, FeedItemFigures.__table__)
GROUP_KEY = ("edition_id", "role_set", "variant")


class MessageGroup(NamedTuple):
    """A message, and the group its figures go to."""

    message_id: int
    edition_id: int
    role_set: str
    variant: str

    @property
    def group(self) -> tuple[int, str, str]:
        return self.edition_id, self.role_set, self.variant


def _bump(table: Table, key: tuple[str, ...], column: str) -> BulkInsert:
    """An upsert adding to one counter of a row (made with zeros when new)."""
    return BulkInsert(
        table,
        (*key, column),
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {column} = "
        f"{table.name}.{column} + excluded.{column}",
        order_by=key,
    )


# Set only where not set yet: the rows returned are the messages counted for the first time.
_FIRST_SIGNAL = {
    signal: BulkInsert(
        SIGNALS_TABLE,
        ("message_id", f"{signal}_at"),
        f"ON CONFLICT (message_id) DO UPDATE SET {signal}_at = excluded.{signal}_at "
        f"WHERE message_signals.{signal}_at IS NULL",
        returning=("message_id",),
        order_by=("message_id",),
    )
    for signal in SIGNAL_FIGURES
}
_FIRST_ITEM_CLICK = BulkInsert(
    ITEM_SIGNALS_TABLE,
    ("message_id", "content_item_id", "click_at"),
    "ON CONFLICT (message_id, content_item_id) DO UPDATE SET click_at = excluded.click_at "
    "WHERE message_item_signals.click_at IS NULL",
    returning=("message_id",),
)
_BUMP_GROUP = {column: _bump(GROUPS_TABLE, GROUP_KEY, column) for column in GROUP_COLUMNS}
ITEM_KEY = (*GROUP_KEY, "content_item_id")
_BUMP_GROUP_ITEM = {
    column: _bump(GROUP_ITEMS_TABLE, ITEM_KEY, column) for column in ("clicks", *ANSWERS)
}
_BUMP_POST = _bump(POSTS_TABLE, ("post_id",), "clicks")
FEED_KEY = ("content_item_id", "audience")
_BUMP_FEED = _bump(FEED_TABLE, FEED_KEY, "contacts")
_FIRST_FEED_CLICK = BulkInsert(
    FEED_MARKS_TABLE,
    ("contact_id", "content_item_id", "audiences", "clicked_at"),
    "ON CONFLICT (contact_id, content_item_id) DO NOTHING",
    returning=("contact_id",),
)


def count_signal(
    session: Session, signal: str, messages: Iterable[MessageGroup], now: datetime
) -> int:
    """Count a signal for the messages not counted for it before; how many were new."""
    unique = {m.message_id: m for m in messages}
    if not unique:
        return 0
    new = {
        message_id
        for (message_id,) in _FIRST_SIGNAL[signal](session, [(i, now) for i in sorted(unique)])
    }
    groups = Counter(unique[i].group for i in new)
    _BUMP_GROUP[SIGNAL_FIGURES[signal]](
        session, [(*group, n) for group, n in sorted(groups.items())]
    )
    return len(new)


def count_sent(session: Session, message_ids: Iterable[int], sign: int = 1) -> None:
    """Count the messages of these that are `sent` now into their groups' sent figure (sign
    1, just after they became sent), or out of it (sign -1, just before they stop being)."""
    ids = sorted(set(message_ids))
    if not ids:
        return
    rows = session.execute(
        select(Message.edition_id, Message.role_set, Message.variant, func.count())
        .where(Message.id.in_(ids), Message.status == MessageStatus.SENT)
        .group_by(Message.edition_id, Message.role_set, Message.variant)
    ).all()
    _BUMP_GROUP["sent"](
        session,
        sorted((edition, role_set, variant, sign * n) for edition, role_set, variant, n in rows),
    )


def count_item_click(session: Session, message: MessageGroup, item_id: int, now: datetime) -> None:
    """Count a click on an item of a message, once per message and item."""
    if _FIRST_ITEM_CLICK(session, [(message.message_id, item_id, now)]):
        _BUMP_GROUP_ITEM["clicks"](session, [(*message.group, item_id, 1)])


def count_vote(
    session: Session, message: MessageGroup, item_id: int, answer: str, now: datetime
) -> None:
    """Count a vote on an item of a message: its first, or a changed mind (the last vote by
    its time counts, a later one recorded earlier leaves it be)."""
    if answer not in ANSWERS:
        raise ValueError(f"unknown answer {answer!r} (known: {', '.join(ANSWERS)})")
    found = session.execute(
        select(MessageItemSignals.answer, MessageItemSignals.voted_at)
        .where(
            MessageItemSignals.message_id == message.message_id,
            MessageItemSignals.content_item_id == item_id,
        )
        .with_for_update()
    ).one_or_none()
    if found is None:
        session.execute(
            insert(ITEM_SIGNALS_TABLE).values(
                message_id=message.message_id, content_item_id=item_id, answer=answer, voted_at=now
            )
        )
    elif found.voted_at is None or found.voted_at <= now:
        session.execute(
            update(ITEM_SIGNALS_TABLE)
            .where(
                ITEM_SIGNALS_TABLE.c.message_id == message.message_id,
                ITEM_SIGNALS_TABLE.c.content_item_id == item_id,
            )
            .values(answer=answer, voted_at=now)
        )
    else:
        return
    previous = found.answer if found is not None else None
    if previous == answer:
        return
    if previous is not None:
        _BUMP_GROUP_ITEM[previous](session, [(*message.group, item_id, -1)])
    _BUMP_GROUP_ITEM[answer](session, [(*message.group, item_id, 1)])


def count_post_click(session: Session, post_id: int) -> None:
    """Count a person's click on a post's link (a link preview is not counted)."""
    _BUMP_POST(session, [(post_id, 1)])


def count_feed_click(
    session: Session, contact_id: int, item_id: int, audiences: Iterable[str], now: datetime
) -> None:
    """Count a contact's first click on an item in their feed, for these audiences (the
    item's among the contact's roles)."""
    counted = sorted(set(audiences))
    if _FIRST_FEED_CLICK(session, [(contact_id, item_id, ",".join(counted), now)]):
        _BUMP_FEED(session, [(item_id, audience, 1) for audience in counted])


def forget_contact_figures(session: Session, contact_id: int) -> None:
    """Take a contact's messages and feed clicks out of the figures, before the contact is
    erased (its messages, events and marks then go with it)."""
    messages = select(Message.id).where(Message.contact_id == contact_id)
    groups = message_groups(session, messages)
    if groups:
        _forget_messages(session, groups)
    for item_id, audiences in session.execute(
        select(FeedClickMark.content_item_id, FeedClickMark.audiences).where(
            FeedClickMark.contact_id == contact_id
        )
    ):
        _BUMP_FEED(
            session, [(item_id, audience, -1) for audience in audiences.split(",") if audience]
        )
    posts = Counter(
        int(post_id)
        for (post_id,) in session.execute(
            select(post_id_of()).where(Event.contact_id == contact_id, post_click_by_a_person())
        )
        if post_id is not None
    )
    _BUMP_POST(session, [(post_id, -n) for post_id, n in sorted(posts.items())])


def message_groups(session: Session, message_ids: Any) -> dict[int, MessageGroup]:
    rows = session.execute(
        select(Message.id, Message.edition_id, Message.role_set, Message.variant).where(
            Message.id.in_(message_ids)
        )
    )
    return {row[0]: MessageGroup(*row) for row in rows}


def _forget_messages(session: Session, groups: Mapping[int, MessageGroup]) -> None:
    ids = sorted(groups)
    sent = Counter(
        groups[i].group
        for i in session.scalars(
            select(Message.id).where(Message.id.in_(ids), Message.status == MessageStatus.SENT)
        )
    )
    _BUMP_GROUP["sent"](session, [(*g, -n) for g, n in sorted(sent.items())])
    for row in session.execute(select(SIGNALS_TABLE).where(SIGNALS_TABLE.c.message_id.in_(ids))):
        for signal, figure in SIGNAL_FIGURES.items():
            if getattr(row, f"{signal}_at") is not None:
                _BUMP_GROUP[figure](session, [(*groups[row.message_id].group, -1)])
    for row in session.execute(
        select(ITEM_SIGNALS_TABLE).where(ITEM_SIGNALS_TABLE.c.message_id.in_(ids))
    ):
        key = (*groups[row.message_id].group, row.content_item_id)
        if row.click_at is not None:
            _BUMP_GROUP_ITEM["clicks"](session, [(*key, -1)])
        if row.answer in ANSWERS:
            _BUMP_GROUP_ITEM[row.answer](session, [(*key, -1)])
    session.execute(delete(SIGNALS_TABLE).where(SIGNALS_TABLE.c.message_id.in_(ids)))
    session.execute(delete(ITEM_SIGNALS_TABLE).where(ITEM_SIGNALS_TABLE.c.message_id.in_(ids)))


def by_a_person() -> ColumnElement[bool]:
    """SQL: an event no machine made (commhub's flag, SendGrid's sg_machine_open)."""
    return and_(
        Event.data["machine"].as_boolean().is_not(True),
        Event.data["sg_machine_open"].as_boolean().is_not(True),
    )


def post_id_of() -> ColumnElement[int]:
    post_id: ColumnElement[int] = Event.data["post_id"].as_integer()
    return post_id


def post_click_by_a_person() -> ColumnElement[bool]:
    return and_(
        Event.kind == EventKind.CLICK,
        Event.format == Format.SOCIAL.value,
        Event.message_id.is_(None),
        Event.data["machine"].as_boolean().is_not(True),
    )

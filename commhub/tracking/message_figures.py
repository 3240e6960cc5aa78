"""What came of the messages, kept as it happens: per group of messages (one edition's render,
its role set and variant), the messages sent and the messages with each signal; per item of
the group, the messages that clicked it and their votes; per post, its clicks; per item and
audience, the contacts who clicked it in their personal feed.

Every figure counts messages (or contacts), not events: an open counts once per message, and
only a person's (commhub's machine flag and SendGrid's sg_machine_open left out); a click,
a delivery, a bounce, an unsubscribe and a complaint once per message; a vote once per message
and item, its last answer the one that counts. `message_signals` and `message_item_signals`
hold what each message has already been counted for, so that the second open changes nothing.

Reports read these rows (a few per edition) and never the events. Each table has its
Aggregate below, which works the same rows out from the events and messages for
`commhub report rebuild`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import ColumnElement, Table, and_, delete, func, insert, select, update
from sqlalchemy.orm import Session

from commhub.store import (
    Audience,
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
    SocialPost,
    contact_roles,
    content_item_audiences,
)
from commhub.tracking.aggregate import Figures, Key

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

_SIGNALS = cast(Table, MessageSignals.__table__)
_ITEM_SIGNALS = cast(Table, MessageItemSignals.__table__)
_GROUPS = cast(Table, GroupFigures.__table__)
_GROUP_ITEMS = cast(Table, GroupItemFigures.__table__)
_POSTS = cast(Table, PostFigures.__table__)
_FEED_MARKS = cast(Table, FeedClickMark.__table__)
_FEED = cast(Table, FeedItemFigures.__table__)
_GROUP_KEY = ("edition_id", "role_set", "variant")


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
        _SIGNALS,
        ("message_id", f"{signal}_at"),
        f"ON CONFLICT (message_id) DO UPDATE SET {signal}_at = excluded.{signal}_at "
        f"WHERE message_signals.{signal}_at IS NULL",
        returning=("message_id",),
        order_by=("message_id",),
    )
    for signal in SIGNAL_FIGURES
}
_FIRST_ITEM_CLICK = BulkInsert(
    _ITEM_SIGNALS,
    ("message_id", "content_item_id", "click_at"),
    "ON CONFLICT (message_id, content_item_id) DO UPDATE SET click_at = excluded.click_at "
    "WHERE message_item_signals.click_at IS NULL",
    returning=("message_id",),
)
_BUMP_GROUP = {column: _bump(_GROUPS, _GROUP_KEY, column) for column in GROUP_COLUMNS}
_ITEM_KEY = (*_GROUP_KEY, "content_item_id")
_BUMP_GROUP_ITEM = {
    column: _bump(_GROUP_ITEMS, _ITEM_KEY, column) for column in ("clicks", *ANSWERS)
}
_BUMP_POST = _bump(_POSTS, ("post_id",), "clicks")
_FEED_KEY = ("content_item_id", "audience")
_BUMP_FEED = _bump(_FEED, _FEED_KEY, "contacts")
_FIRST_FEED_CLICK = BulkInsert(
    _FEED_MARKS,
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
            insert(_ITEM_SIGNALS).values(
                message_id=message.message_id, content_item_id=item_id, answer=answer, voted_at=now
            )
        )
    elif found.voted_at is None or found.voted_at <= now:
        session.execute(
            update(_ITEM_SIGNALS)
            .where(
                _ITEM_SIGNALS.c.message_id == message.message_id,
                _ITEM_SIGNALS.c.content_item_id == item_id,
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
    groups = _message_groups(session, messages)
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
            select(_post_id()).where(Event.contact_id == contact_id, _person_post_click())
        )
        if post_id is not None
    )
    _BUMP_POST(session, [(post_id, -n) for post_id, n in sorted(posts.items())])


def _message_groups(session: Session, message_ids: Any) -> dict[int, MessageGroup]:
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
    for row in session.execute(select(_SIGNALS).where(_SIGNALS.c.message_id.in_(ids))):
        for signal, figure in SIGNAL_FIGURES.items():
            if getattr(row, f"{signal}_at") is not None:
                _BUMP_GROUP[figure](session, [(*groups[row.message_id].group, -1)])
    for row in session.execute(select(_ITEM_SIGNALS).where(_ITEM_SIGNALS.c.message_id.in_(ids))):
        key = (*groups[row.message_id].group, row.content_item_id)
        if row.click_at is not None:
            _BUMP_GROUP_ITEM["clicks"](session, [(*key, -1)])
        if row.answer in ANSWERS:
            _BUMP_GROUP_ITEM[row.answer](session, [(*key, -1)])
    session.execute(delete(_SIGNALS).where(_SIGNALS.c.message_id.in_(ids)))
    session.execute(delete(_ITEM_SIGNALS).where(_ITEM_SIGNALS.c.message_id.in_(ids)))


# ----- what the events say: the same rows, worked out again (report rebuild) -----


def _person() -> ColumnElement[bool]:
    """SQL: an event no machine made (commhub's flag, SendGrid's sg_machine_open)."""
    return and_(
        Event.data["machine"].as_boolean().is_not(True),
        Event.data["sg_machine_open"].as_boolean().is_not(True),
    )


def _post_id() -> ColumnElement[int]:
    post_id: ColumnElement[int] = Event.data["post_id"].as_integer()
    return post_id


def _person_post_click() -> ColumnElement[bool]:
    return and_(
        Event.kind == EventKind.CLICK,
        Event.format == Format.SOCIAL.value,
        Event.message_id.is_(None),
        Event.data["machine"].as_boolean().is_not(True),
    )


def _first_signals(session: Session) -> dict[int, dict[str, datetime]]:
    """message id -> signal -> when the message first had it."""
    found: dict[int, dict[str, datetime]] = defaultdict(dict)
    for signal, kind in SIGNAL_KINDS.items():
        query = select(Event.message_id, func.min(Event.occurred_at)).where(
            Event.kind == kind, Event.message_id.is_not(None)
        )
        if signal == "human_open":
            query = query.where(_person())
        for message_id, first in session.execute(query.group_by(Event.message_id)):
            found[int(message_id or 0)][signal] = first
    return found


def _last_votes(session: Session) -> dict[tuple[int, int], tuple[str, datetime]]:
    """(message id, item id) -> the last answer and its time."""
    ranked = select(
        Event.message_id.label("message_id"),
        Event.content_item_id.label("item_id"),
        Event.data["answer"].as_string().label("answer"),
        Event.occurred_at.label("at"),
        func.row_number()
        .over(
            partition_by=(Event.message_id, Event.content_item_id),
            order_by=(Event.occurred_at.desc(), Event.id.desc()),
        )
        .label("rank"),
    ).where(
        Event.kind == EventKind.VOTE,
        Event.message_id.is_not(None),
        Event.content_item_id.is_not(None),
    )
    votes = ranked.subquery()
    return {
        (message_id, item_id): (str(answer), at)
        for message_id, item_id, answer, at in session.execute(
            select(votes.c.message_id, votes.c.item_id, votes.c.answer, votes.c.at).where(
                votes.c.rank == 1
            )
        )
    }


def _item_clicks(session: Session) -> dict[tuple[int, int], datetime]:
    """(message id, item id) -> the first click on the item in the message."""
    return {
        (int(message_id or 0), int(item_id or 0)): first
        for message_id, item_id, first in session.execute(
            select(Event.message_id, Event.content_item_id, func.min(Event.occurred_at))
            .where(
                Event.kind == EventKind.CLICK,
                Event.message_id.is_not(None),
                Event.content_item_id.is_not(None),
            )
            .group_by(Event.message_id, Event.content_item_id)
        )
    }


def _all_groups(session: Session, message_ids: Iterable[int]) -> dict[int, MessageGroup]:
    wanted = sorted(set(message_ids))
    found: dict[int, MessageGroup] = {}
    for start in range(0, len(wanted), 10_000):
        found |= _message_groups(session, wanted[start : start + 10_000])
    return found


@dataclass(frozen=True)
class _MessageSignalsAggregate:
    """message_signals: which signals each message has been counted for (1 or 0 each)."""

    name: str = "signals per message"
    columns: tuple[str, ...] = tuple(SIGNAL_FIGURES)

    def held(self, session: Session) -> dict[Key, Figures]:
        return {
            (row.message_id,): tuple(int(getattr(row, f"{s}_at") is not None) for s in self.columns)
            for row in session.execute(select(_SIGNALS))
        }

    def recomputed(self, session: Session) -> dict[Key, Figures]:
        return {
            (message_id,): tuple(int(s in firsts) for s in self.columns)
            for message_id, firsts in _first_signals(session).items()
        }

    def replace(self, session: Session, rows: Mapping[Key, Figures]) -> None:
        del rows  # the times are worked out again, not carried by the figures
        session.execute(delete(_SIGNALS))
        firsts = _first_signals(session)
        _insert(
            session,
            _SIGNALS,
            [
                {"message_id": i, **{f"{s}_at": at.get(s) for s in self.columns}}
                for i, at in sorted(firsts.items())
            ],
        )


@dataclass(frozen=True)
class _ItemSignalsAggregate:
    """message_item_signals: per message and item, clicked (1/0) and the last answer (0 none,
    1 yes, 2 no)."""

    name: str = "clicks and votes per message and item"
    columns: tuple[str, ...] = ("clicked", "answer")

    def held(self, session: Session) -> dict[Key, Figures]:
        return {
            (row.message_id, row.content_item_id): (
                int(row.click_at is not None),
                _answer_code(row.answer),
            )
            for row in session.execute(select(_ITEM_SIGNALS))
        }

    def recomputed(self, session: Session) -> dict[Key, Figures]:
        clicks, votes = _item_clicks(session), _last_votes(session)
        return {
            key: (int(key in clicks), _answer_code(votes[key][0] if key in votes else None))
            for key in clicks.keys() | votes.keys()
        }

    def replace(self, session: Session, rows: Mapping[Key, Figures]) -> None:
        del rows
        session.execute(delete(_ITEM_SIGNALS))
        clicks, votes = _item_clicks(session), _last_votes(session)
        _insert(
            session,
            _ITEM_SIGNALS,
            [
                {
                    "message_id": message_id,
                    "content_item_id": item_id,
                    "click_at": clicks.get((message_id, item_id)),
                    "answer": votes[message_id, item_id][0]
                    if (message_id, item_id) in votes
                    else None,
                    "voted_at": votes[message_id, item_id][1]
                    if (message_id, item_id) in votes
                    else None,
                }
                for message_id, item_id in sorted(clicks.keys() | votes.keys())
            ],
        )


def _answer_code(answer: str | None) -> int:
    return ANSWERS.index(answer) + 1 if answer in ANSWERS else 0


@dataclass(frozen=True)
class _GroupAggregate:
    """group_figures: per (edition, role set, variant), sent and each signal's messages."""

    name: str = "figures per edition and role set"
    columns: tuple[str, ...] = GROUP_COLUMNS

    def held(self, session: Session) -> dict[Key, Figures]:
        return _held(session, _GROUPS, _GROUP_KEY, self.columns)

    def recomputed(self, session: Session) -> dict[Key, Figures]:
        counts: dict[Key, Counter[str]] = defaultdict(Counter)
        for edition, role_set, variant, n in session.execute(
            select(Message.edition_id, Message.role_set, Message.variant, func.count())
            .where(Message.status == MessageStatus.SENT)
            .group_by(Message.edition_id, Message.role_set, Message.variant)
        ):
            counts[edition, role_set, variant]["sent"] += n
        firsts = _first_signals(session)
        groups = _all_groups(session, firsts)
        for message_id, signals in firsts.items():
            for signal in signals:
                counts[groups[message_id].group][SIGNAL_FIGURES[signal]] += 1
        return {key: tuple(c[column] for column in self.columns) for key, c in counts.items()}

    def replace(self, session: Session, rows: Mapping[Key, Figures]) -> None:
        _replace(session, _GROUPS, _GROUP_KEY, self.columns, rows)


@dataclass(frozen=True)
class _GroupItemAggregate:
    """group_item_figures: per group and item, the messages that clicked it, yes and no."""

    name: str = "clicks and votes per edition, role set and item"
    columns: tuple[str, ...] = ("clicks", *ANSWERS)

    def held(self, session: Session) -> dict[Key, Figures]:
        return _held(session, _GROUP_ITEMS, _ITEM_KEY, self.columns)

    def recomputed(self, session: Session) -> dict[Key, Figures]:
        clicks, votes = _item_clicks(session), _last_votes(session)
        groups = _all_groups(session, [m for m, _i in clicks.keys() | votes.keys()])
        counts: dict[Key, Counter[str]] = defaultdict(Counter)
        for message_id, item_id in clicks:
            counts[(*groups[message_id].group, item_id)]["clicks"] += 1
        for (message_id, item_id), (answer, _at) in votes.items():
            if answer in ANSWERS:
                counts[(*groups[message_id].group, item_id)][answer] += 1
        return {key: tuple(c[column] for column in self.columns) for key, c in counts.items()}

    def replace(self, session: Session, rows: Mapping[Key, Figures]) -> None:
        _replace(session, _GROUP_ITEMS, _ITEM_KEY, self.columns, rows)


@dataclass(frozen=True)
class _PostAggregate:
    """post_figures: per post, the clicks of people."""

    name: str = "clicks per post"
    columns: tuple[str, ...] = ("clicks",)

    def held(self, session: Session) -> dict[Key, Figures]:
        return _held(session, _POSTS, ("post_id",), self.columns)

    def recomputed(self, session: Session) -> dict[Key, Figures]:
        clicks = Counter(
            int(post_id)
            for (post_id,) in session.execute(select(_post_id()).where(_person_post_click()))
            if post_id is not None
        )
        known = set(session.scalars(select(SocialPost.id).where(SocialPost.id.in_(list(clicks)))))
        return {(post_id,): (n,) for post_id, n in clicks.items() if post_id in known}

    def replace(self, session: Session, rows: Mapping[Key, Figures]) -> None:
        _replace(session, _POSTS, ("post_id",), self.columns, rows)


@dataclass(frozen=True)
class _FeedAggregate:
    """feed_click_marks and feed_item_figures: per item and audience, the contacts who
    clicked it in their feed; the marks (one per contact and item) go with them."""

    name: str = "feed clicks per item and audience"
    columns: tuple[str, ...] = ("contacts",)

    def held(self, session: Session) -> dict[Key, Figures]:
        return _held(session, _FEED, _FEED_KEY, self.columns)

    def recomputed(self, session: Session) -> dict[Key, Figures]:
        counts: Counter[Key] = Counter()
        for (_contact, item_id), (audiences, _at) in _first_feed_clicks(session).items():
            for audience in audiences:
                counts[item_id, audience] += 1
        return {key: (n,) for key, n in counts.items()}

    def replace(self, session: Session, rows: Mapping[Key, Figures]) -> None:
        session.execute(delete(_FEED_MARKS))
        firsts = _first_feed_clicks(session)
        _insert(
            session,
            _FEED_MARKS,
            [
                {
                    "contact_id": contact_id,
                    "content_item_id": item_id,
                    "audiences": ",".join(audiences),
                    "clicked_at": at,
                }
                for (contact_id, item_id), (audiences, at) in sorted(firsts.items())
            ],
        )
        _replace(session, _FEED, _FEED_KEY, self.columns, rows)


def _first_feed_clicks(
    session: Session,
) -> dict[tuple[int, int], tuple[tuple[str, ...], datetime]]:
    """(contact, item) -> the audiences the first feed click counted for, and its time."""
    ranked = (
        select(
            Event.contact_id.label("contact_id"),
            Event.content_item_id.label("item_id"),
            Event.data["audiences"].label("audiences"),
            Event.occurred_at.label("at"),
            func.row_number()
            .over(
                partition_by=(Event.contact_id, Event.content_item_id),
                order_by=(Event.occurred_at, Event.id),
            )
            .label("rank"),
        )
        .where(
            Event.kind == EventKind.CLICK,
            Event.format == Format.RSS.value,
            Event.message_id.is_(None),
            Event.contact_id.is_not(None),
            Event.content_item_id.is_not(None),
        )
        .subquery()
    )
    found = {
        (contact_id, item_id): (audiences, at)
        for contact_id, item_id, audiences, at in session.execute(
            select(ranked.c.contact_id, ranked.c.item_id, ranked.c.audiences, ranked.c.at).where(
                ranked.c.rank == 1
            )
        )
    }
    # A click recorded before its event named its audiences: the item's among the contact's
    # roles as they are now (the best the database still knows).
    unnamed = [key for key, (audiences, _at) in found.items() if audiences is None]
    now_shared = _shared_audiences(session, unnamed) if unnamed else {}
    return {
        key: (tuple(sorted(now_shared.get(key, ()) if audiences is None else audiences)), at)
        for key, (audiences, at) in found.items()
    }


def _shared_audiences(
    session: Session, pairs: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], set[str]]:
    """(contact, item) -> the item's audiences that are the contact's roles now."""
    contacts = sorted({contact for contact, _item in pairs})
    items = sorted({item for _contact, item in pairs})
    roles: dict[int, set[int]] = defaultdict(set)
    for contact_id, audience_id in session.execute(
        select(contact_roles.c.contact_id, contact_roles.c.audience_id).where(
            contact_roles.c.contact_id.in_(contacts)
        )
    ):
        roles[contact_id].add(audience_id)
    tagged: dict[int, dict[int, str]] = defaultdict(dict)
    for item_id, audience_id, slug in session.execute(
        select(content_item_audiences.c.content_item_id, Audience.id, Audience.slug)
        .join(Audience, Audience.id == content_item_audiences.c.audience_id)
        .where(content_item_audiences.c.content_item_id.in_(items))
    ):
        tagged[item_id][audience_id] = slug
    return {
        (contact, item): {slug for a, slug in tagged[item].items() if a in roles[contact]}
        for contact, item in pairs
    }


def _held(
    session: Session, table: Table, key: tuple[str, ...], columns: tuple[str, ...]
) -> dict[Key, Figures]:
    """A counters table's rows: key columns -> figure columns."""
    return {
        tuple(row[k] for k in key): tuple(int(row[c]) for c in columns)
        for row in session.execute(select(table)).mappings()
    }


def _replace(
    session: Session,
    table: Table,
    key: tuple[str, ...],
    columns: tuple[str, ...],
    rows: Mapping[Key, Figures],
) -> None:
    """A counters table's rows all replaced by these (rows of zeros left out)."""
    session.execute(delete(table))
    _insert(
        session,
        table,
        [
            dict(zip(key, k, strict=True)) | dict(zip(columns, figures, strict=True))
            for k, figures in sorted(rows.items(), key=repr)
            if any(figures)
        ],
    )


def _insert(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 5_000):
        session.execute(insert(table), list(rows[start : start + 5_000]))


MESSAGE_AGGREGATES = (
    _MessageSignalsAggregate(),
    _ItemSignalsAggregate(),
    _GroupAggregate(),
    _GroupItemAggregate(),
    _PostAggregate(),
    _FeedAggregate(),
)

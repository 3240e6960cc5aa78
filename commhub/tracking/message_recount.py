"""The figures message_figures keeps, worked out again from the events and messages alone, by
the same rules, for `commhub report rebuild`: one Aggregate per table, which compares and
replaces its rows (the marks of what each message was counted for go with them).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.orm import Session

from commhub.store import (
    Audience,
    Event,
    EventKind,
    Format,
    Message,
    MessageStatus,
    SocialPost,
    contact_roles,
    content_item_audiences,
)
from commhub.tracking.aggregate import Figures, Key
from commhub.tracking.message_figures import (
    ANSWERS,
    FEED_KEY,
    FEED_MARKS_TABLE,
    FEED_TABLE,
    GROUP_COLUMNS,
    GROUP_ITEMS_TABLE,
    GROUP_KEY,
    GROUPS_TABLE,
    ITEM_KEY,
    ITEM_SIGNALS_TABLE,
    POSTS_TABLE,
    SIGNAL_FIGURES,
    SIGNAL_KINDS,
    SIGNALS_TABLE,
    MessageGroup,
    by_a_person,
    message_groups,
    post_click_by_a_person,
    post_id_of,
)


def _first_signals(session: Session) -> dict[int, dict[str, datetime]]:
    """message id -> signal -> when the message first had it."""
    found: dict[int, dict[str, datetime]] = defaultdict(dict)
    for signal, kind in SIGNAL_KINDS.items():
        query = select(Event.message_id, func.min(Event.occurred_at)).where(
            Event.kind == kind, Event.message_id.is_not(None)
        )
        if signal == "human_open":
            query = query.where(by_a_person())
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
        found |= message_groups(session, wanted[start : start + 10_000])
    return found


@dataclass(frozen=True)
class _MessageSignalsAggregate:
    """message_signals: which signals each message has been counted for (1 or 0 each)."""

    name: str = "signals per message"
    columns: tuple[str, ...] = tuple(SIGNAL_FIGURES)

    def held(self, session: Session) -> dict[Key, Figures]:
        return {
            (row.message_id,): tuple(int(getattr(row, f"{s}_at") is not None) for s in self.columns)
            for row in session.execute(select(SIGNALS_TABLE))
        }

    def recomputed(self, session: Session) -> dict[Key, Figures]:
        return {
            (message_id,): tuple(int(s in firsts) for s in self.columns)
            for message_id, firsts in _first_signals(session).items()
        }

    def replace(self, session: Session, rows: Mapping[Key, Figures]) -> None:
        del rows  # the times are worked out again, not carried by the figures
        session.execute(delete(SIGNALS_TABLE))
        firsts = _first_signals(session)
        _insert(
            session,
            SIGNALS_TABLE,
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
            for row in session.execute(select(ITEM_SIGNALS_TABLE))
        }

    def recomputed(self, session: Session) -> dict[Key, Figures]:
        clicks, votes = _item_clicks(session), _last_votes(session)
        return {
            key: (int(key in clicks), _answer_code(votes[key][0] if key in votes else None))
            for key in clicks.keys() | votes.keys()
        }

    def replace(self, session: Session, rows: Mapping[Key, Figures]) -> None:
        del rows
        session.execute(delete(ITEM_SIGNALS_TABLE))
        clicks, votes = _item_clicks(session), _last_votes(session)
        _insert(
            session,
            ITEM_SIGNALS_TABLE,
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
        return _held(session, GROUPS_TABLE, GROUP_KEY, self.columns)

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
        _replace(session, GROUPS_TABLE, GROUP_KEY, self.columns, rows)


@dataclass(frozen=True)
class _GroupItemAggregate:
    """group_item_figures: per group and item, the messages that clicked it, yes and no."""

    name: str = "clicks and votes per edition, role set and item"
    columns: tuple[str, ...] = ("clicks", *ANSWERS)

    def held(self, session: Session) -> dict[Key, Figures]:
        return _held(session, GROUP_ITEMS_TABLE, ITEM_KEY, self.columns)

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
        _replace(session, GROUP_ITEMS_TABLE, ITEM_KEY, self.columns, rows)


@dataclass(frozen=True)
class _PostAggregate:
    """post_figures: per post, the clicks of people."""

    name: str = "clicks per post"
    columns: tuple[str, ...] = ("clicks",)

    def held(self, session: Session) -> dict[Key, Figures]:
        return _held(session, POSTS_TABLE, ("post_id",), self.columns)

    def recomputed(self, session: Session) -> dict[Key, Figures]:
        clicks = Counter(
            int(post_id)
            for (post_id,) in session.execute(select(post_id_of()).where(post_click_by_a_person()))
            if post_id is not None
        )
        known = set(session.scalars(select(SocialPost.id).where(SocialPost.id.in_(list(clicks)))))
        return {(post_id,): (n,) for post_id, n in clicks.items() if post_id in known}

    def replace(self, session: Session, rows: Mapping[Key, Figures]) -> None:
        _replace(session, POSTS_TABLE, ("post_id",), self.columns, rows)


@dataclass(frozen=True)
class _FeedAggregate:
    """feed_click_marks and feed_item_figures: per item and audience, the contacts who
    clicked it in their feed; the marks (one per contact and item) go with them."""

    name: str = "feed clicks per item and audience"
    columns: tuple[str, ...] = ("contacts",)

    def held(self, session: Session) -> dict[Key, Figures]:
        return _held(session, FEED_TABLE, FEED_KEY, self.columns)

    def recomputed(self, session: Session) -> dict[Key, Figures]:
        counts: Counter[Key] = Counter()
        for (_contact, item_id), (audiences, _at) in _first_feed_clicks(session).items():
            for audience in audiences:
                counts[item_id, audience] += 1
        return {key: (n,) for key, n in counts.items()}

    def replace(self, session: Session, rows: Mapping[Key, Figures]) -> None:
        session.execute(delete(FEED_MARKS_TABLE))
        firsts = _first_feed_clicks(session)
        _insert(
            session,
            FEED_MARKS_TABLE,
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
        _replace(session, FEED_TABLE, FEED_KEY, self.columns, rows)


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

"""The rule of seven's figures, kept as they happen so that reports read a few small rows.

- exposure_tallies also holds when each contact was first targeted with a key message and
  when they met seven across three (a row of zeros with only targeted_at: sent it, never
  exposed to it). Readers that count exposures skip rows of zeros.
- reach_cells: per key message, the contacts at each capped (exposures, formats).
- reach_weeks: per key message and week (from Monday 00:00 UTC), the contacts first targeted
  that week and those who met seven across three that week.

The rules, the same here as in reach_recount (the rebuild's):
- targeted_at: the earliest of the sending times (sent_at, else queued_at) of the messages
  sent (a bounce later changes nothing) that carried an item with the key message to one of
  the contact's roles (a variant that left the item out did not carry it) and of the
  contact's exposures to it;
- met_at: once seven exposures across three formats, the later of the time of the seventh
  exposure (in time order, then id) and of the first exposure in a third format.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import (
    Select,
    Table,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from commhub.store import (
    Audience,
    BulkInsert,
    ContentItem,
    EditionItem,
    Exposure,
    ExposureTally,
    Format,
    Message,
    ReachCell,
    ReachWeek,
    role_set_includes,
    variant_leaves_out,
)

FORMATS = tuple(Format)
SEVEN = 7  # exposures before a message sticks
THREE = 3  # formats they should come through
TALLIES = cast(Table, ExposureTally.__table__)
_CELLS = cast(Table, ReachCell.__table__)
_WEEKS = cast(Table, ReachWeek.__table__)
_CHUNK = 500  # ids per IN list

Pair = tuple[int, int]  # (contact, key message)
Counts = tuple[int, ...]  # a tally's exposures per format, in FORMATS order
Seen = tuple[str, datetime, int]  # one exposure of a pair: format, when, id


def week_of(at: datetime) -> datetime:
    """The start of the week (Monday 00:00 UTC) that holds this time."""
    day = at.astimezone(UTC).date()
    return datetime.combine(day - timedelta(days=day.weekday()), time(), UTC)


def cell_of(counts: Counts) -> tuple[int, int] | None:
    """A tally's (exposures, formats), capped at SEVEN and THREE; None for no exposure."""
    total = sum(counts)
    if total <= 0:
        return None
    return min(total, SEVEN), min(sum(1 for count in counts if count > 0), THREE)


def meets_rule(counts: Counts) -> bool:
    """Seven exposures or more across three formats or more."""
    return sum(counts) >= SEVEN and sum(1 for count in counts if count > 0) >= THREE


def met_time(exposures: Iterable[Seen]) -> datetime | None:
    """When one pair's exposures met seven across three (see the module's rules)."""
    ordered = sorted(exposures, key=lambda seen: (seen[1], seen[2]))
    firsts: dict[str, datetime] = {}
    for fmt, at, _id in ordered:
        firsts.setdefault(fmt, at)
    if len(ordered) < SEVEN or len(firsts) < THREE:
        return None
    return max(ordered[SEVEN - 1][1], sorted(firsts.values())[THREE - 1])


BUMP_CELLS = BulkInsert(
    _CELLS,
    ("key_message_id", "exposures", "formats", "contacts"),
    "ON CONFLICT (key_message_id, exposures, formats) DO UPDATE SET "
    "contacts = reach_cells.contacts + excluded.contacts",
    order_by=("key_message_id", "exposures", "formats"),
)
BUMP_WEEKS = BulkInsert(
    _WEEKS,
    ("key_message_id", "week_of", "targeted", "met"),
    "ON CONFLICT (key_message_id, week_of) DO UPDATE SET "
    "targeted = reach_weeks.targeted + excluded.targeted, met = reach_weeks.met + excluded.met",
    order_by=("key_message_id", "week_of"),
)
# Zero-count tallies for the pairs a send targets; only the new ones come back.
_TARGET = BulkInsert(
    TALLIES,
    ("contact_id", "key_message_id", "targeted_at", "updated_at"),
    "ON CONFLICT (contact_id, key_message_id) DO NOTHING",
    returning=("contact_id", "key_message_id"),
    order_by=("contact_id", "key_message_id"),
)
_SET_TIMES = (
    update(TALLIES)
    .where(
        TALLIES.c.contact_id == bindparam("pair_contact"),
        TALLIES.c.key_message_id == bindparam("pair_key"),
    )
    .values(targeted_at=bindparam("new_targeted"), met_at=bindparam("new_met"))
)


class _Moves:
    """The changes to reach_cells and reach_weeks that one call makes, written at its end
    in key order (two writers of the same rows take their locks in the same order)."""

    def __init__(self) -> None:
        self.cells: Counter[tuple[int, int, int]] = Counter()
        self.targeted: Counter[tuple[int, datetime]] = Counter()
        self.met: Counter[tuple[int, datetime]] = Counter()

    def cell(self, key_id: int, counts: Counts, sign: int) -> None:
        if (cell := cell_of(counts)) is not None:
            self.cells[(key_id, *cell)] += sign

    def times(self, key_id: int, moved: Counter[tuple[int, datetime]], old: Any, new: Any) -> None:
        if old is not None:
            moved[(key_id, week_of(old))] -= 1
        if new is not None:
            moved[(key_id, week_of(new))] += 1

    def write(self, session: Session) -> None:
        BUMP_CELLS(session, [(*cell, n) for cell, n in sorted(self.cells.items()) if n])
        weeks = sorted(self.targeted.keys() | self.met.keys())
        BUMP_WEEKS(
            session,
            [
                (key_id, week, self.targeted[(key_id, week)], self.met[(key_id, week)])
                for key_id, week in weeks
                if self.targeted[(key_id, week)] or self.met[(key_id, week)]
            ],
        )


def time_reader(session: Session, column_name: str) -> Callable[[Any], datetime | None]:
    """Turns a raw RETURNING value of a tally time column into a UTC datetime."""
    dialect = session.get_bind().dialect
    column_type = TALLIES.c[column_name].type
    process = column_type.dialect_impl(dialect).result_processor(dialect, None)
    return cast(Callable[[Any], datetime | None], process or (lambda value: value))


def follow_bumps(
    session: Session, bumped: Sequence[Sequence[Any]], fresh: Mapping[Pair, Sequence[Seen]]
) -> None:
    """After record_seen bumped tallies: move their contacts between cells and weeks.

    `bumped` holds the upsert's RETURNING rows (contact, key message, the counts in FORMATS
    order, targeted_at and met_at as they were: the upsert leaves them alone, and a new row
    has no targeted_at); `fresh` the new exposures per pair."""
    read_targeted, read_met = time_reader(session, "targeted_at"), time_reader(session, "met_at")
    moves = _Moves()
    was: dict[Pair, tuple[datetime | None, datetime | None]] = {}
    times: dict[Pair, tuple[datetime | None, datetime | None]] = {}
    recount: list[Pair] = []
    for row in bumped:
        pair = (int(row[0]), int(row[1]))
        new = tuple(int(count) for count in row[2 : 2 + len(FORMATS)])
        exposures = fresh[pair]
        bump = Counter(fmt for fmt, _at, _id in exposures)
        old = tuple(count - bump[fmt] for count, fmt in zip(new, FORMATS, strict=True))
        old_targeted, old_met = read_targeted(row[-2]), read_met(row[-1])
        moves.cell(pair[1], old, -1)
        moves.cell(pair[1], new, +1)
        first = min(at for _fmt, at, _id in exposures)
        targeted = first if old_targeted is None else min(old_targeted, first)
        moves.times(pair[1], moves.targeted, old_targeted, targeted)
        was[pair] = (old_targeted, old_met)
        times[pair] = (targeted, old_met)
        # An exposure later than the rule was met leaves that time as it was.
        if meets_rule(new) and (old_met is None or first < old_met):
            recount.append(pair)
    for pair, met in _met_times(session, recount).items():
        moves.times(pair[1], moves.met, was[pair][1], met)
        times[pair] = (times[pair][0], met)
    _set_times(session, {pair: at for pair, at in times.items() if at != was[pair]})
    moves.write(session)


def _set_times(
    session: Session, times: Mapping[Pair, tuple[datetime | None, datetime | None]]
) -> None:
    if times:
        session.connection().execute(
            _SET_TIMES,
            [
                {"pair_contact": c, "pair_key": k, "new_targeted": t, "new_met": m}
                for (c, k), (t, m) in sorted(times.items())
            ],
        )


def _met_times(session: Session, pairs: Sequence[Pair]) -> dict[Pair, datetime | None]:
    """When each of these pairs met the rule, from its exposures (a few dozen each)."""
    wanted = set(pairs)
    found: dict[Pair, list[Seen]] = defaultdict(list)
    contacts = sorted({contact for contact, _key in wanted})
    keys = sorted({key for _contact, key in wanted})
    for start in range(0, len(contacts), _CHUNK):
        rows = session.execute(
            select(
                Exposure.contact_id,
                Exposure.key_message_id,
                Exposure.format,
                Exposure.occurred_at,
                Exposure.id,
            ).where(
                Exposure.contact_id.in_(contacts[start : start + _CHUNK]),
                Exposure.key_message_id.in_(keys),
            )
        )
        for contact, key, fmt, at, exposure_id in rows:
            if (contact, key) in wanted:
                found[(contact, key)].append((fmt, at, exposure_id))
    return {pair: met_time(found[pair]) for pair in pairs}


def carried(message_ids: Sequence[int] | None) -> Select[int, int | None, datetime]:
    """(contact, key message, sending time) of the sent messages (these, or all) per item
    with a key message that they carried to one of their roles."""
    sent_at = func.coalesce(Message.sent_at, Message.queued_at)
    query = (
        select(Message.contact_id, ContentItem.key_message_id, sent_at.label("at"))
        .join(EditionItem, EditionItem.edition_id == Message.edition_id)
        .join(Audience, Audience.id == EditionItem.audience_id)
        .join(ContentItem, ContentItem.id == EditionItem.content_item_id)
        .where(
            # Sent, even if it bounced later: the contact was targeted all the same.
            Message.sent_at.is_not(None),
            ContentItem.key_message_id.is_not(None),
            role_set_includes(Audience.slug),
            ~variant_leaves_out(EditionItem.content_item_id),
        )
    )
    if message_ids is not None:
        query = query.where(Message.id.in_(message_ids))
    return query


def record_targeted(session: Session, message_ids: Sequence[int], now: datetime) -> None:
    """For messages just marked sent: the (contact, key message) pairs they targeted, as
    zero-count tallies where there was none, and in reach_weeks. A few statements per
    thousand messages."""
    ids = sorted(set(message_ids))
    firsts: dict[Pair, datetime] = {}
    for start in range(0, len(ids), _CHUNK):
        for contact, key, at in session.execute(carried(ids[start : start + _CHUNK])):
            pair = (contact, key or 0)  # never None: the query asks for a key message
            if pair not in firsts or at < firsts[pair]:
                firsts[pair] = at
    if not firsts:
        return
    moves = _Moves()
    rows = [(contact, key, at, now) for (contact, key), at in sorted(firsts.items())]
    new = {(int(c), int(k)) for c, k in _TARGET(session, rows)}
    for contact, key in new:
        moves.times(key, moves.targeted, None, firsts[(contact, key)])
    # Targeted before, by an exposure or another message: earlier than this one, unless
    # sends are recorded late.
    known = sorted(set(firsts) - new)
    earlier: dict[Pair, tuple[datetime | None, datetime | None]] = {}
    if known:
        since = min(firsts[pair] for pair in known)
        contacts = sorted({contact for contact, _key in known})
        keys = sorted({key for _contact, key in known})
        wanted = set(known)
        for start in range(0, len(contacts), _CHUNK):
            held = session.execute(
                select(
                    ExposureTally.contact_id,
                    ExposureTally.key_message_id,
                    ExposureTally.targeted_at,
                    ExposureTally.met_at,
                )
                .where(
                    ExposureTally.contact_id.in_(contacts[start : start + _CHUNK]),
                    ExposureTally.key_message_id.in_(keys),
                    or_(ExposureTally.targeted_at.is_(None), ExposureTally.targeted_at > since),
                )
                .order_by(ExposureTally.contact_id, ExposureTally.key_message_id)
                .with_for_update()
            )
            for contact, key, targeted, met in held:
                pair = (contact, key)
                if pair in wanted and (targeted is None or targeted > firsts[pair]):
                    moves.times(key, moves.targeted, targeted, firsts[pair])
                    earlier[pair] = (firsts[pair], met)
    _set_times(session, earlier)
    moves.write(session)


def forget_contact_reach(session: Session, contact_id: int) -> None:
    """Take a contact out of reach_cells and reach_weeks, before the contact is erased (the
    tallies then go with it)."""
    moves = _Moves()
    for key, *counts, targeted, met in session.execute(
        select(
            ExposureTally.key_message_id,
            *(getattr(ExposureTally, fmt) for fmt in FORMATS),
            ExposureTally.targeted_at,
            ExposureTally.met_at,
        )
        .where(ExposureTally.contact_id == contact_id)
        .order_by(ExposureTally.key_message_id)
        .with_for_update()
    ):
        moves.cell(key, tuple(counts), -1)
        moves.times(key, moves.targeted, targeted, None)
        moves.times(key, moves.met, met, None)
    moves.write(session)

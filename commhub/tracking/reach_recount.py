"""The rule of seven's figures (reach_figures) worked out again from the exposures and
messages alone, by the same rules, for `commhub report rebuild`: the tallies with their
times, the cells and the weeks, each an Aggregate that compares and replaces its rows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import (
    case,
    delete,
    distinct,
    func,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from commhub.store import (
    BulkInsert,
    Exposure,
    ExposureTally,
    ReachCell,
    ReachWeek,
    utcnow,
)
from commhub.tracking.aggregate import Aggregate, Figures, Key
from commhub.tracking.reach_figures import (
    BUMP_CELLS,
    BUMP_WEEKS,
    FORMATS,
    SEVEN,
    TALLIES,
    THREE,
    Counts,
    Pair,
    Seen,
    carried,
    cell_of,
    met_time,
    time_reader,
    week_of,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(at: datetime | None) -> int:
    """A time as a figure: microseconds since 1970 (0: none)."""
    return 0 if at is None else (at - _EPOCH) // timedelta(microseconds=1)


def _time(micros: object) -> datetime | None:
    return None if not micros else _EPOCH + timedelta(microseconds=int(cast(int, micros)))


def _counted(session: Session) -> dict[Pair, Counts]:
    """Each pair's exposures per format."""
    per_format = (func.sum(case((Exposure.format == fmt, 1), else_=0)) for fmt in FORMATS)
    rows = session.execute(
        select(Exposure.contact_id, Exposure.key_message_id, *per_format).group_by(
            Exposure.contact_id, Exposure.key_message_id
        )
    )
    return {(int(c), int(k)): tuple(int(n) for n in counts) for c, k, *counts in rows}


def _targeted_times(session: Session) -> dict[Pair, datetime]:
    """Each targeted pair's first sending or exposure time."""
    sent = carried(None)
    exposed = select(Exposure.contact_id, Exposure.key_message_id, Exposure.occurred_at)
    either = union_all(sent, exposed).subquery()
    c = either.c
    first = func.min(c.at).label("first")
    rows = session.execute(
        select(c.contact_id, c.key_message_id, first).group_by(c.contact_id, c.key_message_id)
    )
    read = time_reader(session, "targeted_at")  # a MIN over a UNION comes back untyped
    found: dict[Pair, datetime] = {}
    for contact, key, at in rows:
        when = at if isinstance(at, datetime) else read(at)
        if when is not None:
            found[(int(contact), int(key))] = when.astimezone(UTC)
    return found


def _all_met_times(session: Session) -> dict[Pair, datetime]:
    """When each pair at seven across three met it, from the exposures of those pairs."""
    enough = (
        select(Exposure.contact_id, Exposure.key_message_id)
        .group_by(Exposure.contact_id, Exposure.key_message_id)
        .having(func.count() >= SEVEN, func.count(distinct(Exposure.format)) >= THREE)
        .subquery()
    )
    rows = session.execute(
        select(
            Exposure.contact_id,
            Exposure.key_message_id,
            Exposure.format,
            Exposure.occurred_at,
            Exposure.id,
        ).join(
            enough,
            (enough.c.contact_id == Exposure.contact_id)
            & (enough.c.key_message_id == Exposure.key_message_id),
        )
    )
    per_pair: dict[Pair, list[Seen]] = defaultdict(list)
    for contact, key, fmt, at, exposure_id in rows:
        per_pair[(contact, key)].append((fmt, at, exposure_id))
    found = {pair: met_time(seen) for pair, seen in per_pair.items()}
    return {pair: at for pair, at in found.items() if at is not None}


def _tally_rows(session: Session) -> dict[Key, Figures]:
    counted = _counted(session)
    targeted = _targeted_times(session)
    met = _all_met_times(session)
    zero = (0,) * len(FORMATS)
    return {
        pair: (*counted.get(pair, zero), _micros(targeted.get(pair)), _micros(met.get(pair)))
        for pair in counted.keys() | targeted.keys()
    }


class TallyAggregate:
    """exposure_tallies: per contact and key message, exposures per format, and when first
    targeted and when at seven across three (as microseconds since 1970)."""

    name = "exposure tallies per contact and key message"
    columns = (*FORMATS, "targeted_at", "met_at")

    def held(self, session: Session) -> dict[Key, Figures]:
        rows = session.execute(
            select(
                ExposureTally.contact_id,
                ExposureTally.key_message_id,
                *(getattr(ExposureTally, fmt) for fmt in FORMATS),
                ExposureTally.targeted_at,
                ExposureTally.met_at,
            )
        )
        return {
            (c, k): (*(int(n) for n in counts), _micros(targeted), _micros(met))
            for c, k, *counts, targeted, met in rows
        }

    def recomputed(self, session: Session) -> dict[Key, Figures]:
        return _tally_rows(session)

    def replace(self, session: Session, rows: Mapping[Key, Figures]) -> None:
        session.execute(delete(ExposureTally))
        now = utcnow()
        BulkInsert(
            TALLIES,
            ("contact_id", "key_message_id", *FORMATS, "targeted_at", "met_at", "updated_at"),
            order_by=("contact_id", "key_message_id"),
        )(
            session,
            [
                (*key, *figures[: len(FORMATS)], *(_time(t) for t in figures[-2:]), now)
                for key, figures in sorted(rows.items(), key=lambda row: repr(row[0]))
                if any(figures)
            ],
        )


class CellAggregate:
    """reach_cells: per key message, contacts by capped exposures and formats."""

    name = "contacts per key message by exposures (1..7+) and formats (1..3+)"
    columns = ("contacts",)

    def held(self, session: Session) -> dict[Key, Figures]:
        rows = session.execute(
            select(
                ReachCell.key_message_id, ReachCell.exposures, ReachCell.formats, ReachCell.contacts
            )
        )
        return {(k, e, f): (n,) for k, e, f, n in rows}

    def recomputed(self, session: Session) -> dict[Key, Figures]:
        found: Counter[Key] = Counter()
        for (_contact, key), counts in _counted(session).items():
            if (cell := cell_of(counts)) is not None:
                found[(key, *cell)] += 1
        return {key: (n,) for key, n in found.items()}

    def replace(self, session: Session, rows: Mapping[Key, Figures]) -> None:
        session.execute(delete(ReachCell))
        BUMP_CELLS(
            session,
            [(*key, n) for key, (n,) in sorted(rows.items(), key=lambda row: repr(row[0])) if n],
        )


class WeekAggregate:
    """reach_weeks: per key message and week, contacts newly targeted and newly at seven
    across three."""

    name = "contacts per key message and week newly targeted and at seven across three"
    columns = ("targeted", "met")

    def held(self, session: Session) -> dict[Key, Figures]:
        rows = session.execute(
            select(ReachWeek.key_message_id, ReachWeek.week_of, ReachWeek.targeted, ReachWeek.met)
        )
        return {(k, week): (t, m) for k, week, t, m in rows}

    def recomputed(self, session: Session) -> dict[Key, Figures]:
        targeted: Counter[Key] = Counter()
        met: Counter[Key] = Counter()
        for (_contact, key), at in _targeted_times(session).items():
            targeted[(key, week_of(at))] += 1
        for (_contact, key), at in _all_met_times(session).items():
            met[(key, week_of(at))] += 1
        return {key: (targeted[key], met[key]) for key in targeted.keys() | met.keys()}

    def replace(self, session: Session, rows: Mapping[Key, Figures]) -> None:
        session.execute(delete(ReachWeek))
        BUMP_WEEKS(
            session,
            [(*key, *figures) for key, figures in sorted(rows.items(), key=lambda r: repr(r[0]))],
        )


REACH_AGGREGATES: tuple[Aggregate, ...] = (TallyAggregate(), CellAggregate(), WeekAggregate())

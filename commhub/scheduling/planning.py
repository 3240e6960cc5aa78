"""Planned editions as rows, kept a year and more ahead of their dates.

The rows are the truth the scheduler works from (scheduling.due claims them). plan_editions
writes a series' editions for the next HORIZON, from its cadence, business days and zone;
rewrites the ones not yet started when the schedule changes; and tops them up as they run
out, a few series a day.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, NamedTuple, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Table,
    bindparam,
    delete,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from commhub.scheduling.cadence import (
    BusinessDays,
    Cadence,
    next_occurrences,
    parse_cadence,
    zone_named,
)
from commhub.store import (
    PLAN_ALERT,
    Edition,
    EditionState,
    Series,
    Shift,
    UtcDateTime,
    bind_converter,
    raise_alert,
)

EDITIONS = cast(Table, Edition.__table__)
SERIES = cast(Table, Series.__table__)
# Rows are kept this far ahead, and topped up when fewer than REFILL_BELOW remain, so that
# a 12-month calendar is always complete and a series is extended about once a month.
HORIZON = timedelta(days=400)
REFILL_BELOW = timedelta(days=370)
STAGGER_DAYS = 28
# Where each day starts first (UTC+14, Kiribati): a series sent at each contact's local time
# starts its edition when the first wave could be due anywhere.
FIRST_ZONE = timezone(timedelta(hours=14))
_CHUNK = 500


@dataclass(frozen=True)
class Schedule:
    """When a series runs: everything its planned editions are computed from."""

    cadence: Cadence
    zone: ZoneInfo
    start: date | None = None
    business_days: BusinessDays = field(default_factory=BusinessDays)
    local_time: bool = False

    def key(self) -> str:
        """A digest of what the planned times depend on: when it changes, they are redone."""
        days = self.business_days
        facts = [
            self.cadence.text, self.zone.key, str(self.start), days.shift.value, days.country,
            sorted(d.isoformat() for d in days.company_days), self.local_time,
        ]  # fmt: skip
        return hashlib.sha256(json.dumps(facts).encode()).hexdigest()

    def planned_between(self, after: datetime, until: datetime) -> list[datetime]:
        """The planned times in (after, until], in the series' zone."""
        found: list[datetime] = []
        count = 4  # a month's top-up needs few; a year of a weekly series, more: doubling
        while True:
            batch = next_occurrences(
                self.cadence, self.zone, after, count, self.start, self.business_days
            )
            for planned in batch:
                if planned > until:
                    return found
                found.append(planned)
            if len(batch) < count:
                return found
            after = batch[-1]
            count = min(count * 2, 64)

    def due_at(self, planned_at: datetime) -> datetime:
        """When the scheduler starts the edition planned at planned_at."""
        if not self.local_time:
            return planned_at
        wall = planned_at.astimezone(self.zone).replace(tzinfo=None)
        return wall.replace(tzinfo=FIRST_ZONE)


def schedule_of(series: Series | Any) -> Schedule:
    """A series' schedule, from its row (or a row of the same columns)."""
    return Schedule(
        cadence=_cadence(series.cadence),
        zone=zone_named(series.timezone),
        start=series.start_date,
        business_days=_business_days(
            series.shift, series.holiday_country, tuple(series.company_days or ())
        ),
        local_time=series.local_time,
    )


@lru_cache(maxsize=1024)
def _cadence(text: str) -> Cadence:
    return parse_cadence(text)


@lru_cache(maxsize=1024)
def _business_days(shift: Shift, country: str | None, days: tuple[str, ...]) -> BusinessDays:
    return BusinessDays(Shift(shift), country, frozenset(date.fromisoformat(d) for d in days))


@dataclass
class PlanReport:
    series: int = 0  # series whose rows were written or rewritten
    created: int = 0
    removed: int = 0
    cancelled: list[int] = field(default_factory=list)  # approved editions off the cadence
    failed: dict[str, str] = field(default_factory=dict)  # series slug: why it cannot be planned


def plan_editions(
    session: Session,
    now: datetime,
    series_ids: Sequence[int] | None = None,
    check_all: bool = False,
    horizon: timedelta = HORIZON,
) -> PlanReport:
    """Bring the planned rows up to date for the given series, or else for every series
    whose rows run out within REFILL_BELOW (never planned, or planned a while ago). With
    check_all, every series' schedule is also compared with what its rows were made from
    (a scheduler does this at start; `series apply` plans what it changes itself)."""
    report = PlanReport()
    columns = (
        Series.id, Series.slug, Series.cadence, Series.timezone, Series.start_date,
        Series.shift, Series.holiday_country, Series.company_days, Series.local_time,
        Series.planned_through, Series.plan_key,
    )  # fmt: skip
    query = select(*columns).order_by(Series.id)
    if series_ids is not None:
        query = query.where(Series.id.in_(list(series_ids)))
    elif not check_all:
        query = query.where(
            or_(Series.planned_through.is_(None), Series.planned_through < now + REFILL_BELOW)
        )
    rows = list(session.execute(query))
    until = now + horizon
    writer = _PlannedRows(session, now)
    for start in range(0, len(rows), _CHUNK):
        work = []
        for row in rows[start : start + _CHUNK]:
            schedule = schedule_of(row)
            key = schedule.key()
            changed = key != row.plan_key
            if not changed and row.planned_through and row.planned_through >= now + REFILL_BELOW:
                continue
            after = now if changed or row.planned_through is None else row.planned_through
            try:
                times = writer.times(schedule, key, max(after, now), until)
            except ValueError as exc:
                # One series that cannot be planned must not stop the others from sending.
                report.failed[row.slug] = str(exc)
                _alert_unplannable(session, row.slug, str(exc), now)
                continue
            work.append(_Work(row, key, changed, times))
        if work:
            _plan_chunk(session, work, now, until, report)
    return report


class _Work(NamedTuple):
    row: Any
    key: str
    changed: bool
    # planned_at, due_at, and both as stored
    times: list[tuple[datetime, datetime, Any, Any]]


def _alert_unplannable(session: Session, slug: str, reason: str, now: datetime) -> None:
    raise_alert(
        session, PLAN_ALERT, f"series {slug} cannot be planned",
        f"No editions of {slug} could be planned: {reason}. Its editions already planned "
        "still go out. Fix the series (its holidays or shift) and apply the file again.",
        now,
    )  # fmt: skip


def _plan_chunk(
    session: Session, work: list[_Work], now: datetime, until: datetime, report: PlanReport
) -> None:
    changed = [w for w in work if w.changed and w.row.plan_key]
    if changed:
        _unplan(session, changed, now, report)
    # Only rows after the earliest time being planned can clash.
    earliest = min((w.times[0][0] for w in work if w.times), default=until)
    existing: set[tuple[int, datetime]] = set(
        session.execute(
            select(Edition.series_id, Edition.planned_at).where(
                Edition.series_id.in_([w.row.id for w in work]), Edition.planned_at >= earliest
            )
        )
    )
    rows = [
        (w.row.id, planned, due)
        for w in work
        for planned_at, _due_at, planned, due in w.times
        if (w.row.id, planned_at) not in existing
    ]
    if rows:
        _insert_planned(session, rows)
    session.execute(
        update(SERIES)
        .where(SERIES.c.id == bindparam("sid"))
        .values(plan_key=bindparam("key"), planned_through=bindparam("through")),
        [{"sid": w.row.id, "key": w.key, "through": until - _stagger(w.row.id)} for w in work],
    )
    report.series += len(work)
    report.created += len(rows)


def _insert_planned(session: Session, rows: list[tuple[int, Any, Any]]) -> None:
    """Insert planned rows (series id, planned_at, due_at, already in the database's form)
    through the driver's bulk path, skipping any another scheduler wrote a moment ago.

    A year of 10,000 series is 170,000 rows: building SQLAlchemy parameters for each cost
    more than the INSERT, and on PostgreSQL even a driver executemany took longer than the
    5 s a scheduler's start-up may, so PostgreSQL takes them by COPY into a scratch table.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.exec_driver_sql(_INSERT_SQLITE, rows)
        return
    connection.exec_driver_sql(_SCRATCH)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy("COPY planned_scratch (series_id, planned_at, due_at) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    connection.exec_driver_sql(_FROM_SCRATCH)


_INSERT_SQLITE = """
INSERT INTO editions (series_id, planned_at, due_at, state, recipient_count, notes,
                      created_at, updated_at)
VALUES (?, ?, ?, 'planned', 0, '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)
ON CONFLICT DO NOTHING
"""
_SCRATCH = """
CREATE TEMPORARY TABLE IF NOT EXISTS planned_scratch (
    series_id integer, planned_at timestamptz, due_at timestamptz
) ON COMMIT DELETE ROWS;
TRUNCATE planned_scratch
"""
_FROM_SCRATCH = """
INSERT INTO editions (series_id, planned_at, due_at, state, recipient_count, notes,
                      created_at, updated_at)
SELECT series_id, planned_at, due_at, 'planned', 0, '{}', now(), now() FROM planned_scratch
ON CONFLICT DO NOTHING
"""


def _stagger(series_id: int) -> timedelta:
    """A series' rows count as planned up to a few days short of the horizon, differently
    per series, so that series planned together are topped up on different days rather than
    all in one sweep (the rows in between exist: topping up skips them)."""
    return timedelta(days=series_id % STAGGER_DAYS)


def _unchanged(value: Any) -> Any:
    return value


class _PlannedRows:
    """The planned times of each schedule, and the rows for them in the form the database
    takes, each worked out once: thousands of series share a few hundred schedules, and
    converting every row's times one by one cost more than the INSERT itself."""

    def __init__(self, session: Session, now: datetime) -> None:
        dialect = session.get_bind().dialect
        self._stored_time = bind_converter(UtcDateTime(), dialect) or _unchanged
        self._times: dict[tuple[str, datetime], list[tuple[datetime, datetime, Any, Any]]] = {}
        self.now = now

    def times(
        self, schedule: Schedule, key: str, after: datetime, until: datetime
    ) -> list[tuple[datetime, datetime, Any, Any]]:
        """The planned times in (after, until] not yet due, each with planned_at and due_at
        as stored (raises ValueError when the schedule cannot be worked out)."""
        found = self._times.get((key, after))
        if found is None:
            found = self._times[key, after] = [
                (planned_at, due_at, self._stored_time(planned_at), self._stored_time(due_at))
                for planned_at in schedule.planned_between(after, until)
                # A local-time edition whose first wave has passed is not planned late.
                if (due_at := schedule.due_at(planned_at)) > self.now
            ]
        return found


def _unplan(session: Session, changed: list[_Work], now: datetime, report: PlanReport) -> None:
    """Remove the future editions nobody has touched whose time is off the new schedule; an
    approved one is cancelled with the reason, for its approver to see. Those still on it
    stay (approval included), with their due time brought up to date."""
    wanted = {w.row.id: {t: due for t, due, *_stored in w.times} for w in changed}
    untouched = session.execute(
        select(Edition.id, Edition.series_id, Edition.planned_at, Edition.approved_at).where(
            Edition.series_id.in_(list(wanted)),
            Edition.state == EditionState.PLANNED,
            Edition.due_at > now,
            Edition.prepared_at.is_(None),
        )
    ).all()
    off = [r for r in untouched if r.planned_at not in wanted[r.series_id]]
    kept = [r for r in untouched if r.planned_at in wanted[r.series_id]]
    cancelled = [r.id for r in off if r.approved_at is not None]
    removed = [r.id for r in off if r.approved_at is None]
    if cancelled:
        session.execute(
            update(Edition)
            .where(Edition.id.in_(cancelled))
            .values(
                state=EditionState.CANCELLED,
                finished_at=now,
                state_reason="the series' schedule changed and no longer has this date",
            )
        )
        report.cancelled.extend(cancelled)
    if removed:
        session.execute(delete(Edition).where(Edition.id.in_(removed)))
        report.removed += len(removed)
    if kept:
        session.execute(
            update(EDITIONS)
            .where(EDITIONS.c.id == bindparam("eid"))
            .values(due_at=bindparam("due", type_=UtcDateTime())),
            [{"eid": r.id, "due": wanted[r.series_id][r.planned_at]} for r in kept],
        )


def series_ids_of(session: Session, slugs: Iterable[str]) -> list[int]:
    return list(session.scalars(select(Series.id).where(Series.slug.in_(list(slugs)))))

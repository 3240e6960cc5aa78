"""The calendar a month at a time, and each series' dates: what the staff pages show.

A month is read as a window of planned times (indexed by the editions' planned_at through
their (series, planned_at) key only per series, so a window is one range scan over a
year's rows at most), paged with LIMIT/OFFSET. A series' next dates come from its planned
rows, topped up from its cadence where the rows run out (or were never written).
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from commhub.actions import NextStep
from commhub.editions import steps_for_state
from commhub.scheduling.agenda import RecipientCounter, series_audience_slugs
from commhub.scheduling.cadence import next_occurrences, zone_named
from commhub.scheduling.planning import schedule_of
from commhub.store import Channel, Edition, EditionState, Series

# Editions still to come: what "next" means for a series.
UPCOMING_STATES = (EditionState.PLANNED, EditionState.HELD, EditionState.PAUSED)
# A month grid shows at most this many editions; the list view pages through the rest.
GRID_LIMIT = 1500


@dataclass(frozen=True)
class MonthEntry:
    """One edition on the calendar."""

    edition_id: int
    series_slug: str
    series_name: str
    planned_at: datetime  # in the series' zone
    timezone: str
    state: EditionState
    state_reason: str | None
    expected_recipients: int | None = None  # None: not counted
    channel: str = "newsletter"  # the series' channel

    @property
    def steps(self) -> tuple[NextStep, ...]:
        """What can be done with the edition now, as on its own page."""
        return steps_for_state(self.edition_id, self.series_slug, self.state, self.state_reason)


def parse_month(text: str | None, today: date) -> date:
    """The first day of the month a "yyyy-mm" names; anything else is today's month."""
    try:
        year_text, month_text = (text or "").split("-")
        if len(year_text) != 4 or not (year_text.isdigit() and month_text.isdigit()):
            raise ValueError(text)
        return date(int(year_text), int(month_text), 1)
    except ValueError:
        return today.replace(day=1)


def shift_month(first: date, months: int) -> date:
    """The first day of the month `months` after (or before) the month of `first`."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_weeks(first: date) -> list[list[date]]:
    """The month's weeks, Monday first, each a list of seven days (with the days of the
    months either side that complete the first and last weeks)."""
    return _calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """Midnight at the start of day in zone."""
    return datetime.combine(day, time(), tzinfo=zone)


def count_editions_between(session: Session, start: datetime, end: datetime) -> int:
    """How many editions are planned in [start, end), of every series, in every state."""
    query = select(func.count(Edition.id)).where(
        Edition.planned_at >= start, Edition.planned_at < end
    )
    return int(session.scalar(query) or 0)


def editions_between(
    session: Session,
    start: datetime,
    end: datetime,
    now: datetime,
    offset: int = 0,
    limit: int = GRID_LIMIT,
    with_recipients: bool = False,
) -> list[MonthEntry]:
    """The editions planned in [start, end), in time order, from offset, at most limit.

    With with_recipients, each carries its recipients: the count queued for an edition
    prepared, else who its series' audience would reach as of now (counted once per
    distinct audience selection, as the agenda does)."""
    rows = session.execute(
        select(
            Edition.id, Edition.series_id, Edition.planned_at, Edition.state,
            Edition.state_reason, Edition.prepared_at, Edition.recipient_count,
            Series.slug, Series.name, Series.timezone, Series.channel,
        )
        .join(Series, Series.id == Edition.series_id)
        .where(Edition.planned_at >= start, Edition.planned_at < end)
        .order_by(Edition.planned_at, Edition.series_id)
        .offset(offset)
        .limit(limit)
    ).all()  # fmt: skip
    expected: dict[int, int] = {}
    if with_recipients and rows:
        expected = _expected_recipients(session, {row.series_id for row in rows}, now)
    return [
        MonthEntry(
            row.id, row.slug, row.name, row.planned_at.astimezone(zone_named(row.timezone)),
            row.timezone, row.state, row.state_reason,
            (row.recipient_count if row.prepared_at is not None else expected.get(row.series_id))
            # A social edition posts to its series' accounts: it has no recipients.
            if with_recipients and row.channel is not Channel.SOCIAL else None,
            row.channel.value,
        )
        for row in rows
    ]  # fmt: skip


def _expected_recipients(session: Session, series_ids: set[int], now: datetime) -> dict[int, int]:
    series = list(session.scalars(select(Series).where(Series.id.in_(series_ids))))
    audiences = series_audience_slugs(session, series_ids)
    counter = RecipientCounter(session, now, series)
    found = {}
    for one in series:
        chosen = {} if one.all_audiences else audiences.get(one.id, {})
        found[one.id] = counter.count(tuple(chosen.values()), one)
    return found


def by_day(entries: Iterable[MonthEntry], zone: ZoneInfo) -> dict[date, list[MonthEntry]]:
    """The entries by the day they fall on in zone (the viewer's), in time order."""
    found: dict[date, list[MonthEntry]] = {}
    for entry in entries:
        found.setdefault(entry.planned_at.astimezone(zone).date(), []).append(entry)
    return found


# -- series ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesSummary:
    series: Series
    next_at: datetime | None  # in the series' zone; None: no date to come


def count_series(session: Session) -> int:
    return int(session.scalar(select(func.count(Series.id))) or 0)


def series_summaries(
    session: Session, now: datetime, offset: int = 0, limit: int = 50
) -> list[SeriesSummary]:
    """A page of series, by name, with their audiences and next date (three queries)."""
    series = list(
        session.scalars(
            select(Series)
            .options(selectinload(Series.audiences))
            .order_by(Series.name, Series.slug)
            .offset(offset)
            .limit(limit)
        )
    )
    planned = next_planned(session, [s.id for s in series], now)
    found = []
    for one in series:
        next_at = planned.get(one.id)
        if next_at is None:
            computed = cadence_dates(one, now, 1)
            next_at = computed[0] if computed else None
        zone = zone_named(one.timezone)
        found.append(SeriesSummary(one, next_at.astimezone(zone) if next_at else None))
    return found


def next_planned(session: Session, series_ids: Sequence[int], now: datetime) -> dict[int, datetime]:
    """Each series' earliest edition still to come after now, by series id."""
    if not series_ids:
        return {}
    rows = session.execute(
        select(Edition.series_id, func.min(Edition.planned_at))
        .where(
            Edition.series_id.in_(list(series_ids)),
            Edition.planned_at > now,
            Edition.state.in_(UPCOMING_STATES),
        )
        .group_by(Edition.series_id)
    )
    return {row[0]: row[1] for row in rows}


def cadence_dates(series: Series, after: datetime, count: int) -> list[datetime]:
    """The series' next count dates after `after` from its cadence alone (none when its
    schedule cannot be worked out)."""
    try:
        schedule = schedule_of(series)
        return next_occurrences(
            schedule.cadence, schedule.zone, after, count, schedule.start, schedule.business_days
        )
    except ValueError:  # CadenceError included
        return []


def next_dates(session: Session, series: Series, now: datetime, count: int = 5) -> list[datetime]:
    """The series' next count dates, in its zone: its planned editions still to come, then
    its cadence past the last of them."""
    zone = zone_named(series.timezone)
    planned = [
        moment.astimezone(zone)
        for moment in session.scalars(
            select(Edition.planned_at)
            .where(
                Edition.series_id == series.id,
                Edition.planned_at > now,
                Edition.state.in_(UPCOMING_STATES),
            )
            .order_by(Edition.planned_at)
            .limit(count)
        )
    ]
    if len(planned) < count:
        after = planned[-1] if planned else now
        planned += cadence_dates(series, after, count - len(planned))
    return planned


def recent_editions(
    session: Session, series_id: int, now: datetime, limit: int = 10
) -> list[Edition]:
    """The series' latest editions planned up to now (or started early), newest first."""
    return list(
        session.scalars(
            select(Edition)
            .where(
                Edition.series_id == series_id,
                (Edition.planned_at <= now) | Edition.started_at.is_not(None),
            )
            .order_by(Edition.planned_at.desc())
            .limit(limit)
        )
    )


def weeks_window(first: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants a month grid covers in zone: from the Monday of its first week to the
    end of the Sunday of its last."""
    weeks = month_weeks(first)
    return day_start(weeks[0][0], zone), day_start(weeks[-1][-1] + timedelta(days=1), zone)


def month_window(first: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants the month of `first` covers in zone."""
    return day_start(first, zone), day_start(shift_month(first, 1), zone)

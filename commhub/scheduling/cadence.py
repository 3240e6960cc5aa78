"""Cadences a person reads and writes, and the dates they fall on: pure functions, no clock.

    monthly on day 15 at 09:00            "day 31" is the last day of shorter months
    monthly on the first tuesday at 09:00 first, second, third, fourth or last
    monthly on the last day at 17:00
    weekly on monday, thursday at 08:30
    every 2 weeks on friday at 16:00      counted from the series' start date
    quarterly on the first monday at 10:00  quarters begin in January, April, July, October
    cron: 0 9 * * 2#1                     standard cron: 0 and 7 are Sunday, #n is the nth
                                          weekday of the month, day of month and day of
                                          week both given means either

Occurrences come from python-dateutil's rrule (RFC 5545 recurrence rules, which an iCalendar
export can reuse), computed in local wall time and then placed in the series' time zone, so
09:00 stays 09:00 across daylight saving. A local time that does not exist (the hour clocks
skip) moves forward by the gap; one that happens twice is the first. BusinessDays moves a
date that falls on a weekend or a holiday (the `holidays` package's, for a country, plus
the company's own dates) to the previous or next business day, at the same time of day.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from dateutil.rrule import (
    DAILY,
    FR,
    MO,
    MONTHLY,
    SA,
    SU,
    TH,
    TU,
    WE,
    WEEKLY,
    rrule,
    rruleset,
    weekday,
)

from commhub.errors import CommhubError
from commhub.store import Shift

WEEKDAYS = {
    "monday": MO, "tuesday": TU, "wednesday": WE, "thursday": TH,
    "friday": FR, "saturday": SA, "sunday": SU,
}  # fmt: skip
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
QUARTER_MONTHS = (1, 4, 7, 10)
_AT = re.compile(r"^(?P<head>.*?)\s+at\s+(?P<time>\S+)$")
_TIME = re.compile(r"^(?P<hour>\d{1,2}):(?P<minute>\d{2})$")
_EVERY_WEEKS = re.compile(r"^every\s+(?P<n>\d+)\s+weeks?$")


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


class CadenceError(CommhubError):
    """A cadence text that cannot be read; the message names the part that is wrong."""

    def __init__(self, text: str, message: str) -> None:
        super().__init__(f'cadence "{text}": {message}')
        self.text = text
        self.message = message


@dataclass(frozen=True)
class Cadence:
    """A parsed cadence: one or more recurrence rules over local wall time.

    Each rule is kept as rrule keyword arguments without a start, which
    next_occurrences supplies; `weeks_apart` > 1 means the rule counts weeks from the
    series' start date.
    """

    text: str
    rules: tuple[tuple[tuple[str, object], ...], ...]
    weeks_apart: int = 1

    def rule_arguments(self) -> list[dict[str, object]]:
        return [dict(rule) for rule in self.rules]


def parse_cadence(text: str) -> Cadence:
    """Read a cadence; raises CadenceError naming the part that is wrong."""
    clean = " ".join(text.lower().split())
    if clean.startswith("cron:"):
        cadence = Cadence(text, _cron_rules(text, clean.removeprefix("cron:").strip()))
        _check_cron_spacing(cadence)
        return cadence
    match = _AT.match(clean)
    if not match:
        raise CadenceError(text, 'expected "... at HH:MM" (or "cron: M H DOM MON DOW")')
    hour, minute = _time_of_day(text, match["time"])
    at = (("byhour", hour), ("byminute", minute), ("bysecond", 0))
    head = match["head"]
    for period in ("monthly", "quarterly"):
        if head.startswith(f"{period} on "):
            days = _days_of_month(text, head.removeprefix(f"{period} on "))
            months = (("bymonth", QUARTER_MONTHS),) if period == "quarterly" else ()
            return Cadence(text, ((("freq", MONTHLY), *days, *months, *at),))
    words = head.split(" on ", 1)
    if len(words) == 2:
        every = _EVERY_WEEKS.match(words[0])
        if words[0] == "weekly" or every:
            weeks = int(every["n"]) if every else 1
            if not 1 <= weeks <= 52:
                raise CadenceError(text, f'"{words[0]}": between 1 and 52 weeks')
            days_of_week = _weekdays(text, words[1])
            rule = (("freq", WEEKLY), ("interval", weeks), ("byweekday", days_of_week), *at)
            return Cadence(text, (rule,), weeks_apart=weeks)
    raise CadenceError(
        text,
        f'"{head}": expected "monthly on ...", "quarterly on ...", "weekly on ...", '
        f'"every N weeks on ..." or "cron: ..."',
    )


@dataclass(frozen=True)
class BusinessDays:
    """Which days are business days, and where a date that is not one moves."""

    shift: Shift = Shift.NONE
    country: str | None = None  # ISO 3166 code, optionally with a subdivision: "GB-ENG"
    company_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if self.country is not None:
            self._country_holidays(2000)  # an unknown country fails here, not on a send date

    def is_business_day(self, day: date) -> bool:
        return (
            day.weekday() < 5
            and day not in self.company_days
            and (self.country is None or day not in self._country_holidays(day.year))
        )

    def shifted(self, day: date) -> date:
        """The day itself, or the nearest business day in the shift's direction."""
        if self.shift is Shift.NONE:
            return day
        step = timedelta(days=-1 if self.shift is Shift.PREVIOUS else 1)
        for _ in range(MAX_SHIFT_DAYS):
            if self.is_business_day(day):
                return day
            day += step
        raise ValueError(f"no business day within {MAX_SHIFT_DAYS} days of {day}")

    def _country_holidays(self, year: int) -> holidays.HolidayBase:
        assert self.country is not None
        code, _, subdivision = self.country.partition("-")
        try:
            return _holidays(code.upper(), subdivision.upper() or None, year)
        except NotImplementedError:
            raise ValueError(f'"{self.country}": no public holidays known for it') from None


MAX_SHIFT_DAYS = 14


@lru_cache(maxsize=256)
def _holidays(country: str, subdivision: str | None, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdivision, years=year)


# Cron can say what no newsletter should: every minute (575,940 editions a year), or a date
# so rare that a year's plan holds none (a fifth Monday of February). Both are refused.
MIN_INTERVAL = timedelta(hours=1)
MAX_INTERVAL = timedelta(days=400)  # the plan reaches 13 months ahead
_SPACING_SAMPLE = 48


def _check_cron_spacing(cadence: Cadence) -> None:
    sample = next_occurrences(cadence, ZoneInfo("UTC"), _EPOCH, _SPACING_SAMPLE)
    if not sample:
        raise CadenceError(cadence.text, "never falls on a real date")
    gaps = [later - earlier for earlier, later in itertools.pairwise(sample)]
    if gaps and min(gaps) < MIN_INTERVAL:
        minutes = int(min(gaps).total_seconds() // 60)
        raise CadenceError(
            cadence.text,
            f"fires {minutes} minute{'s' * (minutes != 1)} apart; a series sends at most "
            "once an hour",
        )
    widest = max(gaps, default=sample[0] - _EPOCH)
    if widest > MAX_INTERVAL:
        raise CadenceError(
            cadence.text,
            f"its dates can be {widest.days:,} days apart, so a year's plan could hold no "
            "edition of it",
        )


def next_occurrences(
    cadence: Cadence,
    zone: ZoneInfo,
    after: datetime,
    count: int,
    start: date | None = None,
    business_days: BusinessDays | None = None,
) -> list[datetime]:
    """The next count times strictly after `after`, in zone, for a series starting on start,
    each moved to a business day if business_days says so.

    A pure function: the same arguments give the same times, whatever the clock says.
    """
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    if cadence.weeks_apart > 1 and start is None:
        raise ValueError(f'"{cadence.text}" counts weeks from the series\' start date')
    local_after = after.astimezone(zone).replace(tzinfo=None)
    # Rules count from the start of the series, or of the month `after` falls in.
    month_start = local_after.date().replace(day=1)
    begin = datetime.combine(start if start and start > month_start else month_start, time())
    if cadence.weeks_apart > 1 and start is not None:
        begin = datetime.combine(start, time())
    rules = rruleset()
    for arguments in cadence.rule_arguments():
        rules.rrule(rrule(dtstart=begin, **arguments))  # type: ignore[arg-type]
    found: list[datetime] = []
    days = business_days or BusinessDays()
    # From a little before: a wall time the clocks skipped, or a date the next business day
    # moves, may land after `after`.
    lookback = timedelta(days=MAX_SHIFT_DAYS if days.shift is Shift.NEXT else 0, hours=3)
    for wall in rules.xafter(local_after - lookback, inc=False):
        wall = datetime.combine(days.shifted(wall.date()), wall.time())
        moment = placed(wall, zone)
        if moment > after and (not found or moment > found[-1]):
            found.append(moment)
            if len(found) == count:
                break
    return found


@lru_cache(maxsize=1024)
def zone_named(name: str) -> ZoneInfo:
    """The zone of that IANA name. ZoneInfo keeps only a few itself; re-reading a zone file
    per series cost more than the rest of a scheduler's start-up."""
    return ZoneInfo(name)


def placed(wall: datetime, zone: ZoneInfo) -> datetime:
    """A local wall time as a real instant: skipped times move forward by the gap."""
    aware = wall.replace(tzinfo=zone, fold=0)
    return aware.astimezone(UTC).astimezone(zone)


def _time_of_day(text: str, raw: str) -> tuple[int, int]:
    match = _TIME.match(raw)
    if not match or int(match["hour"]) > 23 or int(match["minute"]) > 59:
        raise CadenceError(text, f'"{raw}" is not a time of day (HH:MM, 00:00 to 23:59)')
    return int(match["hour"]), int(match["minute"])


def _days_of_month(text: str, words: str) -> tuple[tuple[str, object], ...]:
    if words == "the last day":
        return (("bymonthday", -1),)
    if words.startswith("day "):
        number = words.removeprefix("day ")
        if not number.isdigit() or not 1 <= int(number) <= 31:
            raise CadenceError(text, f'"day {number}": a day of the month is 1 to 31')
        day = int(number)
        if day <= 28:
            return (("bymonthday", day),)
        # Day 29-31 of a month that has fewer is its last day: the latest of 28..day.
        return (("bymonthday", tuple(range(28, day + 1))), ("bysetpos", -1))
    parts = words.split()
    if len(parts) == 3 and parts[0] == "the":
        ordinal, day_name = parts[1], parts[2]
        if ordinal not in ORDINALS:
            raise CadenceError(text, f'"{ordinal}": expected first, second, third, fourth or last')
        return (("byweekday", (_weekday(text, day_name)(ORDINALS[ordinal]),)),)
    raise CadenceError(
        text, f'"{words}": expected "day N", "the last day" or "the first|...|last WEEKDAY"'
    )


def _weekdays(text: str, words: str) -> tuple[weekday, ...]:
    names = [name for name in re.split(r"\s*,\s*|\s+and\s+", words) if name]
    if not names:
        raise CadenceError(text, "no weekday given")
    return tuple(dict.fromkeys(_weekday(text, name) for name in names))


def _weekday(text: str, name: str) -> weekday:
    if name not in WEEKDAYS:
        raise CadenceError(text, f'"{name}" is not a weekday (monday ... sunday)')
    return WEEKDAYS[name]


# -- cron ------------------------------------------------------------------------------

_CRON_DAYS = (SU, MO, TU, WE, TH, FR, SA, SU)  # cron numbers 0-7; 0 and 7 are Sunday
_CRON_FIELDS = ("minute", "hour", "day of month", "month", "day of week")
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def _cron_rules(text: str, expression: str) -> tuple[tuple[tuple[str, object], ...], ...]:
    """Translate standard cron (never pass it to APScheduler's from_crontab, which reads
    weekdays differently and rejects #) into rrule arguments."""
    fields = expression.split()
    if len(fields) != 5:
        raise CadenceError(
            text, f"cron needs 5 fields (minute hour day month weekday), not {len(fields)}"
        )
    minute, hour, day_of_month, month, day_of_week = fields
    minutes = _cron_values(text, 0, minute)
    hours = _cron_values(text, 1, hour)
    months = _cron_values(text, 3, month)
    common: tuple[tuple[str, object], ...] = (
        ("byminute", minutes), ("byhour", hours), ("bysecond", 0),
        *((("bymonth", months),) if month != "*" else ()),
    )  # fmt: skip
    by_day = None if day_of_month == "*" else _cron_values(text, 2, day_of_month)
    by_week = None if day_of_week == "*" else _cron_weekdays(text, day_of_week)
    if by_day is None and by_week is None:
        return ((("freq", DAILY), *common),)
    rules = []
    # Standard cron: with both given, a day matching either fires.
    if by_day is not None:
        rules.append((("freq", MONTHLY), ("bymonthday", by_day), *common))
    if by_week is not None:
        rules.append((("freq", MONTHLY), ("byweekday", by_week), *common))
    return tuple(rules)


def _cron_values(text: str, index: int, raw: str) -> tuple[int, ...]:
    low, high = _CRON_RANGES[index]
    values: set[int] = set()
    for part in raw.split(","):
        values |= _cron_part(text, index, part, low, high)
    return tuple(sorted(values))


def _cron_part(text: str, index: int, part: str, low: int, high: int) -> set[int]:
    name = _CRON_FIELDS[index]
    match = re.fullmatch(r"(\*|\d+(?:-\d+)?)(?:/(\d+))?", part)
    if not match:
        raise CadenceError(text, f'cron {name} "{part}": expected *, N, N-M, or one with /STEP')
    span, step_text = match.groups()
    step = int(step_text) if step_text else 1
    if span == "*":
        first, last = low, high
    else:
        first_text, _, last_text = span.partition("-")
        first = int(first_text)
        last = int(last_text) if last_text else (high if step_text else first)
    if not (low <= first <= high and low <= last <= high) or first > last or step < 1:
        raise CadenceError(text, f'cron {name} "{part}": outside {low}-{high}')
    return set(range(first, last + 1, step))


def _cron_weekdays(text: str, raw: str) -> tuple[weekday, ...]:
    days: list[weekday] = []
    for part in raw.split(","):
        number, hash_, nth = part.partition("#")
        if hash_:
            if not (number.isdigit() and int(number) <= 7 and nth.isdigit() and 1 <= int(nth) <= 5):
                raise CadenceError(text, f'cron day of week "{part}": expected D#N, D 0-7, N 1-5')
            days.append(_CRON_DAYS[int(number)](int(nth)))
        else:
            days += [_CRON_DAYS[n] for n in _cron_part(text, 4, part, 0, 7)]
    return tuple(dict.fromkeys(days))


class LocalWaves:
    """When each contact's message of a local-time edition goes: the edition's wall time in
    the contact's zone (the series' zone for a contact without one, or with one unknown)."""

    def __init__(self, planned_at: datetime, series_zone: str, now: datetime) -> None:
        self.zone = ZoneInfo(series_zone)
        self.wall = planned_at.astimezone(self.zone).replace(tzinfo=None)
        self.now = now
        self._by_zone: dict[str | None, datetime | None] = {}

    def wave_of(self, zone_name: str | None) -> datetime | None:
        """The contact's wave; None if it is due already."""
        if zone_name not in self._by_zone:
            try:
                zone = ZoneInfo(zone_name) if zone_name else self.zone
            except (ZoneInfoNotFoundError, ValueError):
                zone = self.zone
            wave = placed(self.wall, zone).astimezone(UTC)
            self._by_zone[zone_name] = wave if wave > self.now else None
        return self._by_zone[zone_name]

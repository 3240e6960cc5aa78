"""Cadences: every form's next 24 dates, written out here (found by counting calendar days,
not by the code under test), daylight saving, short months, and errors that name the part."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from commhub.scheduling.cadence import (
    BusinessDays,
    CadenceError,
    next_occurrences,
    parse_cadence,
)
from commhub.store.models import Shift

LONDON = ZoneInfo("Europe/London")
AFTER = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday

DAY_15 = [
    "2026-12-15",
    "2027-01-15",
    "2027-02-15",
    "2027-03-15",
    "2027-04-15",
    "2027-05-15",
    "2027-06-15",
    "2027-07-15",
    "2027-08-15",
    "2027-09-15",
    "2027-10-15",
    "2027-11-15",
    "2027-12-15",
    "2028-01-15",
    "2028-02-15",
    "2028-03-15",
    "2028-04-15",
    "2028-05-15",
    "2028-06-15",
    "2028-07-15",
    "2028-08-15",
    "2028-09-15",
    "2028-10-15",
    "2028-11-15",
]
FIRST_TUESDAY = [
    "2026-12-01",
    "2027-01-05",
    "2027-02-02",
    "2027-03-02",
    "2027-04-06",
    "2027-05-04",
    "2027-06-01",
    "2027-07-06",
    "2027-08-03",
    "2027-09-07",
    "2027-10-05",
    "2027-11-02",
    "2027-12-07",
    "2028-01-04",
    "2028-02-01",
    "2028-03-07",
    "2028-04-04",
    "2028-05-02",
    "2028-06-06",
    "2028-07-04",
    "2028-08-01",
    "2028-09-05",
    "2028-10-03",
    "2028-11-07",
]
LAST_DAY = [
    "2026-11-30",
    "2026-12-31",
    "2027-01-31",
    "2027-02-28",
    "2027-03-31",
    "2027-04-30",
    "2027-05-31",
    "2027-06-30",
    "2027-07-31",
    "2027-08-31",
    "2027-09-30",
    "2027-10-31",
    "2027-11-30",
    "2027-12-31",
    "2028-01-31",
    "2028-02-29",
    "2028-03-31",
    "2028-04-30",
    "2028-05-31",
    "2028-06-30",
    "2028-07-31",
    "2028-08-31",
    "2028-09-30",
    "2028-10-31",
]
MONDAY_THURSDAY = [
    "2026-11-26",
    "2026-11-30",
    "2026-12-03",
    "2026-12-07",
    "2026-12-10",
    "2026-12-14",
    "2026-12-17",
    "2026-12-21",
    "2026-12-24",
    "2026-12-28",
    "2026-12-31",
    "2027-01-04",
    "2027-01-07",
    "2027-01-11",
    "2027-01-14",
    "2027-01-18",
    "2027-01-21",
    "2027-01-25",
    "2027-01-28",
    "2027-02-01",
    "2027-02-04",
    "2027-02-08",
    "2027-02-11",
    "2027-02-15",
]
EVERY_2_WEEKS_FROM_27_NOV = [
    "2026-11-27",
    "2026-12-11",
    "2026-12-25",
    "2027-01-08",
    "2027-01-22",
    "2027-02-05",
    "2027-02-19",
    "2027-03-05",
    "2027-03-19",
    "2027-04-02",
    "2027-04-16",
    "2027-04-30",
    "2027-05-14",
    "2027-05-28",
    "2027-06-11",
    "2027-06-25",
    "2027-07-09",
    "2027-07-23",
    "2027-08-06",
    "2027-08-20",
    "2027-09-03",
    "2027-09-17",
    "2027-10-01",
    "2027-10-15",
]
QUARTERLY_FIRST_MONDAY = [
    "2027-01-04",
    "2027-04-05",
    "2027-07-05",
    "2027-10-04",
    "2028-01-03",
    "2028-04-03",
    "2028-07-03",
    "2028-10-02",
    "2029-01-01",
    "2029-04-02",
    "2029-07-02",
    "2029-10-01",
    "2030-01-07",
    "2030-04-01",
    "2030-07-01",
    "2030-10-07",
    "2031-01-06",
    "2031-04-07",
    "2031-07-07",
    "2031-10-06",
    "2032-01-05",
    "2032-04-05",
    "2032-07-05",
    "2032-10-04",
]
DAY_13_OR_FRIDAY = [
    "2026-11-27",
    "2026-12-04",
    "2026-12-11",
    "2026-12-13",
    "2026-12-18",
    "2026-12-25",
    "2027-01-01",
    "2027-01-08",
    "2027-01-13",
    "2027-01-15",
    "2027-01-22",
    "2027-01-29",
    "2027-02-05",
    "2027-02-12",
    "2027-02-13",
    "2027-02-19",
    "2027-02-26",
    "2027-03-05",
    "2027-03-12",
    "2027-03-13",
    "2027-03-19",
    "2027-03-26",
    "2027-04-02",
    "2027-04-09",
]


def dates(text: str, at: str, start: date | None = None, zone: ZoneInfo = LONDON) -> list[str]:
    found = next_occurrences(parse_cadence(text), zone, AFTER, 24, start)
    assert all(o.strftime("%H:%M") == at for o in found), "always the same local time"
    return [o.date().isoformat() for o in found]


@pytest.mark.parametrize(
    ("text", "at", "expected"),
    [
        ("monthly on day 15 at 09:00", "09:00", DAY_15),
        ("monthly on the first tuesday at 09:00", "09:00", FIRST_TUESDAY),
        ("monthly on the last day at 17:00", "17:00", LAST_DAY),
        ("monthly on day 31 at 09:00", "09:00", LAST_DAY),  # the last day of shorter months
        ("weekly on monday, thursday at 08:30", "08:30", MONDAY_THURSDAY),
        ("Weekly on Thursday and Monday at 08:30", "08:30", MONDAY_THURSDAY),
        ("quarterly on the first monday at 10:00", "10:00", QUARTERLY_FIRST_MONDAY),
        ("cron: 0 9 * * 2#1", "09:00", FIRST_TUESDAY),
        ("cron: 0 9 13 * 5", "09:00", DAY_13_OR_FRIDAY),  # both given: either day
    ],
)
def test_each_form_gives_its_next_24_dates(text: str, at: str, expected: list[str]) -> None:
    assert dates(text, at) == expected


def test_every_2_weeks_counts_from_the_series_start() -> None:
    text = "every 2 weeks on friday at 16:00"
    assert dates(text, "16:00", start=date(2026, 11, 27)) == EVERY_2_WEEKS_FROM_27_NOV
    # Started a week later, it falls on the other Fridays.
    shifted = dates(text, "16:00", start=date(2026, 12, 4))
    assert shifted[:3] == ["2026-12-04", "2026-12-18", "2027-01-01"]
    with pytest.raises(ValueError, match="start date"):
        next_occurrences(parse_cadence(text), LONDON, AFTER, 3)


@pytest.mark.parametrize(
    ("zone", "spring", "autumn", "winter", "summer"),
    [
        ("Europe/Berlin", "2027-03-28", "2027-10-31", "+0100", "+0200"),
        ("America/New_York", "2027-03-14", "2027-11-07", "-0500", "-0400"),
    ],
)
def test_nine_oclock_stays_nine_oclock_across_daylight_saving(
    zone: str, spring: str, autumn: str, winter: str, summer: str
) -> None:
    sundays = next_occurrences(
        parse_cadence("weekly on sunday at 09:00"), ZoneInfo(zone),
        datetime(2027, 3, 1, tzinfo=UTC), 52,
    )  # fmt: skip
    assert {s.strftime("%H:%M") for s in sundays} == {"09:00"}
    offsets = {s.date().isoformat(): s.strftime("%z") for s in sundays}
    assert offsets["2027-03-07"] == winter
    assert offsets[spring] == summer, "the change happens that night"
    assert offsets[autumn] == winter
    assert sorted(set(offsets.values())) == sorted({winter, summer})


def test_29_february_and_short_months() -> None:
    after = datetime(2027, 1, 1, tzinfo=UTC)
    day_29 = next_occurrences(parse_cadence("monthly on day 29 at 09:00"), LONDON, after, 14)
    assert [d.date().isoformat() for d in day_29][:2] == ["2027-01-29", "2027-02-28"]
    assert [d.date().isoformat() for d in day_29][13] == "2028-02-29"
    day_30 = next_occurrences(parse_cadence("monthly on day 30 at 09:00"), LONDON, after, 2)
    assert [d.date().isoformat() for d in day_30] == ["2027-01-30", "2027-02-28"]


def test_a_time_the_clocks_skip_moves_forward_by_the_gap() -> None:
    (skipped,) = next_occurrences(
        parse_cadence("monthly on the last sunday at 02:30"), ZoneInfo("Europe/Berlin"),
        datetime(2027, 3, 1, tzinfo=UTC), 1,
    )  # fmt: skip
    assert skipped.isoformat() == "2027-03-28T03:30:00+02:00"


def test_the_same_arguments_give_the_same_times_and_after_is_strict() -> None:
    cadence = parse_cadence("monthly on day 15 at 09:00")
    first = next_occurrences(cadence, LONDON, AFTER, 3)
    assert first == next_occurrences(cadence, LONDON, AFTER, 3)
    again = next_occurrences(cadence, LONDON, first[0], 2)
    assert again == first[1:]
    with pytest.raises(ValueError, match="timezone-aware"):
        next_occurrences(cadence, LONDON, datetime(2026, 1, 1), 1)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("monthly on day 32 at 09:00", '"day 32": a day of the month is 1 to 31'),
        ("monthly on day 1 at 25:00", '"25:00" is not a time of day'),
        ("weekly on mondey at 08:30", '"mondey" is not a weekday'),
        ("monthly on the fifth friday at 09:00", '"fifth": expected first'),
        ("monthly on the first payday at 09:00", '"payday" is not a weekday'),
        ("fortnightly on friday at 09:00", '"fortnightly on friday": expected "monthly on'),
        ("monthly on day 1", 'expected "... at HH:MM"'),
        ("every 60 weeks on friday at 09:00", "between 1 and 52 weeks"),
        ("cron: 0 9 * *", "cron needs 5 fields"),
        ("cron: 0 24 * * *", 'cron hour "24": outside 0-23'),
        ("cron: 0 9 * * 8", 'cron day of week "8": outside 0-7'),
        ("cron: 0 9 * * 2#6", 'cron day of week "2#6"'),
        ("cron: 0 9 0 * *", 'cron day of month "0": outside 1-31'),
        ("cron: 0 9 * * mon", 'cron day of week "mon"'),
        ("cron: 0 9 31 2 *", "never falls on a real date"),
        ("cron: 0 9 30,31 2 *", "never falls on a real date"),
    ],
)
def test_a_bad_cadence_names_the_part_that_is_wrong(text: str, names: str) -> None:
    with pytest.raises(CadenceError) as caught:
        parse_cadence(text)
    assert names in str(caught.value)
    assert str(caught.value).startswith(f'cadence "{text}": ')


def test_cron_sunday_is_0_or_7_and_steps_and_ranges_work() -> None:
    seven = next_occurrences(parse_cadence("cron: 30 8 * * 7"), LONDON, AFTER, 3)
    zero = next_occurrences(parse_cadence("cron: 30 8 * * 0"), LONDON, AFTER, 3)
    assert seven == zero
    assert [s.date().isoformat() for s in zero] == ["2026-11-29", "2026-12-06", "2026-12-13"]
    every_four_hours = next_occurrences(parse_cadence("cron: 0 9-17/4 * * 1-5"), LONDON, AFTER, 5)
    assert [q.strftime("%a %d %H:%M") for q in every_four_hours] == [
        "Mon 23 13:00", "Mon 23 17:00", "Tue 24 09:00", "Tue 24 13:00", "Tue 24 17:00",
    ]  # fmt: skip


def shifted(text: str, days: BusinessDays, count: int) -> list[str]:
    found = next_occurrences(parse_cadence(text), LONDON, AFTER, count, business_days=days)
    assert {o.strftime("%H:%M") for o in found} == {"09:00"}
    return [o.date().isoformat() for o in found]


def test_a_weekend_date_moves_to_the_previous_or_next_business_day() -> None:
    text = "monthly on day 15 at 09:00"
    # 15 May 2027 is a Saturday, 15 August a Sunday.
    earlier = shifted(text, BusinessDays(Shift.PREVIOUS), 9)
    assert earlier[5] == "2027-05-14"
    assert earlier[8] == "2027-08-13"
    later = shifted(text, BusinessDays(Shift.NEXT), 9)
    assert later[5] == "2027-05-17"
    assert later[8] == "2027-08-16"
    assert shifted(text, BusinessDays(), 9)[5] == "2027-05-15", "no shift: the date stays"


def test_holidays_and_the_companys_own_days_are_not_business_days() -> None:
    text = "monthly on day 25 at 09:00"  # Christmas Day 2026 is a Friday
    england = BusinessDays(Shift.PREVIOUS, "GB-ENG")
    assert shifted(text, england, 2) == ["2026-11-25", "2026-12-24"]
    # Boxing Day (Saturday), Sunday, Boxing Day observed (Monday): Tuesday 29th.
    assert shifted(text, BusinessDays(Shift.NEXT, "GB-ENG"), 2)[1] == "2026-12-29"
    closed = BusinessDays(Shift.NEXT, "GB-ENG", frozenset({date(2026, 12, 29)}))
    assert shifted(text, closed, 2)[1] == "2026-12-30"
    assert not closed.is_business_day(date(2026, 12, 29))
    assert closed.is_business_day(date(2026, 12, 31))


def test_an_unknown_country_fails_when_the_rule_is_made() -> None:
    with pytest.raises(ValueError, match='"XX": no public holidays known'):
        BusinessDays(Shift.NEXT, "XX")

"""A cadence as a person says it: "monthly on day 15 at 09:00" is "monthly on the 15th at
09:00", "cron: 0 9 * * 2#1" is "monthly on the first Tuesday at 09:00".

A pure function over the grammar commhub.scheduling.cadence reads; a text that is not a
cadence comes back as it is, so a page listing series never fails on one.
"""

from __future__ import annotations

import re

from commhub.scheduling.cadence import CadenceError, parse_cadence

_ORDINAL_WORDS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}
_DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
_AT = re.compile(r"^(?P<head>.*?)\s+at\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})$")
_EVERY_WEEKS = re.compile(r"^every\s+(?P<n>\d+)\s+weeks?$")
# Cron times listed one by one up to this many; past it, the pattern is described.
_MAX_TIMES = 4


def cadence_in_words(text: str) -> str:
    """The cadence in words: weekdays and months named, days of the month as ordinals,
    times as HH:MM. A text parse_cadence refuses is returned unchanged."""
    try:
        parse_cadence(text)
    except CadenceError:
        return text
    clean = " ".join(text.lower().split())
    if clean.startswith("cron:"):
        return _cron_in_words(clean.removeprefix("cron:").split())
    match = _AT.match(clean)
    if match is None:  # parse_cadence accepted it, so this does not happen
        return text
    at = f"at {int(match['hour']):02}:{match['minute']}"
    head = match["head"]
    if head.startswith("monthly on "):
        return f"monthly on {_month_days(head.removeprefix('monthly on '))} {at}"
    if head.startswith("quarterly on "):
        days = _month_days(head.removeprefix("quarterly on "))
        return f"quarterly (January, April, July, October) on {days} {at}"
    every, _, days_text = head.partition(" on ")
    days = _join([name.capitalize() for name in _weekday_words(days_text)])
    weeks = _EVERY_WEEKS.match(every)
    if weeks is None or int(weeks["n"]) == 1:
        return f"every {days} {at}"
    if int(weeks["n"]) == 2:
        return f"every other {days} {at}"
    return f"every {int(weeks['n'])} weeks on {days} {at}"


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st."""
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def _month_days(words: str) -> str:
    if words == "the last day":
        return "the last day"
    if words.startswith("day "):
        day = int(words.removeprefix("day "))
        if day > 28:
            return f"the {ordinal(day)} (the last day in shorter months)"
        return f"the {ordinal(day)}"
    _the, which, day_name = words.split()
    return f"the {which} {day_name.capitalize()}"


def _weekday_words(words: str) -> list[str]:
    names = [name for name in re.split(r"\s*,\s*|\s+and\s+", words) if name]
    return list(dict.fromkeys(names))


def _join(words: list[str], last: str = "and") -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


# -- cron ------------------------------------------------------------------------------


def _cron_in_words(fields: list[str]) -> str:
    minute, hour, day_of_month, month, day_of_week = fields
    days = _cron_days(day_of_month, day_of_week)
    months = (
        "" if month == "*" else f" in {_join([_MONTH_NAMES[m - 1] for m in _values(month, 1, 12)])}"
    )
    return f"{days}{months} {_cron_times(minute, hour)}"


def _cron_days(day_of_month: str, day_of_week: str) -> str:
    if day_of_month == "*" and day_of_week == "*":
        return "every day"
    month_days = [] if day_of_month == "*" else [ordinal(d) for d in _values(day_of_month, 1, 31)]
    week_days: list[str] = []  # "Monday"
    nth_days: list[str] = []  # "the first Tuesday"
    for part in [] if day_of_week == "*" else day_of_week.split(","):
        number, hash_, nth = part.partition("#")
        if hash_:
            nth_days.append(f"the {_ORDINAL_WORDS[int(nth)]} {_DAY_NAMES[int(number) % 7]}")
        else:
            for day in _values(part, 0, 7):
                name = _DAY_NAMES[day % 7]
                if name not in week_days:
                    week_days.append(name)
    if week_days == list(_DAY_NAMES[1:6]) and not (month_days or nth_days):
        return "every weekday (Monday to Friday)"
    phrases = []
    if month_days:
        phrases.append(f"the {_join(month_days)}")
    phrases += nth_days
    if week_days and not phrases:
        return f"every {_join(week_days)}"
    if week_days:
        phrases.append(f"every {_join(week_days, 'or')}")
    # Standard cron: a day of the month and a day of the week both given means either.
    return f"monthly on {_join(phrases, 'or')}"


def _cron_times(minute: str, hour: str) -> str:
    minutes = _values(minute, 0, 59)
    hours = _values(hour, 0, 23)
    if len(minutes) * len(hours) <= _MAX_TIMES:
        return "at " + _join([f"{h:02}:{m:02}" for h in hours for m in minutes])
    past = _join([f":{m:02}" for m in minutes])
    if hour == "*":
        return f"every hour at {past}"
    if (step := re.fullmatch(r"\*/(\d+)", hour)) is not None:
        return f"every {int(step[1])} hours at {past}"
    if len(hours) <= _MAX_TIMES * 2:
        return f"at {past} past {_join([f'{h:02}' for h in hours])} o'clock"
    return f"at {past} past every hour from {hours[0]:02} to {hours[-1]:02}"


def _values(raw: str, low: int, high: int) -> list[int]:
    """The numbers a cron field lists (already checked by parse_cadence)."""
    values: set[int] = set()
    for part in raw.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if span == "*":
            first, last = low, high
        else:
            first_text, _, last_text = span.partition("-")
            first = int(first_text)
            last = int(last_text) if last_text else (high if step_text else first)
        values |= set(range(first, last + 1, step))
    return sorted(values)

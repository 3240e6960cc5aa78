"""Scheduling: when editions go. Cadences, series files, the planned rows a year ahead, what
is due and its claim, the runner that carries an edition, the APScheduler adapter, the
agenda and its iCalendar feed.
"""

from __future__ import annotations

from commhub.scheduling.agenda import CalendarEntry, calendar
from commhub.scheduling.cadence_words import (
    cadence_in_words,
)
from commhub.scheduling.dispatch import EditionRunner
from commhub.scheduling.due import local_waves
from commhub.scheduling.history import has_history, history_steps, simulate_history
from commhub.scheduling.ical import (
    calendar_ics,
    create_feed,
    feed_path,
    list_feeds,
    live_feed,
    revoke_feed,
)
from commhub.scheduling.month import (
    GRID_LIMIT,
    by_day,
    count_editions_between,
    count_series,
    editions_between,
    month_weeks,
    month_window,
    next_dates,
    parse_month,
    recent_editions,
    series_summaries,
    shift_month,
    weeks_window,
)
from commhub.scheduling.on_demand import release_now, send_next_soon, start_now
from commhub.scheduling.planning import plan_editions, series_ids_of
from commhub.scheduling.scheduler import SWEEP_SECONDS, Scheduler
from commhub.scheduling.series import (
    apply_series,
    get_series,
    known_audiences,
    list_series,
    read_series_file,
)
from commhub.scheduling.series_editing import (
    NextDates,
    SavedSeries,
    SeriesFields,
    fields_of,
    next_dates_for,
    read_series_form,
    save_series,
    series_yaml,
)

__all__ = [
    "GRID_LIMIT",
    "SWEEP_SECONDS",
    "CalendarEntry",
    "EditionRunner",
    "NextDates",
    "SavedSeries",
    "Scheduler",
    "SeriesFields",
    "apply_series",
    "by_day",
    "cadence_in_words",
    "calendar",
    "calendar_ics",
    "count_editions_between",
    "count_series",
    "create_feed",
    "editions_between",
    "feed_path",
    "fields_of",
    "get_series",
    "has_history",
    "history_steps",
    "known_audiences",
    "list_feeds",
    "list_series",
    "live_feed",
    "local_waves",
    "month_weeks",
    "month_window",
    "next_dates",
    "next_dates_for",
    "parse_month",
    "plan_editions",
    "read_series_file",
    "read_series_form",
    "recent_editions",
    "release_now",
    "revoke_feed",
    "save_series",
    "send_next_soon",
    "series_ids_of",
    "series_summaries",
    "series_yaml",
    "shift_month",
    "simulate_history",
    "start_now",
    "weeks_window",
]

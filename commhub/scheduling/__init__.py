"""Scheduling: when editions go. Cadences, series files, the planned rows a year ahead, what
is due and its claim, the runner that carries an edition, the APScheduler adapter, the
agenda and its iCalendar feed.
"""

from __future__ import annotations

from commhub.scheduling.agenda import CalendarEntry, calendar
from commhub.scheduling.dispatch import EditionRunner
from commhub.scheduling.due import local_waves
from commhub.scheduling.ical import (
    calendar_ics,
    create_feed,
    feed_path,
    list_feeds,
    live_feed,
    revoke_feed,
)
from commhub.scheduling.on_demand import release_now, start_now
from commhub.scheduling.planning import plan_editions, series_ids_of
from commhub.scheduling.scheduler import SWEEP_SECONDS, Scheduler
from commhub.scheduling.series import (
    apply_series,
    get_series,
    known_audiences,
    list_series,
    read_series_file,
)

__all__ = [
    "SWEEP_SECONDS",
    "CalendarEntry",
    "EditionRunner",
    "Scheduler",
    "apply_series",
    "calendar",
    "calendar_ics",
    "create_feed",
    "feed_path",
    "get_series",
    "known_audiences",
    "list_feeds",
    "list_series",
    "live_feed",
    "local_waves",
    "plan_editions",
    "read_series_file",
    "release_now",
    "revoke_feed",
    "series_ids_of",
    "start_now",
]

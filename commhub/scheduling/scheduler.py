"""APScheduler wiring: fire at the planned times, and sweep. Nothing else lives here.

The rows decide; APScheduler only wakes the process. At start the plan is brought up to date
and a sweep runs at once (it resumes interrupted editions and catches up on what came due
while no scheduler ran). Every sweep then tops up the planned rows, claims what is due, and
sets a date job for each edition due before the next sweep, so that editions start on the
second rather than on the sweep's minute. Jobs live in memory: they are rebuilt from the rows,
and a job firing for an edition another process has started does nothing.

Feed sources that are due are fetched by a job of their own, on the same interval, so that a
slow upstream feed never delays an edition; each fetch is claimed once, whatever the number of
schedulers.
"""

from __future__ import annotations

import logging
from datetime import UTC, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session, sessionmaker

from commhub.clock import Clock
from commhub.feeds import SourceFetcher
from commhub.scheduling.dispatch import EditionRunner, TickReport
from commhub.scheduling.due import upcoming
from commhub.scheduling.planning import plan_editions
from commhub.store import session_scope

log = logging.getLogger(__name__)
SWEEP_SECONDS = 60.0


class Scheduler:
    """Runs an EditionRunner at the planned times, in this process."""

    def __init__(
        self,
        runner: EditionRunner,
        sessions: sessionmaker[Session],
        clock: Clock,
        sweep_seconds: float = SWEEP_SECONDS,
        blocking: bool = False,
        feeds: SourceFetcher | None = None,
    ) -> None:
        self.runner = runner
        self.feeds = feeds
        self.sessions = sessions
        self.clock = clock
        self.sweep_seconds = sweep_seconds
        # Date jobs are set for what comes due before the sweep after next.
        self.lookahead = timedelta(seconds=2 * sweep_seconds)
        options = {"timezone": UTC, "job_defaults": {"coalesce": True, "misfire_grace_time": None}}
        self.aps: BaseScheduler = (
            BlockingScheduler(**options) if blocking else BackgroundScheduler(**options)
        )

    def start(self) -> None:
        """Bring the plan up to date, then sweep now and every sweep_seconds (blocks if the
        scheduler was made blocking)."""
        with session_scope(self.sessions) as session:
            report = plan_editions(session, self.clock.now(), check_all=True)
        log.info(
            "plan: %d series checked, %d editions planned, %d removed",
            report.series, report.created, report.removed,
        )  # fmt: skip
        # Each job now, then every sweep_seconds, never two runs of one job at once.
        jobs = {"sweep": self.sweep} | ({"feeds": self.fetch_feeds} if self.feeds else {})
        for job_id, job in jobs.items():
            self.aps.add_job(
                job,
                IntervalTrigger(seconds=self.sweep_seconds, timezone=UTC),
                id=job_id,
                next_run_time=self.clock.now(),
                max_instances=1,
            )
        self.aps.start()

    def stop(self) -> None:
        if self.aps.running:
            self.aps.shutdown(wait=False)
        self.runner.shutdown()
        if self.feeds is not None:
            self.feeds.close()

    def sweep(self) -> TickReport:
        """Top up the plan, start what is due, and set date jobs for what comes next."""
        now = self.clock.now()
        try:
            with session_scope(self.sessions) as session:
                plan_editions(session, now)
        except Exception:
            # Topping up can wait for the next sweep; what is due now cannot.
            log.exception("planning failed; sending what is due all the same")
        report = self.fire()
        with session_scope(self.sessions) as session:
            soon = upcoming(session, now, self.lookahead)
        for edition_id, due_at in soon:
            self.aps.add_job(
                self.fire,
                DateTrigger(due_at, timezone=UTC),
                id=f"edition-{edition_id}",
                replace_existing=True,
            )
        return report

    def fetch_feeds(self) -> None:
        """Fetch the feed sources that are due; each one's outcome in the log."""
        if self.feeds is None:
            return
        try:
            outcomes = self.feeds.fetch_due()
        except Exception:
            log.exception("feed sources: the fetch failed; trying again at the next sweep")
            return
        for outcome in outcomes:
            if outcome.failed:
                log.warning("feed source %s", outcome.line().strip())
            else:
                log.info("feed source %s", outcome.line().strip())

    def fire(self) -> TickReport:
        report = self.runner.tick()
        for edition_id in report.claimed:
            log.info("edition %d: due, started", edition_id)
        for edition_id in report.resumed:
            log.info("edition %d: interrupted, resumed", edition_id)
        for edition_id in report.missed:
            log.warning("edition %d: missed (found past its grace), alert raised", edition_id)
        for edition_id in report.waiting:
            log.warning("edition %d: due, waiting for the series' previous edition", edition_id)
        return report

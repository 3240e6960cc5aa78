"""Scheduling at scale: start-up and reconcile with 10,000 series, a year of calendar for
them, and how late the scheduler claims an edition after its planned time.

Every figure is the median of --runs runs, each in a child process of its own (so that the
caches a start-up fills are empty, as in a scheduler that just started) on a database of its
own, and each is reported with a baseline measured in the same run:
- cold plan, `plan_editions` on series never planned (about 13 months of rows each).
  Baseline: the rows it wrote, copied, deleted and inserted again with one plain SQLAlchemy
  Core executemany (`insert(Edition.__table__)`), timed alone;
- warm start-up, what `Scheduler.start` does when nothing changed (`plan_editions` with
  check_all, then `upcoming` for 2 minutes). Baseline: reading the same series columns and
  running the same due-editions query with Core, nothing computed;
- a sweep a day later, `plan_editions(now + 1 day)`. Baseline: the same series query;
- a sweep 31 days later with none in between (a scheduler down for a month): every series
  tops up its rows at once. Baseline: the rows it wrote, re-inserted with one Core
  executemany as above;
- then a sweep a day for 30 days, as a running scheduler does (top-ups are spread over the
  days): the worst day. Baseline: that day's series query in Core;
- `agenda.calendar` over 12 months, with contacts present so that expected recipients are
  counted. Baseline: a Core select of (id, planned_at, state) for the same 12 months;
- `ical.calendar_ics` of the first --ics-entries calendar entries (0: all of them).
  Baseline: `json.dumps([e.as_json() for e in entries])` of the same entries;
- lag from due time to claim, over 100 editions due 50 ms apart, with the real `Scheduler`
  (sweep every second) and `EditionRunner` (4 workers, outbox): started_at - due_at, as the
  claim writes it, and the moment the claim's UPDATE ran - due_at, as seen from the engine.
  Baseline: APScheduler's own firing lag, a BackgroundScheduler with 100 no-op DateTrigger
  jobs at the same offsets, each recording now - its scheduled time.

    .venv/bin/python benchmarks/schedule.py [--series 10000] [--runs 3]
        [--only startup|calendar|lag] [--ics-entries 10000]
        [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

With --database-url, each run creates a PostgreSQL database of its own and drops it after.
Prints figures only: it asserts no timing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from dateutil.relativedelta import relativedelta
from sqlalchemy import (
    Table,
    bindparam,
    delete,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from throwaway_db import Database, migrated_runtime  # benchmarks/, beside this script

from commhub.clock import SystemClock
from commhub.config import Settings
from commhub.delivery.outbox import OutboxBackend
from commhub.scheduling.agenda import calendar
from commhub.scheduling.cadence import Shift
from commhub.scheduling.dispatch import EditionRunner
from commhub.scheduling.due import upcoming
from commhub.scheduling.ical import calendar_ics
from commhub.scheduling.planning import REFILL_BELOW, plan_editions
from commhub.scheduling.scheduler import Scheduler
from commhub.store.db import session_scope
from commhub.store.models import (
    Audience,
    Channel,
    Contact,
    Edition,
    EditionState,
    Partner,
    Series,
    contact_roles,
    series_audiences,
)
from commhub.wiring import Runtime, build_renderer

EDITIONS = cast(Table, Edition.__table__)
SERIES = cast(Table, Series.__table__)
CONTACTS = 2_000
LAG_EDITIONS = 100
LAG_LEAD = 3.0  # seconds from setting the due times to the first one
LAG_STEP = 0.05  # seconds between two due times
LAG_DEADLINE = 60.0
ROLE_MIXES = [
    ["sales"], ["technical"], ["marketing"], ["development"], ["executive"],
    ["sales", "executive"], ["technical", "development"], ["sales", "marketing"],
]  # fmt: skip
ZONES = [
    "Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "Europe/Berlin",
    "America/Los_Angeles", "Asia/Kolkata", "America/Sao_Paulo", "Africa/Johannesburg", "UTC",
]  # fmt: skip
WEEKDAY_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday"]
MONTHLY = (
    [f"monthly on day {d} at {h}" for d, h in zip(
        (1, 3, 5, 8, 10, 12, 15, 20, 25, 28, 30, 31),
        ("09:00", "08:30", "10:00", "14:00", "09:30", "16:00", "09:00", "11:15", "07:45",
         "13:00", "17:30", "18:00"), strict=True)]
    + [f"monthly on the {o} {w} at {h}" for o, w, h in (
        ("first", "tuesday", "09:00"), ("first", "monday", "10:30"), ("second", "wednesday",
        "14:00"), ("second", "thursday", "08:00"), ("third", "friday", "16:00"), ("third",
        "tuesday", "11:00"), ("fourth", "monday", "09:15"), ("last", "friday", "15:00"),
        ("last", "thursday", "17:00"), ("first", "friday", "12:00"), ("last", "monday",
        "09:00"), ("second", "tuesday", "07:30"))]
    + ["monthly on the last day at 17:00", "monthly on the last day at 09:00"]
    + ["quarterly on the first monday at 10:00", "quarterly on day 15 at 09:00",
       "quarterly on the last friday at 16:00", "quarterly on the second tuesday at 11:00"]
    + ["cron: 0 9 * * 2#1", "cron: 30 8 1 * *", "cron: 0 10 * 1,4,7,10 1#2", "cron: 0 9 15 * *",
       "cron: 0 14 * * 5#3", "cron: 45 7 10,25 * *"]
)  # fmt: skip
WEEKLY = [
    "weekly on monday at 09:00", "weekly on monday, thursday at 08:30",
    "weekly on friday at 16:00", "every 2 weeks on wednesday at 10:00",
]  # fmt: skip
SERIES_START = date(2026, 1, 5)


def settings_for(url: str, data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir, database_url=url, secret_keys=("bench-" + "k" * 40,),
        org_name="Northwind Cloud Partner Programme",
        postal_address="Northwind Cloud Ltd, 1 Harbour Street, Bristol BS1 4QA",
    )  # fmt: skip


def series_row(i: int, now: datetime) -> dict[str, Any]:
    """Series i of a realistic mix: one in ten weekly, a few moved off holidays, one in
    fifty sent at each contact's local time, one in five for named audiences only."""
    weekly = i % 10 == 0
    cadence = WEEKLY[(i // 10) % len(WEEKLY)] if weekly else MONTHLY[i % len(MONTHLY)]
    shift, country = Shift.NONE, None
    if i % 9 == 0:
        shift, country = Shift.NEXT, "GB-ENG"
    elif i % 23 == 0:
        shift, country = Shift.PREVIOUS, "US"
    elif i % 31 == 0:
        shift, country = Shift.NEXT, "DE-BY"
    return {
        "slug": f"series-{i}",
        "name": f"Partner Series {i}",
        "channel": Channel.NEWSLETTER,
        "all_audiences": i % 5 != 0,
        "cadence": cadence,
        "timezone": ZONES[(i * 7 + i // 40) % len(ZONES)],
        "subject": "{{ series.name }}: news for {{ contact.first_name }}",
        "from_address": "Partner Team <partners@northwind.example>",
        "partner_filter": {},
        "requires_approval": False,
        "start_date": SERIES_START if cadence.startswith("every") else None,
        "shift": shift,
        "holiday_country": country,
        "company_days": [],
        "local_time": i % 50 == 7,
        "grace_minutes": 360,
        "created_at": now,
        "updated_at": now,
    }


def add_series(runtime: Runtime, count: int, now: datetime, make: Callable[..., Any]) -> None:
    with session_scope(runtime.sessions) as session:
        role_ids = {a.slug: a.id for a in session.scalars(select(Audience))}
        for start in range(0, count, 5000):
            session.execute(
                insert(SERIES), [make(i, now) for i in range(start, min(start + 5000, count))]
            )
        named = session.scalars(select(Series.id).where(Series.all_audiences.is_(False))).all()
        if named:
            session.execute(
                insert(series_audiences),
                [
                    {"series_id": sid, "audience_id": role_ids[slug]}
                    for n, sid in enumerate(named)
                    for slug in ROLE_MIXES[n % len(ROLE_MIXES)]
                ],
            )


def add_contacts(runtime: Runtime, count: int, now: datetime) -> None:
    """Contacts with roles, as benchmarks/send.py makes them."""
    with session_scope(runtime.sessions) as session:
        role_ids = {a.slug: a.id for a in session.scalars(select(Audience))}
        partners = [Partner(name=f"Partner {p}", tier="gold", tags=[]) for p in range(50)]
        session.add_all(partners)
        session.flush()
        session.execute(
            insert(Contact.__table__),  # type: ignore[arg-type]
            [
                {
                    "email": f"person{i}@partner{i % 50}.example",
                    "email_key": f"person{i}@partner{i % 50}.example",
                    "first_name": f"First{i}",
                    "last_name": f"Last{i}",
                    "partner_id": partners[i % 50].id,
                    "status": "active",
                    "consent_at": now,
                    "opted_out_channels": ["social"] if i % 17 == 0 else [],
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(count)
            ],
        )
        ids = session.scalars(select(Contact.id).order_by(Contact.id)).all()
        session.execute(
            insert(contact_roles),
            [
                {"contact_id": cid, "audience_id": role_ids[slug]}
                for n, cid in enumerate(ids)
                for slug in ROLE_MIXES[n % len(ROLE_MIXES)]
            ],
        )


# -- start-up and calendar (one child process per run) ----------------------------------

PLAN_COLUMNS = (
    Series.id, Series.slug, Series.cadence, Series.timezone, Series.start_date,
    Series.shift, Series.holiday_country, Series.company_days, Series.local_time,
    Series.grace_minutes, Series.planned_through, Series.plan_key,
)  # fmt: skip
COPIED = ("series_id", "planned_at", "due_at", "state", "recipient_count", "notes",
          "created_at", "updated_at")  # fmt: skip


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def copy_and_delete(runtime: Runtime, where: Any) -> list[dict[str, Any]]:
    """The editions `where` selects, as rows to insert again; deleted from the table."""
    engine = runtime.engine
    with engine.connect() as connection:
        columns = [EDITIONS.c[name] for name in COPIED]
        rows = [dict(r._mapping) for r in connection.execute(select(*columns).where(where))]
    emptied(runtime, where)
    return rows


def emptied(runtime: Runtime, where: Any) -> None:
    engine = runtime.engine
    with engine.begin() as connection:
        connection.execute(delete(EDITIONS).where(where))
    if engine.dialect.name == "postgresql":
        # Not left with dead rows the plan did not have to step over.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE editions"))


def core_insert(runtime: Runtime, rows: list[dict[str, Any]]) -> float:
    """Baseline: one plain Core executemany INSERT of the rows, timed alone."""
    started = time.perf_counter()
    with runtime.engine.begin() as connection:
        connection.execute(insert(EDITIONS), rows)
    return time.perf_counter() - started


def driver_insert(runtime: Runtime, rows: list[dict[str, Any]]) -> float:
    """The floor under that: the rows converted for the database beforehand (untimed), then
    one executemany straight to the driver, timed alone."""
    dialect = runtime.engine.dialect
    compiled = insert(EDITIONS).values({n: bindparam(n) for n in COPIED}).compile(dialect=dialect)
    convert = {}
    for name in COPIED:
        column_type = EDITIONS.c[name].type
        processor = column_type.dialect_impl(dialect).bind_processor(dialect)
        convert[name] = processor or (lambda value: value)
    converted: list[Any]
    if compiled.positional:
        order = compiled.positiontup or []
        converted = [tuple(convert[n](row[n]) for n in order) for row in rows]
    else:
        converted = [{n: convert[n](row[n]) for n in COPIED} for row in rows]
    started = time.perf_counter()
    with runtime.engine.begin() as connection:
        connection.exec_driver_sql(str(compiled), converted)
    return time.perf_counter() - started


def run_startup(url: str, data_dir: Path, count: int, ics_entries: int) -> dict[str, Any]:
    """Child process: build the series and contacts, then time every start-up and calendar
    figure and its baseline."""
    setup_now = datetime.now(UTC)
    runtime = migrated_runtime(settings_for(url, data_dir))
    add_series(runtime, count, setup_now, series_row)
    add_contacts(runtime, CONTACTS, setup_now)
    sessions, engine = runtime.sessions, runtime.engine
    result: dict[str, Any] = {}

    def figure(key: str, commhub: float, baseline: float, rows: int) -> None:
        result[key] = {"commhub": commhub, "baseline": baseline, "rows": rows}

    # Cold plan: every series planned for the first time, in one transaction.
    now = datetime.now(UTC)

    def cold() -> Any:
        with session_scope(sessions) as session:
            return plan_editions(session, now)

    seconds, report = timed(cold)
    everything = EDITIONS.c.id.is_not(None)
    copied = copy_and_delete(runtime, everything)
    figure("cold", seconds, core_insert(runtime, copied), report.created)
    emptied(runtime, everything)
    figure("cold_driver", seconds, driver_insert(runtime, copied), report.created)
    result["cold_series"] = report.series
    result["copied"] = len(copied)

    # Warm start-up: what Scheduler.start and its first sweep's look-ahead do.
    now = datetime.now(UTC)

    def warm() -> Any:
        with session_scope(sessions) as session:
            report = plan_editions(session, now, check_all=True)
            upcoming(session, now, timedelta(minutes=2))
            return report

    def warm_baseline() -> None:
        with engine.connect() as connection:
            connection.execute(select(*PLAN_COLUMNS).order_by(Series.id)).all()
            connection.execute(
                select(Edition.id, Edition.due_at)
                .where(
                    Edition.state == EditionState.PLANNED,
                    Edition.due_at <= now + timedelta(minutes=2),
                )
                .order_by(Edition.due_at)
            ).all()

    seconds, report = timed(warm)
    base, _ = timed(warm_baseline)
    figure("warm", seconds, base, report.created)

    # A sweep a day later: nothing runs out yet.
    later = now + timedelta(days=1)

    def day_later() -> Any:
        with session_scope(sessions) as session:
            return plan_editions(session, later)

    def day_baseline() -> None:
        with engine.connect() as connection:
            connection.execute(
                select(*PLAN_COLUMNS)
                .where(
                    (Series.planned_through.is_(None))
                    | (Series.planned_through < later + REFILL_BELOW)
                )
                .order_by(Series.id)
            ).all()

    seconds, report = timed(day_later)
    base, _ = timed(day_baseline)
    figure("day", seconds, base, report.created)

    # 12 months of calendar, and the same entries as iCalendar.
    now = datetime.now(UTC)

    def listing() -> Any:
        with session_scope(sessions) as session:
            return calendar(session, now, months=12)

    def listing_baseline() -> int:
        with engine.connect() as connection:
            return len(
                connection.execute(
                    select(Edition.id, Edition.planned_at, Edition.state).where(
                        Edition.planned_at.between(now, now + relativedelta(months=12))
                    )
                ).all()
            )

    seconds, entries = timed(listing)
    base, base_rows = timed(listing_baseline)
    figure("calendar", seconds, base, len(entries))
    result["calendar_baseline_rows"] = base_rows
    result["expected"] = sorted({e.expected_recipients for e in entries})
    chosen = entries[:ics_entries] if ics_entries else entries
    seconds, body = timed(lambda: calendar_ics(chosen, "bench", "bench.example", now))
    base, _ = timed(lambda: json.dumps([e.as_json() for e in chosen]))
    figure("ics", seconds, base, len(chosen))
    result["ics_kb"] = len(body) // 1024

    # A sweep 31 days after the cold plan: every series tops up its rows in the same sweep.
    refill_now = now + timedelta(days=31)
    with engine.connect() as connection:
        through = connection.scalar(select(func.max(Series.planned_through)))

    def refill() -> Any:
        with session_scope(sessions) as session:
            return plan_editions(session, refill_now)

    seconds, report = timed(refill)
    assert through is not None
    topped_up = copy_and_delete(runtime, EDITIONS.c.planned_at > through)
    figure("refill", seconds, core_insert(runtime, topped_up), report.created)
    result["refill_copied"] = len(topped_up)

    # Then a sweep a day, as a running scheduler does: top-ups are spread over the days, so
    # each day's sweep tops up a few series. The worst day of the next 30, against the
    # same series query in Core on that day.
    worst = (0.0, 0.0, 0)
    for day in range(32, 62):
        on = now + timedelta(days=day)

        def daily(on: datetime = on) -> Any:
            with session_scope(sessions) as session:
                return plan_editions(session, on)

        def daily_baseline(on: datetime = on) -> None:
            with engine.connect() as connection:
                connection.execute(
                    select(*PLAN_COLUMNS)
                    .where(
                        (Series.planned_through.is_(None))
                        | (Series.planned_through < on + REFILL_BELOW)
                    )
                    .order_by(Series.id)
                ).all()

        base, _ = timed(daily_baseline)
        seconds, report = timed(daily)
        if seconds > worst[0]:
            worst = (seconds, base, report.created)
    figure("daily", *worst)
    runtime.close()
    return result


# -- lag from due time to claim ------------------------------------------------------------


def lag_series_row(i: int, now: datetime) -> dict[str, Any]:
    row = series_row(i, now)
    row.update(
        all_audiences=True,
        cadence=MONTHLY[i % len(MONTHLY)],
        shift=Shift.NONE,
        holiday_country=None,
        local_time=False,
        start_date=None,
    )
    return row


def watch_claims(runtime: Runtime) -> dict[int, datetime]:
    """When each claim's UPDATE (planned -> sending, with a lease) ran, seen from the
    engine: started_at is the tick's clock reading, taken before the claim's queries."""
    seen: dict[int, datetime] = {}

    @event.listens_for(runtime.engine, "after_cursor_execute")
    def _claim(
        _connection: Any, cursor: Any, statement: str, _parameters: Any, context: Any, _many: Any
    ) -> None:
        if not statement.startswith("UPDATE editions SET state") or context is None:
            return
        params = context.compiled_parameters[0]
        if "started_at" in params and "lease_owner" in params and cursor.rowcount == 1:
            seen.setdefault(int(params["id_1"]), datetime.now(UTC))

    return seen


def run_lag(url: str, data_dir: Path) -> dict[str, Any]:
    """Child process: APScheduler's own firing lag, then commhub's lag from due to claim."""
    # Baseline: a bare BackgroundScheduler, configured as commhub's, firing no-op jobs.
    fired: dict[int, float] = {}
    done = threading.Event()
    aps = BackgroundScheduler(
        timezone=UTC, job_defaults={"coalesce": True, "misfire_grace_time": None}
    )
    aps.start()
    first = datetime.now(UTC) + timedelta(seconds=LAG_LEAD)

    def job(n: int, scheduled: datetime) -> None:
        fired[n] = (datetime.now(UTC) - scheduled).total_seconds()
        if len(fired) == LAG_EDITIONS:
            done.set()

    for n in range(LAG_EDITIONS):
        at = first + timedelta(seconds=n * LAG_STEP)
        aps.add_job(job, DateTrigger(at, timezone=UTC), args=(n, at), id=f"job-{n}")
    done.wait(LAG_DEADLINE)
    aps.shutdown(wait=True)

    # commhub: planned editions made due, claimed by the real scheduler.
    setup_now = datetime.now(UTC)
    runtime = migrated_runtime(settings_for(url, data_dir))
    add_series(runtime, LAG_EDITIONS, setup_now, lag_series_row)
    with session_scope(runtime.sessions) as session:
        plan_editions(session, setup_now)
        ids = [
            edition_id
            for (edition_id,) in session.execute(
                select(func.min(Edition.id)).group_by(Edition.series_id).order_by(Edition.series_id)
            )
        ]
    settings = runtime.settings
    runner = EditionRunner(
        runtime.sessions,
        lambda: OutboxBackend(data_dir / "outbox"),
        settings,
        build_renderer(),
        SystemClock(),
        workers=4,
    )
    scheduler = Scheduler(runner, runtime.sessions, SystemClock(), sweep_seconds=1)
    claims = watch_claims(runtime)
    first = datetime.now(UTC) + timedelta(seconds=LAG_LEAD)
    with session_scope(runtime.sessions) as session:
        for n, edition_id in enumerate(ids):
            session.execute(
                update(Edition)
                .where(Edition.id == edition_id)
                .values(due_at=first + timedelta(seconds=n * LAG_STEP))
            )
    scheduler.start()
    deadline = time.monotonic() + LAG_DEADLINE
    started = 0
    while time.monotonic() < deadline:
        time.sleep(0.25)
        with runtime.engine.connect() as connection:
            started = connection.scalar(
                select(func.count())
                .select_from(EDITIONS)
                .where(EDITIONS.c.id.in_(ids), EDITIONS.c.started_at.is_not(None))
            )
        if started == len(ids):
            break
    runner.wait(LAG_DEADLINE)
    scheduler.aps.shutdown(wait=True)
    scheduler.stop()
    with runtime.engine.connect() as connection:
        rows = connection.execute(
            select(Edition.id, Edition.due_at, Edition.started_at, Edition.state).where(
                Edition.id.in_(ids)
            )
        ).all()
    runtime.close()
    lags = [(s - d).total_seconds() for _i, d, s, _st in rows if s is not None]
    seen = [(claims[i] - d).total_seconds() for i, d, _s, _st in rows if i in claims]
    states: dict[str, int] = {}
    for *_rest, state in rows:
        states[str(state)] = states.get(str(state), 0) + 1
    return {
        "baseline": sorted(fired.values()),
        "started_at": sorted(lags),
        "claim_update": sorted(seen),
        "states": states,
    }


# -- the parent: runs, medians, the table ---------------------------------------------------


def child(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


STARTUP_FIGURES = (
    ("cold", "startup", "cold plan, s", "rows written"),
    ("cold_driver", "startup", "  the same, against the driver floor", "rows written"),
    ("warm", "startup", "warm start-up (check_all + upcoming), s", "rows written"),
    ("day", "startup", "sweep a day later, s", "rows written"),
    ("refill", "startup", "sweep after 31 days with none (all top up), s", "rows written"),
    ("daily", "startup", "daily sweeps then, the worst of 30 days, s", "rows written"),
    ("calendar", "calendar", "calendar, 12 months, s", "entries"),
    ("ics", "calendar", "calendar_ics of those entries, s", "entries"),
)
LAG_FIGURES = (
    ("started_at", "lag: started_at - due_at, median ms", "worst ms"),
    ("claim_update", "lag: claim UPDATE ran - due_at, median ms", "worst ms"),
)
BASELINES = """baselines (same run):
  cold plan, top-up    Core executemany INSERT of the rows the plan wrote, copied and deleted
  driver floor         the same rows converted beforehand, one driver executemany
  warm start-up        Core select of the series columns plan_editions reads + the due query
  sweep a day later    the same series query, in Core (daily sweeps: that day's)
  calendar             Core select (id, planned_at, state), planned_at within 12 months
  calendar_ics         json.dumps([e.as_json() for e in entries]) of the same entries
  lag                  APScheduler BackgroundScheduler, no-op DateTrigger jobs, same offsets
ratio: median over runs of commhub / baseline in the same run"""


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        kind, url, data_dir, *rest = sys.argv[2:]
        if kind == "startup":
            result = run_startup(url, Path(data_dir), int(rest[0]), int(rest[1]))
        else:
            result = run_lag(url, Path(data_dir))
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", help="PostgreSQL server (default: SQLite)")
    parser.add_argument("--only", choices=["startup", "calendar", "lag"])
    parser.add_argument(
        "--ics-entries", type=int, default=10_000,
        help="calendar entries to export as iCalendar (0: all; a year of 10,000 series "
        "takes over a minute)",
    )  # fmt: skip
    args = parser.parse_args()

    startups: list[dict[str, Any]] = []
    lags: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        databases = Database(args.database_url, workdir)
        for run in range(args.runs):
            run_dir = workdir / f"run-{run}"
            run_dir.mkdir()
            if args.only in (None, "startup", "calendar"):
                url, drop = databases.fresh()
                try:
                    startups.append(
                        child("startup", url, str(run_dir), str(args.series), str(args.ics_entries))
                    )
                finally:
                    drop()
            if args.only in (None, "lag"):
                url, drop = databases.fresh()
                try:
                    lags.append(child("lag", url, str(run_dir)))
                finally:
                    drop()
            print(f"run {run + 1}/{args.runs} done", file=sys.stderr)

    backend = "postgresql" if args.database_url else "sqlite"
    print(
        f"schedule, {args.series:,} series, {CONTACTS:,} contacts, {backend}, "
        f"median of {args.runs} runs"
    )
    print(f"{'figure':<44}{'commhub':>10}{'baseline':>10}{'ratio':>8}{'rows':>10}  rows are")
    for key, group, label, rows_are in STARTUP_FIGURES:
        if not startups or args.only not in (None, "startup" if group == "startup" else group):
            continue
        runs = [r[key] for r in startups]
        commhub = statistics.median(r["commhub"] for r in runs)
        base = statistics.median(r["baseline"] for r in runs)
        ratio = statistics.median(r["commhub"] / r["baseline"] for r in runs)
        rows = int(statistics.median(r["rows"] for r in runs))
        print(f"{label:<44}{commhub:>10.3f}{base:>10.3f}{ratio:>8.2f}{rows:>10,}  {rows_are}")
    for key, label, worst_label in LAG_FIGURES:
        if not lags:
            break
        for pick, text_label in ((statistics.median, label), (max, "      " + worst_label)):
            ours = [pick(r[key]) * 1000 for r in lags if r[key]]
            theirs = [pick(r["baseline"]) * 1000 for r in lags if r["baseline"]]
            if not ours or not theirs:
                print(f"{text_label:<44}{'none':>10}")
                continue
            ratio = statistics.median(o / t for o, t in zip(ours, theirs, strict=False))
            rows = statistics.median(len(r[key]) for r in lags)
            print(
                f"{text_label:<44}{statistics.median(ours):>10.1f}"
                f"{statistics.median(theirs):>10.1f}{ratio:>8.2f}{rows:>10.0f}  editions"
            )
    print(BASELINES)
    notes(args, startups, lags)


def notes(
    args: argparse.Namespace, startups: list[dict[str, Any]], lags: list[dict[str, Any]]
) -> None:
    """What a reader of the figures needs besides them: goals and anything odd."""
    if startups and args.only in (None, "startup"):
        cold = statistics.median(r["cold"]["commhub"] for r in startups)
        warm = statistics.median(r["warm"]["commhub"] for r in startups)
        print(
            f"goal, start-up and reconcile with {args.series:,} series under 5 s: "
            f"cold plan {cold:.1f} s, warm start-up {warm:.1f} s"
        )
    for r in startups:
        if r["copied"] != r["cold"]["rows"] or r["refill_copied"] != r["refill"]["rows"]:
            print("note: the baselines re-inserted a different number of rows than were written")
            break
    for r in startups:
        if r["calendar_baseline_rows"] != r["calendar"]["rows"]:
            print(
                f"note: calendar listed {r['calendar']['rows']:,} entries, the baseline "
                f"select {r['calendar_baseline_rows']:,} rows"
            )
            break
    if startups:
        first = startups[0]
        print(
            f"expected recipients per entry: {first['expected']}; iCalendar "
            f"{first['ics_kb']:,} KB for {first['ics']['rows']:,} entries"
        )
    for r in lags:
        if len(r["started_at"]) < LAG_EDITIONS:
            print(f"note: only {len(r['started_at'])} of {LAG_EDITIONS} editions were claimed")
    if lags:
        print(f"lag editions' final states (first run): {lags[0]['states']}")


if __name__ == "__main__":
    main()

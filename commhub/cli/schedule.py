"""calendar (list, feeds), scheduler."""

from __future__ import annotations

import json
import logging
import signal
from types import FrameType

import click

from commhub.bootstrap import require_current_schema
from commhub.cli.context import AppContext, pass_app
from commhub.feeds import SourceFetcher
from commhub.render import calendar_tokens
from commhub.scheduling import (
    SWEEP_SECONDS,
    CalendarEntry,
    EditionRunner,
    Scheduler,
    calendar,
    create_feed,
    feed_path,
    list_feeds,
    plan_editions,
    revoke_feed,
)
from commhub.wiring import build_delivery_backend, build_fetch_policy, build_poster_for


@click.group(invoke_without_command=True)
@click.option("--months", default=12, show_default=True, type=click.IntRange(1, 13))
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table")
@click.option("--series", "series_slugs", multiple=True, metavar="SLUG", help="Only these.")
@click.pass_context
def calendar_command(
    ctx: click.Context, months: int, output: str, series_slugs: tuple[str, ...]
) -> None:
    """The planned editions of the next months: date, time, zone, series, audiences,
    expected recipients and state. Subcommands manage the subscribable iCalendar feeds."""
    if ctx.invoked_subcommand is not None:
        return
    app = ctx.find_object(AppContext)
    assert app is not None
    now = app.runtime.clock.now()
    with app.session() as session:
        plan_editions(session, now)  # rows are topped up here too, not only by a scheduler
        entries = calendar(session, now, months, series_slugs)
    if output == "json":
        click.echo(json.dumps([e.as_json() for e in entries], indent=2, ensure_ascii=False))
        return
    if not entries:
        click.echo(
            "No editions planned. Apply a series file (`commhub series apply series.yml`); "
            "its cadences fill this calendar.",
            err=True,
        )
        return
    _print_table(entries)


calendar_command.name = "calendar"


def _print_table(entries: list[CalendarEntry]) -> None:
    click.echo(
        f"  {'date and time':<16}  {'zone':<20} {'series':<24} {'channel':<13} {'audiences':<28} "
        f"{'expected':>8}  state"
    )
    month = ""
    for e in entries:
        heading = e.planned_at.strftime("%B %Y")
        if heading != month:
            month = heading
            click.echo(f"\n{heading}")
        audiences = ",".join(e.audiences) or "all"
        when = e.planned_at.strftime("%a %d %b %H:%M")
        zone = f"{e.timezone}{' (each contact local)' if e.local_time else ''}"
        click.echo(
            f"  {when}  {zone:<20} {e.series:<24} {e.channel:<13} {audiences:<28} "
            f"{e.expected_recipients:>8}  {e.state.value}"
        )


@calendar_command.command("link")
@click.argument("label")
@pass_app
def link_command(app: AppContext, label: str) -> None:
    """Make a subscribable iCalendar URL of the calendar, named LABEL (who it is for)."""
    with app.session() as session:
        feed = create_feed(session, label, app.runtime.clock.now())
        path = feed_path(calendar_tokens(app.settings.secret_keys), feed)
    click.echo(f"calendar feed {feed.id} ({feed.label}): {app.settings.base_url}{path}")
    click.echo(f"anyone with this URL sees the plan; `commhub calendar revoke {feed.id}` ends it")


@calendar_command.command("links")
@pass_app
def links_command(app: AppContext) -> None:
    """List the calendar feeds and whether they are revoked."""
    with app.session() as session:
        feeds = list_feeds(session)
    if not feeds:
        click.echo('No calendar feeds yet: `commhub calendar link "Marketing team"`.', err=True)
    for feed in feeds:
        state = f"revoked {feed.revoked_at:%Y-%m-%d}" if feed.revoked_at else "live"
        click.echo(f"{feed.id:>4}  {feed.label:<40} {state}")


@calendar_command.command("revoke")
@click.argument("feed_id", type=int, metavar="ID")
@pass_app
def revoke_command(app: AppContext, feed_id: int) -> None:
    """Turn a calendar feed's URL off for good."""
    with app.session() as session:
        revoke_feed(session, feed_id, app.runtime.clock.now())
    click.echo(f"calendar feed {feed_id} revoked: its URL now answers 404")


def log_to_stderr() -> None:
    """What the scheduler does, one line each; the libraries' chatter only if they warn."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    for chatty in ("apscheduler", "alembic"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


def build_scheduler(
    app: AppContext, workers: int, sweep_seconds: float, blocking: bool
) -> Scheduler:
    """The scheduler `commhub scheduler` and `commhub serve` run."""
    runtime = app.runtime
    runner = EditionRunner(
        runtime.sessions, lambda: build_delivery_backend(app.settings), app.settings,
        app.renderer, runtime.clock, workers, poster_for=build_poster_for(app.settings),
    )  # fmt: skip
    feeds = SourceFetcher(runtime.sessions, runtime.clock, build_fetch_policy(app.settings))
    return Scheduler(runner, runtime.sessions, runtime.clock, sweep_seconds, blocking, feeds)


@click.command("scheduler")
@click.option("--workers", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--sweep-seconds", default=SWEEP_SECONDS, show_default=True, type=click.FloatRange(1, 3600)
)
@pass_app
def scheduler_command(app: AppContext, workers: int, sweep_seconds: float) -> None:
    """Send planned editions on their dates (runs until stopped; any number may run)."""
    require_current_schema(app.runtime)
    log_to_stderr()
    scheduler = build_scheduler(app, workers, sweep_seconds, blocking=True)

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        scheduler.stop()

    signal.signal(signal.SIGTERM, _stop)
    click.echo(f"commhub scheduler: sweeping every {sweep_seconds:g} s", err=True)
    try:
        scheduler.start()
    except KeyboardInterrupt:
        scheduler.stop()

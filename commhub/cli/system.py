"""init, serve, demo-data, audiences."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

import click
from waitress import serve as waitress_serve

from commhub.bootstrap import initialise, require_current_schema
from commhub.cli.context import AppContext, pass_app
from commhub.cli.progress import progress_bar
from commhub.cli.schedule import build_scheduler, log_to_stderr
from commhub.contacts import ensure_demo_admin, load_demo_data
from commhub.library import list_audiences, load_audiences
from commhub.resources import audiences_dir
from commhub.scheduling import SWEEP_SECONDS, has_history, history_steps, simulate_history
from commhub.store import checkpoint_in_background, utcnow
from commhub.wiring import build_message_copies, build_poster_for


@click.command()
@pass_app
def init(app: AppContext) -> None:
    """Create the data dir, secret key and schema, and load the audiences (idempotent)."""
    report = initialise(app.runtime)
    click.echo(f"data dir: {report.data_dir}")
    before = report.revision_before or "empty"
    if before == report.revision_after:
        click.echo(f"schema: {report.revision_after} (already current)")
    else:
        click.echo(f"schema: {before} -> {report.revision_after}")
    changed = ", ".join(report.audiences_changed) or "none changed"
    click.echo(f"audiences: {changed}")
    if report.figures_rebuilt:
        click.echo("figures: worked out from the events already recorded (report rebuild)")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--scheduler/--no-scheduler",
    "with_scheduler",
    default=True,
    show_default=True,
    help="Also send planned editions on their dates (or leave that to `commhub scheduler`).",
)
@pass_app
def serve(app: AppContext, host: str, port: int, threads: int, with_scheduler: bool) -> None:
    """Serve the web app (waitress, a production WSGI server), and run the scheduler."""
    from commhub.web import create_app

    require_current_schema(app.runtime)
    stop_checkpoints = checkpoint_in_background(app.runtime.engine)
    web_app = create_app(runtime=app.runtime)
    scheduler = build_scheduler(app, 4, SWEEP_SECONDS, blocking=False) if with_scheduler else None
    if scheduler is not None:
        log_to_stderr()
        scheduler.start()
    click.echo(
        f"commhub serving on http://{host}:{port}/ (links in messages use {app.settings.base_url})"
        + (", sending planned editions on their dates" if scheduler else ""),
        err=True,
    )
    click.echo(f"staff sign in at http://{host}:{port}/login", err=True)
    try:
        waitress_serve(web_app, host=host, port=port, threads=threads, ident="commhub")
    finally:
        if scheduler is not None:
            scheduler.stop()
        stop_checkpoints()


@click.command("demo-data")
@click.option(
    "--history",
    "months",
    type=click.IntRange(0, 24),
    default=0,
    help="Also simulate this many months of past editions, sent and answered.",
)
@pass_app
def demo_data(app: AppContext, months: int) -> None:
    """Write a sample partner ecosystem: 32 partners and about 300 contacts (idempotent);
    with --history N, N months of past editions of every series, answered as people do."""
    now = utcnow()
    with app.session() as session:
        report = load_demo_data(session, now)
        email, password = ensure_demo_admin(session, app.settings.data_dir)
        made_before = has_history(session)
    click.echo(f"demo contacts: {report.summary()}")
    if months and made_before:
        click.echo("demo history: editions have gone out already; none simulated")
    elif months:
        _simulate(app, months, now)
    click.echo(f"demo admin: sign in at {app.settings.base_url}/login as {email} / {password}")


def _simulate(app: AppContext, months: int, now: datetime) -> None:
    """The history, through the outbox whatever COMMHUB_DELIVERY says: never mailed, never
    posted anywhere."""
    sessions = app.sessions
    settings = app.settings
    steps = history_steps(sessions, months, now)
    with progress_bar(steps, f"Simulating {months} months") as advance:
        history = simulate_history(
            sessions, months, now, app.renderer, settings, build_message_copies(settings),
            build_poster_for(replace(settings, social_delivery="outbox")), advance,
        )  # fmt: skip
    click.echo(f"demo history: {history.summary()}")


@click.group()
def audiences() -> None:
    """The audiences (roles) content is tagged with; defined by audiences/*.yml."""


@audiences.command("list")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table")
@pass_app
def list_command(app: AppContext, output: str) -> None:
    """List the audiences in the database."""
    with app.session() as session:
        rows = [
            {"slug": a.slug, "name": a.name, "description": a.description, "keywords": a.keywords}
            for a in list_audiences(session)
        ]
    if output == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        click.echo(f"{row['slug']:<14} {row['name']}")


@audiences.command("check")
def check_command() -> None:
    """Validate the audience files without touching the database."""
    definitions = load_audiences(audiences_dir())
    click.echo(f"{len(definitions)} audiences OK: {', '.join(d.slug for d in definitions)}")

"""series apply, series list."""

from __future__ import annotations

from pathlib import Path

import click

from commhub.cli.context import AppContext, pass_app
from commhub.scheduling import (
    apply_series,
    known_audiences,
    list_series,
    plan_editions,
    read_series_file,
    series_ids_of,
)


@click.group()
def series() -> None:
    """Series: a channel on a cadence, for some audiences (defined in YAML)."""


@series.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def apply_command(app: AppContext, file: Path) -> None:
    """Create or update the series FILE lists (all or nothing)."""
    with app.session() as session:
        definitions = read_series_file(file, known_audiences(session), app.renderer.has_template)
        report = apply_series(session, definitions)
        changed = series_ids_of(session, [*report.created, *report.updated])
        plan = plan_editions(session, app.runtime.clock.now(), changed)
    click.echo(f"series from {file}: {report.summary()}")
    if plan.series:
        click.echo(
            f"planned editions: {plan.created} planned, {plan.removed} removed "
            f"(`commhub calendar` lists them)"
        )
    for edition_id in plan.cancelled:
        click.echo(f"edition {edition_id} was approved but is off the new schedule: cancelled")


@series.command("list")
@pass_app
def list_command(app: AppContext) -> None:
    """List the series."""
    with app.session() as session:
        rows = [
            (
                s.slug,
                s.channel.value,
                "all" if s.all_audiences else ",".join(a.slug for a in s.audiences),
                s.cadence,
            )
            for s in list_series(session)
        ]
    if not rows:
        click.echo("No series yet: `commhub series apply series.yml`.", err=True)
    for slug, channel, audiences, cadence in rows:
        click.echo(f"{slug:<28} {channel:<12} {audiences:<36} {cadence}")

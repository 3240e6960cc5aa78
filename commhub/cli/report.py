"""report exposures (the rule of seven), items, partners, complaints, rebuild (prove the kept
figures); events export."""

from __future__ import annotations

import contextlib
import csv
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from commhub.cli.context import AppContext, pass_app
from commhub.cli.progress import progress_bar
from commhub.reports import (
    AGGREGATES,
    EXPOSURE_COLUMNS,
    ITEM_COLUMNS,
    AggregateCheck,
    Thresholds,
    check_aggregates,
    complaint_report,
    event_rows,
    exposure_rows,
    heat_map,
    heat_map_rows,
    item_report,
    item_rows,
    reach_report,
    rebuild_aggregates,
    write_csv,
)
from commhub.tracking import FORMATS, SEVEN, THREE


@click.group()
def report() -> None:
    """Reports on what reached whom (more come with tracking)."""


@report.command("exposures")
@click.option("--format", "output", type=click.Choice(["table", "json", "csv"]), default="table")
@pass_app
def exposures_command(app: AppContext, output: str) -> None:
    """Per key message: contacts targeted, how many saw it 1, 2, ... 7+ times and in 1, 2,
    3+ formats, and the share at seven exposures across three formats."""
    with app.session() as session:
        reaches = reach_report(session)
    rows = exposure_rows(reaches)
    if output == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    elif output == "csv":
        write_csv(sys.stdout, rows, EXPOSURE_COLUMNS)
    elif not rows:
        click.echo("No key messages yet: give content items a `key_message:`.", err=True)
    else:
        for reach in reaches:
            seen = " ".join(f"{n}:{reach.by_exposures[n]}" for n in range(1, SEVEN + 1))
            formats = " ".join(f"{n}:{reach.by_formats[n]}" for n in range(1, THREE + 1))
            click.echo(
                f"{reach.key_message[:60]:<60} targeted {reach.targeted:>6}  "
                f"exposures {seen}  formats {formats}  "
                f"seven across three {reach.seven_across_three} ({reach.share:.1%})"
            )


@click.group()
def events() -> None:
    """Recorded events: opens, clicks, votes, provider events."""


@events.command("export")
@click.option("--since", type=click.DateTime(), help="Only events from then (ISO 8601, UTC).")
@click.option("-o", "--output", "target", default="-", show_default=True, help="FILE, or -.")
@pass_app
def export_command(app: AppContext, since: datetime | None, target: str) -> None:
    """Write every event as CSV: time,type,email,item,channel,provider_event_id."""
    moment = since.replace(tzinfo=UTC) if since and since.tzinfo is None else since
    with contextlib.ExitStack() as stack:
        out = sys.stdout
        if target != "-":
            out = stack.enter_context(Path(target).open("w", encoding="utf-8", newline=""))
        session = stack.enter_context(app.session())
        writer = csv.writer(out)
        count = -1  # the header is not an event
        for row in event_rows(session, moment):
            writer.writerow(row)
            count += 1
    if target != "-":
        click.echo(f"{count} events written to {target}", err=True)


@report.command("complaints")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table")
@pass_app
def complaints_command(app: AppContext, output: str) -> None:
    """Spam complaints: over the last 7 days and per edition of that time; at 0.1 % an
    alert, at 0.3 % new editions are held until released."""
    with app.session() as session:
        found = complaint_report(session, app.runtime.clock.now())
    if output == "json":
        click.echo(json.dumps(found.as_json(), indent=2))
        return
    click.echo(f"last 7 days: {found.recent.describe()}: {found.state}")
    for edition_id, rate in found.editions.items():
        click.echo(f"  edition {edition_id:>6}: {rate.describe()}")


@report.command("items")
@click.option("--format", "output", type=click.Choice(["table", "json", "csv"]), default="table")
@pass_app
def items_command(app: AppContext, output: str) -> None:
    """Per item and audience: delivered, unique human opens, clicks, clicks in personal
    feeds, votes, and the relevance rate yes / (yes + no) with its count."""
    with app.session() as session:
        rows = item_rows(item_report(session))
    if output == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    elif output == "csv":
        write_csv(sys.stdout, rows, ITEM_COLUMNS)
    elif not rows:
        click.echo("No item has been delivered yet.", err=True)
    else:
        for row in rows:
            votes = int(str(row["votes_yes"])) + int(str(row["votes_no"]))
            rate = (
                f"{row['relevance']:.0%} of {votes}" if row["relevance"] is not None else "no votes"
            )
            click.echo(
                f"{row['item']!s:<32} {row['audience']!s:<12} delivered {row['delivered']!s:>6}  "
                f"opened {row['unique_human_opens']!s:>6}  clicked {row['clicks']!s:>6}  "
                f"in feeds {row['feed_clicks']!s:>5}  on social {row['social_clicks']!s:>5}  "
                f"relevant {rate}"
            )


@report.command("partners")
@click.option("--format", "output", type=click.Choice(["table", "json", "csv"]), default="table")
@pass_app
def partners_command(app: AppContext, output: str) -> None:
    """Per partner: the share of each role that saw each format (green, amber, red by
    COMMHUB_HEAT_MAP_GREEN and _AMBER), and the gaps named."""
    thresholds = Thresholds(app.settings.heat_map_green, app.settings.heat_map_amber)
    with app.session() as session:
        roles, grids = heat_map(session)
    rows = heat_map_rows(roles, grids, thresholds)
    if output == "json":
        gaps = {grid.partner: grid.gaps(roles) for grid in grids}
        click.echo(json.dumps({"cells": rows, "gaps": gaps}, indent=2, ensure_ascii=False))
        return
    if output == "csv":
        write_csv(sys.stdout, rows, list(rows[0]) if rows else ["partner", "role", "contacts"])
        return
    if not grids:
        click.echo("No partners yet: `commhub contacts import FILE`.", err=True)
    for grid in grids:
        click.echo(f"\n{grid.partner}")
        click.echo(f"  {'role':<12} {'contacts':>8}  " + "  ".join(f"{f:<12}" for f in FORMATS))
        for slug, _name in roles:
            cells = "  ".join(
                f"{grid.share(slug, f):>4.0%} {thresholds.colour(grid.share(slug, f)):<7}"
                for f in FORMATS
            )
            click.echo(f"  {slug:<12} {grid.contacts.get(slug, 0):>8}  {cells}")
        for gap in grid.gaps(roles):
            click.echo(f"  gap: {gap}")


@report.command("rebuild")
@click.option(
    "--check", is_flag=True, help="Only compare: change nothing, exit 1 if a figure differs."
)
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table")
@pass_app
def rebuild_command(app: AppContext, check: bool, output: str) -> None:
    """Work every kept figure out again from the events, messages and exposures, compare it
    with what the aggregate tables hold, and put it in their place (one transaction).
    Run it after an upgrade that adds an aggregate, or to prove the figures."""
    with app.session() as session, progress_bar(len(AGGREGATES), "Working out") as advance:
        act = check_aggregates if check else rebuild_aggregates
        found = act(session, done=lambda _name: advance(1))
    if output == "json":
        # Keys may hold times (a week's start): written as ISO 8601 text.
        checks = [_check_json(c) for c in found]
        click.echo(json.dumps(checks, indent=2, ensure_ascii=False, default=_iso_text))
    else:
        for c in found:
            verdict = "matches" if c.matches else f"{len(c.mismatches)} rows differed"
            if c.mismatches and not check:
                verdict += ", put right"
            click.echo(f"{c.name:<50} {c.rows:>9} rows  {verdict}")
            for m in c.mismatches[:_SHOWN]:
                key = ", ".join(
                    _iso_text(part) if isinstance(part, datetime) else str(part) for part in m.key
                )
                click.echo(f"    ({key}): held {m.held}, from the events {m.recomputed}")
            if len(c.mismatches) > _SHOWN:
                click.echo(f"    ... and {len(c.mismatches) - _SHOWN} more")
    if check and not all(c.matches for c in found):
        raise SystemExit(1)


_SHOWN = 5  # mismatched rows shown per aggregate in the table


def _iso_text(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _check_json(found: AggregateCheck) -> dict[str, object]:
    return {
        "aggregate": found.name,
        "columns": list(found.columns),
        "rows": found.rows,
        "matches": found.matches,
        "mismatches": [
            {"key": list(m.key), "held": m.held, "recomputed": m.recomputed}
            for m in found.mismatches
        ],
    }

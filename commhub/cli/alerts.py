"""alerts list."""

from __future__ import annotations

import click

from commhub.cli.context import AppContext, pass_app
from commhub.store import list_alerts


@click.group()
def alerts() -> None:
    """Things that need a person: paused or held editions, messages in doubt."""


@alerts.command("list")
@click.option("--all", "include_resolved", is_flag=True, help="Include resolved alerts.")
@pass_app
def list_command(app: AppContext, include_resolved: bool) -> None:
    """List open alerts, newest first."""
    with app.session() as session:
        found = [
            (a.raised_at, a.resolved_at, a.kind, a.subject, a.message)
            for a in list_alerts(session, include_resolved)
        ]
    if not found:
        click.echo("No open alerts.", err=True)
    for raised_at, resolved_at, kind, subject, message in found:
        state = f"resolved {resolved_at:%Y-%m-%d %H:%M}" if resolved_at else "open"
        click.echo(f"{raised_at:%Y-%m-%d %H:%M} UTC  {kind:<18} {state:<22} {subject}")
        click.echo(f"    {message}")

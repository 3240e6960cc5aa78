"""alerts list."""

from __future__ import annotations

import click

from commhub.cli.context import AppContext, pass_app
from commhub.cli.next_steps import say
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
        found = list_alerts(session, include_resolved)
        if not found:
            click.echo("No open alerts.", err=True)
        for shown in found:
            alert = shown.alert
            raised, resolved = alert.raised_at, alert.resolved_at
            state = f"resolved {resolved:%Y-%m-%d %H:%M}" if resolved else "open"
            click.echo(f"{raised:%Y-%m-%d %H:%M} UTC  {alert.kind:<18} {state:<22} {alert.subject}")
            click.echo(f"    {alert.message}")
            if alert.resolved_at is None:
                for step in shown.next_steps:
                    click.echo(f"    {say(step)}")

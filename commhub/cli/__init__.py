"""The `commhub` command: subcommands mirror the domain's nouns, each a thin call into it.

Exit codes: 0 done; 1 the input or the data was refused (details on stderr); 2 usage or
settings error.
"""

from __future__ import annotations

from typing import IO, Any

import click

from commhub import __version__
from commhub.cli import (
    alerts,
    contacts,
    content,
    editions,
    feeds,
    posts,
    report,
    schedule,
    series,
    system,
    users,
)
from commhub.cli.context import AppContext, os_user
from commhub.cli.next_steps import with_next_steps
from commhub.errors import CommhubError, SettingsError
from commhub.store import acting_as

EXIT_REFUSED = 1
EXIT_USAGE = 2


class CommandRefused(click.ClickException):
    """A commhub error, shown as `commhub: ...` lines on stderr."""

    exit_code = EXIT_REFUSED

    def show(self, file: IO[Any] | None = None) -> None:
        for line in self.format_message().splitlines():
            click.echo(f"commhub: {line}", err=True)


class BadSettings(CommandRefused):
    exit_code = EXIT_USAGE


class CommhubGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SettingsError as exc:
            raise BadSettings(f"settings: {exc}") from exc
        except CommhubError as exc:
            raise CommandRefused(with_next_steps(str(exc), exc.next_steps)) from exc


@click.group(cls=CommhubGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="commhub")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """commhub: partner communications on fixed dates, tailored to each role."""
    ctx.obj = ctx.with_resource(AppContext())
    # What a command changes is logged as done by the person at this terminal.
    ctx.with_resource(acting_as(f"cli:{os_user()}"))


for command in (
    system.init,
    system.serve,
    system.demo_data,
    system.audiences,
    content.content,
    feeds.feeds,
    contacts.contacts,
    users.users,
    series.series,
    editions.editions,
    posts.posts,
    alerts.alerts,
    schedule.calendar_command,
    schedule.scheduler_command,
    report.report,
    report.events,
):
    cli.add_command(command)


def main() -> None:
    """Console entry point."""
    cli(prog_name="commhub")

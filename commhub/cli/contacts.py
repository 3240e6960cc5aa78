"""contacts import, export, erase."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from commhub.cli.context import AppContext, pass_app
from commhub.cli.progress import progress_bar
from commhub.contacts import (
    count_contacts,
    erase_person,
    export_contacts,
    import_contacts_file,
    write_contacts_csv,
)
from commhub.store import utcnow
from commhub.tracking import forget_contact
from commhub.wiring import build_message_copies


@click.group()
def contacts() -> None:
    """Partner contacts: CSV import and export, erasure."""


@contacts.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--skip-invalid", is_flag=True, help="Import the good rows and report the bad ones on stderr."
)
@pass_app
def import_command(app: AppContext, file: Path, skip_invalid: bool) -> None:
    """Create or update contacts from FILE (all or nothing unless --skip-invalid).

    Header: email,first_name,last_name,partner,roles,timezone; optional consent, status,
    partner_type, partner_tier, partner_region. Roles are audience slugs separated by ;.
    """
    rows = _count_records(file)
    with (
        app.session() as session,
        progress_bar(rows, "Importing contacts") as advance,
        # utf-8-sig: spreadsheets save CSV with a byte-order mark.
        file.open(encoding="utf-8-sig", newline="") as stream,
    ):
        result = import_contacts_file(
            session, stream, str(file), utcnow(), skip_invalid=skip_invalid, progress=advance
        )
    for problem in result.skipped:
        click.echo(f"skipped: {problem}", err=True)
    click.echo(f"contacts: {result.report.summary()}")
    if result.skipped:
        click.echo(f"{len(result.skipped)} problem(s) in skipped rows (listed on stderr)", err=True)


def _count_records(file: Path) -> int:
    with file.open("rb") as stream:
        return max(sum(1 for _ in stream) - 1, 0)


@contacts.command("export")
@click.argument("file", default="-", type=click.Path(dir_okay=False, allow_dash=True))
@pass_app
def export_command(app: AppContext, file: str) -> None:
    """Write every contact to FILE (default: standard output) in the import format."""
    with app.session() as session:
        total = count_contacts(session)
        if file == "-":
            count = write_contacts_csv(sys.stdout, export_contacts(session))
        else:
            # Written beside the target and renamed, so a failed export leaves no half file.
            target = Path(file)
            partial = target.with_name(f".{target.name}.partial")
            with (
                partial.open("w", encoding="utf-8", newline="") as stream,
                progress_bar(total, "Exporting contacts") as advance,
            ):
                count = write_contacts_csv(stream, _counted(export_contacts(session), advance))
            partial.replace(target)
    click.echo(f"exported {count} contacts", err=True)


def _counted(
    records: Iterator[dict[str, str]], advance: Callable[[int], None]
) -> Iterator[dict[str, str]]:
    for record in records:
        advance(1)
        yield record


@contacts.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def erase_command(app: AppContext, email: str, yes: bool) -> None:
    """Erase a person at their request: their contact, messages, events and outbox files
    go; a hash of the address stays, so a later import skips it. Cannot be undone."""
    if not yes:
        click.confirm(f"Erase {email} and everything recorded about them?", abort=True)
    erasure = erase_person(
        app.sessions, email, utcnow(), build_message_copies(app.settings), forget_contact
    )
    if erasure.found:
        click.echo(
            f"erased {email}: {erasure.messages} messages and {erasure.events} events; "
            "the address stays suppressed (as a hash)"
        )
    else:
        click.echo(f"no contact {email}; the address is suppressed (as a hash) all the same")

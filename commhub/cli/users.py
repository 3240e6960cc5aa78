"""users create."""

from __future__ import annotations

import sys

import click

from commhub.cli.context import AppContext, pass_app
from commhub.contacts import create_user
from commhub.store import UserRole


@click.group()
def users() -> None:
    """Staff accounts (admin, editor, viewer)."""


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in UserRole]), required=True)
@click.option(
    "--password-stdin",
    is_flag=True,
    required=True,
    help="Read the password from standard input (never from the command line).",
)
@pass_app
def create(app: AppContext, email: str, role: str, password_stdin: bool) -> None:
    """Create a staff user; the password is read from standard input."""
    password = sys.stdin.readline().rstrip("\r\n")
    with app.session() as session:
        user = create_user(session, email, UserRole(role), password)
        click.echo(f"created {user.role.value} {user.email}")

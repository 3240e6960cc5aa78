"""users create, list, role, disable, enable."""

from __future__ import annotations

import sys

import click
from sqlalchemy.orm import Session

from commhub.cli.context import AppContext, pass_app
from commhub.contacts import create_user, find_user, list_users, set_active, set_role
from commhub.errors import NotFound
from commhub.store import User, UserRole


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


@users.command("list")
@pass_app
def list_command(app: AppContext) -> None:
    """Every staff user: address, role, whether they may sign in, last sign-in."""
    with app.session() as session:
        found = list_users(session)
        if not found:
            click.echo("no users yet: commhub users create EMAIL --role admin --password-stdin")
        for user in found:
            state = "active" if user.is_active else "disabled"
            last = f"{user.last_login_at:%Y-%m-%d %H:%M} UTC" if user.last_login_at else "never"
            click.echo(f"{user.email}\t{user.role.value}\t{state}\tlast sign-in {last}")


@users.command("role")
@click.argument("email")
@click.argument("role", type=click.Choice([r.value for r in UserRole]))
@pass_app
def role_command(app: AppContext, email: str, role: str) -> None:
    """Give a user another role (their sessions end: they sign in again)."""
    with app.session() as session:
        user = _user(session, email)
        set_role(user, UserRole(role))
        click.echo(f"{user.email} is now {user.role.value}")


@users.command("disable")
@click.argument("email")
@pass_app
def disable(app: AppContext, email: str) -> None:
    """Stop a user signing in (their sessions end at once)."""
    with app.session() as session:
        set_active(_user(session, email), False)
        click.echo(f"{email} may no longer sign in")


@users.command("enable")
@click.argument("email")
@pass_app
def enable(app: AppContext, email: str) -> None:
    """Let a disabled user sign in again."""
    with app.session() as session:
        set_active(_user(session, email), True)
        click.echo(f"{email} may sign in again")


def _user(session: Session, email: str) -> User:
    user = find_user(session, email)
    if user is None:
        raise NotFound(f"no user {email} (commhub users list shows them)")
    return user

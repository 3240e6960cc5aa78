"""Signing staff in through the real /login form, CSRF token and all."""

from __future__ import annotations

import re
from dataclasses import replace

from flask.testing import FlaskClient

from commhub.contacts.users import create_user
from commhub.store.db import session_scope
from commhub.store.models import UserRole
from commhub.web import create_app
from commhub.wiring import Runtime
from tests.builders import World

PASSWORD = "correct horse battery staple"
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def add_user(runtime: Runtime, role: UserRole, email: str | None = None) -> str:
    """A staff user with PASSWORD; returns their address."""
    address = email or f"{role.value}@vendor.example"
    with session_scope(runtime.sessions) as session:
        create_user(session, address, role, PASSWORD)
    return address


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of a page's form, as a browser would read it."""
    found = _TOKEN.search(client.get(path).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD, next_: str = "") -> int:
    """Post the sign-in form; returns the answer's status."""
    path = f"/login?next={next_}" if next_ else "/login"
    form = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    return client.post(path, data=form).status_code


def staff_session(world: World, role: UserRole = UserRole.EDITOR) -> tuple[FlaskClient, str]:
    """A client signed in as a new user with role, on an app whose clock is the world's;
    and the user's address."""
    client = create_app(runtime=replace(world.runtime, clock=world.clock)).test_client()
    email = add_user(world.runtime, role)
    sign_in(client, email)
    return client, email

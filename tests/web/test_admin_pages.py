"""The audit log (written by the domain, shown at /audit), role changes that end sessions,
/users, /settings with secrets masked, and the time zone a user reads times in."""

from __future__ import annotations

import getpass
import re
from dataclasses import replace
from datetime import UTC, datetime

from flask.testing import FlaskClient

from commhub.config import shown_settings
from commhub.contacts.users import find_user, set_active, set_role
from commhub.editions import approve_edition
from commhub.store import AuditEntry, acting_as
from commhub.store.db import session_scope
from commhub.store.models import UserRole
from commhub.web import create_app
from commhub.wiring import Runtime
from tests.builders import World
from tests.cli.test_cli import Commhub
from tests.web.staff import add_user, csrf_token, sign_in


def _entries(runtime: Runtime) -> list[tuple[str, str, str, str]]:
    with session_scope(runtime.sessions) as session:
        return [
            (e.actor, e.action, e.object_type, e.object_id)
            for e in session.query(AuditEntry).order_by(AuditEntry.id)
        ]


def test_a_role_change_ends_the_users_sessions_and_the_new_role_holds(runtime: Runtime) -> None:
    email = add_user(runtime, UserRole.ADMIN)
    client = create_app(runtime=runtime).test_client()
    sign_in(client, email)
    assert client.get("/users").status_code == 200
    with session_scope(runtime.sessions) as session:
        user = find_user(session, email)
        assert user is not None
        with acting_as("cli:ops"):
            set_role(user, UserRole.VIEWER)
    assert client.get("/users").status_code == 302  # signed out: the old session has ended
    sign_in(client, email)
    assert client.get("/users").status_code == 403
    assert ("cli:ops", "changed a user", "user", email) in _entries(runtime)


def test_a_disabled_user_is_signed_out_and_cannot_sign_in(runtime: Runtime) -> None:
    email = add_user(runtime, UserRole.EDITOR)
    client = create_app(runtime=runtime).test_client()
    sign_in(client, email)
    with session_scope(runtime.sessions) as session:
        user = find_user(session, email)
        assert user is not None
        set_active(user, False)
    assert client.get("/").status_code == 302
    assert sign_in(client, email) == 200  # stays on /login


def test_the_domain_logs_web_actions_under_the_signed_in_user(world: World) -> None:
    runtime = world.runtime
    email = add_user(runtime, UserRole.ADMIN)
    client = create_app(runtime=runtime).test_client()
    sign_in(client, email)
    token = csrf_token(client, "/account")
    response = client.post(
        "/account",
        data={"csrf_token": token, "current": "correct horse battery staple",
              "new": "another long password", "confirm": "another long password"},
    )  # fmt: skip
    assert response.status_code == 302
    entries = _entries(runtime)
    assert (email, "signed in", "user", email) in entries
    assert (email, "changed a user", "user", email) in entries


def test_edition_actions_are_logged_with_who_did_them(world: World) -> None:
    world.item("launch", audiences=["sales"])
    world.contact("ann@partner.example", roles=["sales"])
    world.series("news", requires_approval=True)
    edition_id = world.prepare("news").edition.id
    with world.session() as session, acting_as("boss@vendor.example"):
        approve_edition(session, edition_id, datetime(2026, 12, 3, tzinfo=UTC))
    assert ("boss@vendor.example", "approved", "edition", str(edition_id)) in _entries(
        world.runtime
    )


def test_cli_commands_are_logged_as_the_os_user(tmp_path: object) -> None:
    from pathlib import Path

    commhub = Commhub(Path(str(tmp_path)) / "var")
    assert commhub("init").exit_code == 0
    created = commhub(
        "users", "create", "boss@example.com", "--role", "editor", "--password-stdin",
        input="a long enough password\n",
    )  # fmt: skip
    assert created.exit_code == 0, created.stderr
    assert commhub("users", "role", "boss@example.com", "viewer").exit_code == 0
    assert commhub("users", "disable", "boss@example.com").exit_code == 0
    listed = commhub("users", "list")
    assert "boss@example.com\tviewer\tdisabled\tlast sign-in never" in listed.stdout
    unknown = commhub("users", "role", "nobody@example.com", "admin")
    assert unknown.exit_code == 1
    assert "no user nobody@example.com" in unknown.stderr
    settings_env = {**commhub.env}
    from commhub.config import load_settings
    from commhub.wiring import build_runtime

    runtime = build_runtime(load_settings(settings_env))
    try:
        entries = _entries(runtime)
    finally:
        runtime.close()
    actor = f"cli:{getpass.getuser()}"
    summaries = [(a, act) for a, act, _t, _o in entries]
    assert summaries == [(actor, "changed a user")] * 3


def test_the_audit_page_filters_and_is_for_admins_only(runtime: Runtime) -> None:
    admin = add_user(runtime, UserRole.ADMIN)
    viewer = add_user(runtime, UserRole.VIEWER)
    app = create_app(runtime=runtime)
    client = app.test_client()
    sign_in(client, admin)
    everything = client.get("/audit").get_data(as_text=True)
    assert "signed in" in everything
    assert "created as viewer" in everything
    only_viewer = client.get(f"/audit?actor={viewer}").get_data(as_text=True)
    assert "Nothing in the log matches these filters" in only_viewer
    sign_ins = client.get("/audit?action=signed+in").get_data(as_text=True)
    assert "created as viewer" not in sign_ins
    assert "signed in" in sign_ins
    # Bad filter values are no filter, never an error.
    assert client.get("/audit?action=bogus&since=not-a-date&page=x").status_code == 200
    other = app.test_client()
    sign_in(other, viewer)
    assert other.get("/audit").status_code == 403


def test_settings_show_every_value_with_secrets_masked(runtime: Runtime) -> None:
    secret_runtime = replace(
        runtime,
        settings=replace(
            runtime.settings,
            sendgrid_api_key="SG.very-secret-key",
            smtp_url="smtp://user:hunter2@mail.example:587",
        ),
    )
    client = create_app(runtime=secret_runtime).test_client()
    sign_in(client, add_user(runtime, UserRole.ADMIN))
    page = client.get("/settings").get_data(as_text=True)
    for secret in ("SG.very-secret-key", "hunter2", runtime.settings.secret_key):
        assert secret not in page
    assert "COMMHUB_SMTP_URL" in page
    assert "COMMHUB_HEAT_MAP_GREEN" in page
    shared = replace(runtime.settings, rate_limit_storage="redis://:redispass@127.0.0.1:6379/0")
    shown = {setting.variable: setting.value for setting in shown_settings(shared)}
    assert shown["COMMHUB_RATE_LIMIT_STORAGE"] == "redis://:***@127.0.0.1:6379/0"


def test_users_page_lists_users_and_their_roles(runtime: Runtime) -> None:
    admin = add_user(runtime, UserRole.ADMIN)
    add_user(runtime, UserRole.EDITOR, "o'brien&co@vendor.example")
    client = create_app(runtime=runtime).test_client()
    sign_in(client, admin)
    page = client.get("/users").get_data(as_text=True)
    assert re.search(r"admin@vendor.example</a></td><td>admin", page)
    assert "o&#39;brien&amp;co@vendor.example</a></td><td>editor" in page


def test_times_show_in_the_users_zone_then_the_browsers_then_utc(world: World) -> None:
    runtime = world.runtime
    email = add_user(runtime, UserRole.ADMIN)
    client: FlaskClient = create_app(runtime=runtime).test_client()
    sign_in(client, email)
    assert "Times are in UTC" in client.get("/audit").get_data(as_text=True)
    client.set_cookie("commhub_tz", "America/New_York")
    assert "Times are in America/New_York" in client.get("/audit").get_data(as_text=True)
    client.set_cookie("commhub_tz", "../../etc/passwd")
    assert "Times are in UTC" in client.get("/audit").get_data(as_text=True)
    token = csrf_token(client, "/account")
    saved = client.post("/account/zone", data={"zone-csrf_token": token, "zone-zone": "Asia/Tokyo"})
    assert saved.status_code == 302
    page = client.get("/audit").get_data(as_text=True)
    assert "Times are in Asia/Tokyo" in page
    assert " JST</time>" in page
    refused = client.post(
        "/account/zone", data={"zone-csrf_token": token, "zone-zone": "Mars/Base"}
    )
    assert refused.status_code == 302
    assert "Times are in Asia/Tokyo" in client.get("/audit").get_data(as_text=True)

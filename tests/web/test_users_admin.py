"""Users from the browser, for admins: create a user with a temporary password shown once,
change a role, disable and enable, reset a password; the user must choose their own at next
sign-in, every change ends their sessions and is in the audit log, and an admin cannot lock
themselves (or everyone) out."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from commhub.contacts.users import change_user, find_user
from commhub.errors import InvalidInput
from commhub.store.db import session_scope
from commhub.store.models import AuditEntry, User, UserRole
from commhub.web import create_app
from commhub.wiring import Runtime
from tests.web.staff import PASSWORD, add_user, csrf_token, sign_in

_SECRET = re.compile(r'<code class="secret"[^>]*>([^<]+)</code>')


def client_as(runtime: Runtime, role: UserRole, email: str | None = None) -> FlaskClient:
    """A fresh browser (its own app and sign-in limits), signed in as a new user of role."""
    client = create_app(runtime=runtime).test_client()
    assert sign_in(client, add_user(runtime, role, email)) == 302
    return client


def post(client: FlaskClient, path: str, **fields: str) -> tuple[int, str]:
    answer = client.post(path, data={"csrf_token": csrf_token(client, "/account"), **fields})
    return answer.status_code, answer.get_data(as_text=True)


def post_and_follow(client: FlaskClient, path: str, **fields: str) -> tuple[int, str]:
    """Post, then follow the 303 as a browser does; the page it lands on."""
    answer = client.post(
        path,
        data={"csrf_token": csrf_token(client, "/account"), **fields},
        follow_redirects=True,
    )
    assert [step.status_code for step in answer.history] == [303]
    return answer.status_code, answer.get_data(as_text=True)


def stored(runtime: Runtime, email: str) -> User:
    with session_scope(runtime.sessions) as session:
        user = find_user(session, email)
        assert user is not None
        session.expunge(user)
        return user


def audit(runtime: Runtime) -> list[tuple[str, str, str, str]]:
    with session_scope(runtime.sessions) as session:
        return [
            (e.actor, e.action, e.object_id, e.summary)
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def user_count(runtime: Runtime) -> int:
    with session_scope(runtime.sessions) as session:
        return session.scalar(select(func.count()).select_from(User)) or 0


def temporary_password(page: str) -> str:
    found = _SECRET.search(page)
    assert found, page
    return found.group(1)


def create(admin: FlaskClient, email: str, role: str = "editor") -> str:
    """Create a user through the form; the temporary password the page shows."""
    status, page = post_and_follow(admin, "/users/new", email=email, role=role)
    assert status == 200, page
    return temporary_password(page)


def test_an_admin_creates_a_user_and_sees_the_temporary_password_once(runtime: Runtime) -> None:
    admin = client_as(runtime, UserRole.ADMIN)
    listing = admin.get("/users").get_data(as_text=True)
    assert 'href="/users/new"' in listing
    form = admin.get("/users/new").get_data(as_text=True)
    assert '<label for="email">' in form
    assert '<label for="role">' in form
    answer = admin.post(
        "/users/new",
        data={"csrf_token": csrf_token(admin, "/users/new"), "email": "Eve@Partner.example",
              "role": "editor"},
        follow_redirects=True,
    )  # fmt: skip
    page = answer.get_data(as_text=True)
    password = temporary_password(page)
    assert len(password) >= 16
    assert "only time it is shown" in page
    assert answer.headers["Cache-Control"] == "no-store"
    user = stored(runtime, "eve@partner.example")
    assert user.role is UserRole.EDITOR
    assert user.is_active
    assert user.must_change_password
    assert password not in user.password_hash
    # Shown once: nowhere else, not on the user's page, the list, nor in the log.
    assert password not in admin.get(f"/users/{user.id}").get_data(as_text=True)
    listing = admin.get("/users").get_data(as_text=True)
    assert f'href="/users/{user.id}"' in listing
    assert "temporary password" in listing
    entries = audit(runtime)
    assert (
        "admin@vendor.example",
        "changed a user",
        "Eve@partner.example",
        "Eve@partner.example: created as editor, with a temporary password",
    ) in entries
    assert not any(password in field for entry in entries for field in entry)


def test_a_new_user_must_choose_their_own_password_before_anything_else(
    runtime: Runtime,
) -> None:
    admin = client_as(runtime, UserRole.ADMIN)
    password = create(admin, "eve@partner.example")
    eve = create_app(runtime=runtime).test_client()
    assert sign_in(eve, "eve@partner.example", password) == 302
    for path in ("/", "/content", "/users", "/editions"):
        answer = eve.get(path)
        assert (answer.status_code, answer.headers["Location"]) == (303, "/account"), path
    account = eve.get("/account").get_data(as_text=True)
    assert "Choose your own password to go on." in account
    assert 'action="/account/zone"' not in account  # the account page alone, its form alone
    token = csrf_token(eve, "/account")
    refused = eve.post("/account/zone", data={"csrf_token": token, "zone-zone": "Asia/Tokyo"})
    assert refused.status_code == 303
    assert refused.headers["Location"] == "/account"
    assert stored(runtime, "eve@partner.example").time_zone is None
    same = eve.post(
        "/account",
        data={"csrf_token": token, "current": password, "new": password, "confirm": password},
    )
    assert same.status_code == 400
    assert "Choose a new password, not the temporary one." in same.get_data(as_text=True)
    assert stored(runtime, "eve@partner.example").must_change_password
    own = "eve's own long passphrase"
    changed = eve.post(
        "/account", data={"csrf_token": token, "current": password, "new": own, "confirm": own}
    )
    assert changed.status_code == 302
    assert changed.headers["Location"] == "/"
    assert "Your password is set" in eve.get("/").get_data(as_text=True)
    assert eve.get("/content").status_code == 200
    assert not stored(runtime, "eve@partner.example").must_change_password
    later = create_app(runtime=runtime).test_client()
    assert sign_in(later, "eve@partner.example", password) == 200  # the temporary one is gone
    assert sign_in(later, "eve@partner.example", own) == 302


def test_a_user_who_must_change_their_password_can_still_sign_out(runtime: Runtime) -> None:
    admin = client_as(runtime, UserRole.ADMIN)
    password = create(admin, "eve@partner.example")
    eve = create_app(runtime=runtime).test_client()
    sign_in(eve, "eve@partner.example", password)
    answer = eve.post("/logout", data={"csrf_token": csrf_token(eve, "/account")})
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login"
    assert eve.get("/account").headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("editor@vendor.example", "A user with this address exists already."),
        ("EDITOR@vendor.example", "A user with this address exists already."),
        ("not an address", "That is not an email address."),
        ("", "Enter the new user&#39;s email address."),
    ],
)
def test_a_new_user_the_form_refuses_is_not_created(
    runtime: Runtime, email: str, message: str
) -> None:
    admin = client_as(runtime, UserRole.ADMIN)
    add_user(runtime, UserRole.EDITOR)
    before = user_count(runtime), len(audit(runtime))
    status, page = post(admin, "/users/new", email=email, role="viewer")
    assert status == 400
    beside = rf'<span class="error field" id="email-error"[^>]*>{re.escape(message)}</span>'
    assert re.search(beside, page)
    assert 'aria-describedby="email-error"' in page
    if email:
        assert f'value="{email}"' in page  # what was typed is kept
    assert '<option selected value="viewer">' in page
    assert (user_count(runtime), len(audit(runtime))) == before


def test_a_role_change_ends_the_users_sessions_and_is_logged(runtime: Runtime) -> None:
    admin = client_as(runtime, UserRole.ADMIN)
    editor = client_as(runtime, UserRole.EDITOR)
    user = stored(runtime, "editor@vendor.example")
    page = admin.get(f"/users/{user.id}").get_data(as_text=True)
    assert "editor@vendor.example" in page
    assert "never" not in page
    assert '<option selected value="editor">' in page
    status, _ = post(admin, f"/users/{user.id}", role="viewer", status="active")
    assert status == 303
    after = stored(runtime, "editor@vendor.example")
    assert after.role is UserRole.VIEWER
    assert after.session_generation == user.session_generation + 1
    assert editor.get("/").status_code == 302  # signed out at their next request
    shown = admin.get(f"/users/{user.id}").get_data(as_text=True)
    assert "editor@vendor.example: now viewer. Their sessions have ended." in shown
    assert "role editor → viewer" in shown  # the history on the page
    assert (
        "admin@vendor.example",
        "changed a user",
        "editor@vendor.example",
        "editor@vendor.example: role editor → viewer",
    ) in audit(runtime)


def test_an_admin_disables_and_enables_a_user(runtime: Runtime) -> None:
    admin = client_as(runtime, UserRole.ADMIN)
    viewer = client_as(runtime, UserRole.VIEWER)
    user_id = stored(runtime, "viewer@vendor.example").id
    post(admin, f"/users/{user_id}", role="viewer", status="disabled")
    assert not stored(runtime, "viewer@vendor.example").is_active
    assert viewer.get("/").status_code == 302
    assert sign_in(viewer, "viewer@vendor.example") == 200  # refused
    page = admin.get(f"/users/{user_id}").get_data(as_text=True)
    assert "viewer@vendor.example: disabled." in page
    post(admin, f"/users/{user_id}", role="viewer", status="active")
    assert stored(runtime, "viewer@vendor.example").is_active
    assert sign_in(viewer, "viewer@vendor.example") == 302
    summaries = [summary for *_, summary in audit(runtime)]
    assert "viewer@vendor.example: disabled" in summaries
    assert "viewer@vendor.example: enabled" in summaries
    status, _ = post(admin, f"/users/{user_id}", role="viewer", status="active")
    assert status == 303
    assert "Nothing changed for viewer@vendor.example." in admin.get(f"/users/{user_id}").text


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"role": "editor", "status": "active"}, "role", "remove your own admin role"),
        ({"role": "admin", "status": "disabled"}, "status", "disable your own account"),
    ],
)
def test_an_admin_cannot_lock_themselves_out(
    runtime: Runtime, fields: dict[str, str], field: str, message: str
) -> None:
    add_user(runtime, UserRole.ADMIN, "other@vendor.example")  # not the last admin, even so
    admin = client_as(runtime, UserRole.ADMIN)
    me = stored(runtime, "admin@vendor.example")
    before = len(audit(runtime))
    status, page = post(admin, f"/users/{me.id}", **fields)
    assert status == 400
    assert re.search(rf'<span class="error field" id="{field}-error"[^>]*>[^<]*{message}', page)
    assert "Nothing was changed" in page
    after = stored(runtime, "admin@vendor.example")
    assert (after.role, after.is_active, after.session_generation) == (
        UserRole.ADMIN,
        True,
        me.session_generation,
    )
    assert len(audit(runtime)) == before
    assert admin.get("/users").status_code == 200  # still signed in, still an admin


def test_the_last_active_admin_cannot_be_demoted_or_disabled(runtime: Runtime) -> None:
    add_user(runtime, UserRole.ADMIN)
    with session_scope(runtime.sessions) as session:
        only = find_user(session, "admin@vendor.example")
        assert only is not None
        refusals = ((UserRole.EDITOR, True, "role"), (UserRole.ADMIN, False, "active"))
        for role, active, field in refusals:
            with pytest.raises(InvalidInput) as refused:
                change_user(session, only, role, active, by=None)
            assert refused.value.problems[0].field == field
            assert "only active admin" in refused.value.problems[0].message
        assert only.role is UserRole.ADMIN
        assert only.is_active
        other = User(email="second@vendor.example", role=UserRole.ADMIN, password_hash="x")
        session.add(other)
        session.flush()
        assert change_user(session, only, UserRole.VIEWER, True, by=other) == ["now viewer"]


def test_a_password_reset_shows_a_new_temporary_password_and_ends_the_sessions(
    runtime: Runtime,
) -> None:
    admin = client_as(runtime, UserRole.ADMIN)
    editor = client_as(runtime, UserRole.EDITOR)
    user_id = stored(runtime, "editor@vendor.example").id
    page = admin.get(f"/users/{user_id}").get_data(as_text=True)
    assert f'action="/users/{user_id}/reset-password"' in page
    status, shown = post_and_follow(admin, f"/users/{user_id}/reset-password")
    assert status == 200
    password = temporary_password(shown)
    assert "Password reset: editor@vendor.example" in shown
    assert editor.get("/").status_code == 302  # their session ended
    assert stored(runtime, "editor@vendor.example").must_change_password
    assert sign_in(editor, "editor@vendor.example", PASSWORD) == 200  # the old one is gone
    assert sign_in(editor, "editor@vendor.example", password) == 302
    assert editor.get("/").headers["Location"] == "/account"
    entries = audit(runtime)
    assert (
        "admin@vendor.example",
        "changed a user",
        "editor@vendor.example",
        "editor@vendor.example: password reset: a temporary one, to change at sign-in",
    ) in entries
    assert not any(password in field for entry in entries for field in entry)


def test_refreshing_the_new_users_page_neither_creates_again_nor_shows_the_password(
    runtime: Runtime,
) -> None:
    admin = client_as(runtime, UserRole.ADMIN)
    answer = admin.post(
        "/users/new",
        data={"csrf_token": csrf_token(admin, "/users/new"), "email": "eve@partner.example",
              "role": "viewer"},
    )  # fmt: skip
    user = stored(runtime, "eve@partner.example")
    assert (answer.status_code, answer.headers["Location"]) == (303, f"/users/{user.id}")
    assert '<code class="secret"' not in answer.get_data(as_text=True)
    before = user_count(runtime), len(audit(runtime))
    redirected = admin.get(f"/users/{user.id}")
    page = redirected.get_data(as_text=True)
    password = temporary_password(page)
    assert "New user: eve@partner.example" in page
    assert redirected.headers["Cache-Control"] == "no-store"
    with admin.session_transaction() as kept:
        assert not any(password in str(value) for value in kept.values())
    refreshed = admin.get(f"/users/{user.id}").get_data(as_text=True)
    assert password not in refreshed
    assert "was shown once" in refreshed
    assert f'action="/users/{user.id}/reset-password"' in refreshed  # how to get another
    assert (user_count(runtime), len(audit(runtime))) == before
    eve = create_app(runtime=runtime).test_client()
    assert sign_in(eve, "eve@partner.example", password) == 302


def test_refreshing_after_a_reset_makes_no_new_password_and_shows_none(
    runtime: Runtime,
) -> None:
    admin = client_as(runtime, UserRole.ADMIN)
    editor = stored(runtime, add_user(runtime, UserRole.EDITOR))
    viewer = stored(runtime, add_user(runtime, UserRole.VIEWER))
    answer = admin.post(
        f"/users/{editor.id}/reset-password", data={"csrf_token": csrf_token(admin, "/account")}
    )
    assert (answer.status_code, answer.headers["Location"]) == (303, f"/users/{editor.id}")
    reset = stored(runtime, "editor@vendor.example")
    # Another user's page, in another tab, neither shows nor uses up the waiting password.
    assert '<code class="secret"' not in admin.get(f"/users/{viewer.id}").text
    shown = admin.get(f"/users/{editor.id}")
    password = temporary_password(shown.get_data(as_text=True))
    assert "Password reset: editor@vendor.example" in shown.text
    assert shown.headers["Cache-Control"] == "no-store"
    refreshed = admin.get(f"/users/{editor.id}").get_data(as_text=True)
    assert password not in refreshed
    assert '<code class="secret"' not in refreshed
    assert "was shown once" in refreshed
    after = stored(runtime, "editor@vendor.example")
    assert (after.password_hash, after.session_generation) == (
        reset.password_hash,
        reset.session_generation,
    )
    resets = [summary for *_, summary in audit(runtime) if "password reset" in summary]
    assert len(resets) == 1
    assert sign_in(create_app(runtime=runtime).test_client(), editor.email, password) == 302


def test_an_admin_resets_their_own_password_on_their_account_page(runtime: Runtime) -> None:
    admin = client_as(runtime, UserRole.ADMIN)
    me = stored(runtime, "admin@vendor.example")
    assert "reset-password" not in admin.get(f"/users/{me.id}").get_data(as_text=True)
    status, _ = post(admin, f"/users/{me.id}/reset-password")
    assert status == 303
    assert "change your own password on your account page" in admin.get("/users").text
    after = stored(runtime, "admin@vendor.example")
    assert (after.password_hash, after.must_change_password) == (me.password_hash, False)


@pytest.mark.parametrize("role", [UserRole.EDITOR, UserRole.VIEWER])
def test_other_roles_are_refused_and_nothing_changes(runtime: Runtime, role: UserRole) -> None:
    target = add_user(runtime, UserRole.VIEWER, "target@vendor.example")
    client = client_as(runtime, role, f"someone-{role.value}@vendor.example")
    target_id = stored(runtime, target).id
    before = stored(runtime, target).session_generation, user_count(runtime), len(audit(runtime))
    for path in ("/users", "/users/new", f"/users/{target_id}"):
        assert client.get(path).status_code == 403, path
    for path, fields in (
        ("/users/new", {"email": "new@vendor.example", "role": "admin"}),
        (f"/users/{target_id}", {"role": "admin", "status": "active"}),
        (f"/users/{target_id}/reset-password", {}),
    ):
        assert post(client, path, **fields)[0] == 403, path
    after = stored(runtime, target).session_generation, user_count(runtime), len(audit(runtime))
    assert after == before
    assert stored(runtime, target).role is UserRole.VIEWER


def test_a_user_that_does_not_exist_is_404(runtime: Runtime) -> None:
    admin = client_as(runtime, UserRole.ADMIN)
    assert admin.get("/users/4242").status_code == 404
    assert post(admin, "/users/4242/reset-password")[0] == 404


def test_an_address_is_shown_as_text(runtime: Runtime) -> None:
    admin = client_as(runtime, UserRole.ADMIN)
    create(admin, "o'neil&co@partner.example")
    page = admin.get("/users").get_data(as_text=True)
    assert "o&#39;neil&amp;co@partner.example" in page
    assert "o'neil&co@" not in page

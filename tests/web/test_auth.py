"""Staff sign-in: sessions, a generic refusal, safe redirects, limits, CSRF, and the end of
other sessions when a password changes."""

from __future__ import annotations

import pytest
from flask import Blueprint
from flask.testing import FlaskClient

from commhub.contacts.users import find_user, set_password
from commhub.store.db import session_scope
from commhub.store.models import UserRole
from commhub.web import create_app
from commhub.web.auth import WRONG, roles_required, safe_next, staff_only
from commhub.wiring import Runtime
from tests.web.staff import PASSWORD, add_user, csrf_token, sign_in


@pytest.fixture
def client(runtime: Runtime) -> FlaskClient:
    return create_app(runtime=runtime).test_client()


def test_an_anonymous_visit_goes_to_sign_in_and_back_after_it(
    client: FlaskClient, runtime: Runtime
) -> None:
    email = add_user(runtime, UserRole.VIEWER)
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/"
    assert sign_in(client, email, next_="/") == 302
    page = client.get("/")
    assert page.status_code == 200
    assert "Nothing here yet" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("email", "password"),
    [("viewer@vendor.example", "wrong password!!"), ("nobody@vendor.example", PASSWORD)],
)
def test_a_wrong_address_or_password_stays_on_sign_in_and_says_not_which(
    client: FlaskClient, runtime: Runtime, email: str, password: str
) -> None:
    add_user(runtime, UserRole.VIEWER)
    form = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    response = client.post("/login", data=form)
    assert response.status_code == 200
    assert WRONG in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/editions?state=held", "/editions?state=held"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/x\r\nSet-Cookie: a=b", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_after_sign_in_only_a_path_on_this_site_is_followed(
    target: str | None, expected: str
) -> None:
    assert safe_next(target) == expected


def test_sign_in_without_the_csrf_token_is_refused(client: FlaskClient, runtime: Runtime) -> None:
    email = add_user(runtime, UserRole.ADMIN)
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_sign_out_is_a_post_with_its_token(client: FlaskClient, runtime: Runtime) -> None:
    email = add_user(runtime, UserRole.EDITOR)
    sign_in(client, email)
    assert client.get("/logout").status_code == 405  # no state change on GET
    assert client.post("/logout").status_code == 400  # no token, no sign-out
    assert client.get("/").status_code == 200
    token = csrf_token(client, "/login")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_a_changed_password_ends_the_users_other_sessions(
    runtime: Runtime,
) -> None:
    email = add_user(runtime, UserRole.ADMIN)
    app = create_app(runtime=runtime)
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, email)
    sign_in(phone, email)
    assert phone.get("/").status_code == 200
    with session_scope(runtime.sessions) as session:
        user = find_user(session, email)
        assert user is not None
        set_password(user, "a brand new password")
    assert laptop.get("/").status_code == 302
    assert phone.get("/").status_code == 302
    assert sign_in(phone, email, "a brand new password") == 302
    assert phone.get("/").status_code == 200


def test_sign_in_attempts_are_limited_per_account(client: FlaskClient, runtime: Runtime) -> None:
    email = add_user(runtime, UserRole.ADMIN)
    statuses = [sign_in(client, email, "not the password!") for _ in range(6)]
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429
    # The right password is refused too until the window passes: the guesser learns nothing.
    assert sign_in(client, email) == 429


def test_staff_pages_carry_the_security_headers(client: FlaskClient, runtime: Runtime) -> None:
    sign_in(client, add_user(runtime, UserRole.VIEWER))
    headers = client.get("/").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    script_src = headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    assert script_src.strip() == "'self'"  # no inline script
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"


def change(client: FlaskClient, current: str, new: str, confirm: str | None = None) -> int:
    form = {
        "current": current,
        "new": new,
        "confirm": new if confirm is None else confirm,
        "csrf_token": csrf_token(client, "/account"),
    }
    return client.post("/account", data=form).status_code


def test_a_user_changes_their_password_and_stays_signed_in_here_only(runtime: Runtime) -> None:
    email = add_user(runtime, UserRole.EDITOR)
    app = create_app(runtime=runtime)
    here, elsewhere = app.test_client(), app.test_client()
    sign_in(here, email)
    sign_in(elsewhere, email)
    assert change(here, PASSWORD, "a much better passphrase") == 302
    assert "signed out everywhere else" in here.get("/account").get_data(as_text=True)
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302
    assert sign_in(elsewhere, email, PASSWORD) == 200  # the old one no longer works
    assert sign_in(elsewhere, email, "a much better passphrase") == 302


@pytest.mark.parametrize(
    ("current", "new", "confirm", "says"),
    [
        ("not my password!", "a much better passphrase", None, "not your current password"),
        (PASSWORD, "too short", None, "at least 12"),
        (PASSWORD, "a much better passphrase", "a different passphrase", "differ"),
    ],
)
def test_a_password_change_it_cannot_make_is_refused_and_changes_nothing(
    client: FlaskClient, runtime: Runtime, current: str, new: str, confirm: str | None, says: str
) -> None:
    email = add_user(runtime, UserRole.VIEWER)
    sign_in(client, email)
    form = {
        "current": current,
        "new": new,
        "confirm": new if confirm is None else confirm,
        "csrf_token": csrf_token(client, "/account"),
    }
    response = client.post("/account", data=form)
    assert response.status_code == 400
    assert says in response.get_data(as_text=True)
    assert client.get("/").status_code == 200  # still signed in, with the same password
    other = create_app(runtime=runtime).test_client()
    assert sign_in(other, email, PASSWORD) == 302


def test_a_role_rule_is_enforced_on_the_server(runtime: Runtime) -> None:
    app = create_app(runtime=runtime)

    @roles_required(UserRole.ADMIN, UserRole.EDITOR)
    def edit() -> str:
        return "an editing page"

    guarded = Blueprint("guarded", __name__)
    staff_only(guarded)
    guarded.add_url_rule("/edit-something", view_func=edit)
    app.register_blueprint(guarded)
    expected = {UserRole.ADMIN: 200, UserRole.EDITOR: 200, UserRole.VIEWER: 403}
    for role, status in expected.items():
        client = app.test_client()
        sign_in(client, add_user(runtime, role))
        assert client.get("/edit-something").status_code == status, role
    assert app.test_client().get("/edit-something").status_code == 302


def test_sign_in_attempts_are_limited_per_address_across_accounts(
    client: FlaskClient, runtime: Runtime
) -> None:
    statuses = [sign_in(client, f"guess{n}@vendor.example", "not the password!") for n in range(21)]
    assert statuses[:20] == [200] * 20
    assert statuses[20] == 429


def test_staff_pages_show_who_is_signed_in_and_a_way_out(
    client: FlaskClient, runtime: Runtime
) -> None:
    sign_in(client, add_user(runtime, UserRole.EDITOR))
    for path in ("/", "/account"):
        page = client.get(path).get_data(as_text=True)
        assert "editor@vendor.example (editor)" in page
        assert 'action="/logout"' in page
        assert 'name="csrf_token"' in page

"""Every route of the app, and who may use it: a table generated from the URL map, so that
a route added without a rule here fails, and every staff POST needs its CSRF token."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from commhub.store.models import UserRole
from commhub.web import create_app
from commhub.wiring import Runtime
from tests.web.staff import add_user, sign_in

# Who may use each endpoint: "public" (authorised by a signed token, a signature, or nothing:
# sign-in itself, the health check), or the roles that may (staff pages need sign-in).
EVERYONE_SIGNED_IN = frozenset(UserRole)
ACCESS: dict[str, str | frozenset[UserRole]] = {
    "static": "public",
    "auth.login": "public",
    "auth.logout": "public",
    "health.healthz": "public",
    "home.index": EVERYONE_SIGNED_IN,
    "account.account": EVERYONE_SIGNED_IN,
    "tracking.open_pixel": "public",
    "tracking.click": "public",
    "tracking.vote": "public",
    "subscription.unsubscribe_page": "public",
    "subscription.unsubscribe_now": "public",
    "subscription.preferences": "public",
    "web_version.show": "public",
    "calendar_feed.feed": "public",
    "webhooks.sendgrid_events": "public",
}


@pytest.fixture
def app(runtime: Runtime) -> Flask:
    return create_app(runtime=runtime)


def test_every_route_has_a_rule(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = endpoints - set(ACCESS)
    assert not missing, f"routes without an access rule: {sorted(missing)}"


def staff_routes(app: Flask) -> list[tuple[str, str, frozenset[UserRole]]]:
    """(endpoint, path, roles) of every staff route a GET can be tried on without arguments."""
    return [
        (rule.endpoint, rule.rule, roles)
        for rule in app.url_map.iter_rules()
        if isinstance(roles := ACCESS.get(rule.endpoint), frozenset)
        and not rule.arguments
        and "GET" in (rule.methods or ())
    ]


def test_anonymous_visitors_of_staff_pages_are_sent_to_sign_in(app: Flask) -> None:
    routes = staff_routes(app)
    assert routes
    client = app.test_client()
    for _endpoint, path, _roles in routes:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("role", list(UserRole))
def test_each_role_gets_exactly_the_staff_pages_it_may(
    app: Flask, runtime: Runtime, role: UserRole
) -> None:
    client: FlaskClient = app.test_client()
    sign_in(client, add_user(runtime, role))
    for _endpoint, path, roles in staff_routes(app):
        assert client.get(path).status_code == (200 if role in roles else 403), (role, path)


def test_every_staff_post_without_its_csrf_token_is_refused(app: Flask, runtime: Runtime) -> None:
    client = app.test_client()
    sign_in(client, add_user(runtime, UserRole.ADMIN))
    staff_posts = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ())
        and not rule.arguments
        and rule.endpoint not in ("auth.login",)  # its own test posts without a token
    ]
    assert "/logout" in staff_posts
    for path in staff_posts:
        assert client.post(path, data={}).status_code == 400, path
    assert client.get("/").status_code == 200  # still signed in: nothing changed

"""Every route of the app, and who may use it: a table generated from the URL map, so that
a route added without a rule here fails, and every staff POST needs its CSRF token."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from commhub.delivery.outbox import OutboxBackend
from commhub.store.db import session_scope
from commhub.store.models import AuditEntry, Contact, Message, Partner, UserRole
from commhub.web import create_app
from commhub.wiring import Runtime
from tests.builders import World
from tests.web.staff import add_user, csrf_token, sign_in

# Who may use each endpoint: "public" (authorised by a signed token, a signature, or nothing:
# sign-in itself, the health check), or the roles that may (staff pages need sign-in).
EVERYONE_SIGNED_IN = frozenset(UserRole)
ADMINS = frozenset({UserRole.ADMIN})
EDITORS = frozenset({UserRole.ADMIN, UserRole.EDITOR})
ACCESS: dict[str, str | frozenset[UserRole]] = {
    "static": "public",
    "auth.login": "public",
    "auth.logout": "public",
    "health.healthz": "public",
    "home.index": EVERYONE_SIGNED_IN,
    "account.account": EVERYONE_SIGNED_IN,
    "account.zone": EVERYONE_SIGNED_IN,
    "audit.index": ADMINS,
    "admin.users": ADMINS,
    "admin.settings": ADMINS,
    "content.index": EVERYONE_SIGNED_IN,
    "content.item": EVERYONE_SIGNED_IN,
    "series_pages.index": EVERYONE_SIGNED_IN,
    "series_pages.detail": EVERYONE_SIGNED_IN,
    "calendar_page.index": EVERYONE_SIGNED_IN,
    "editions_pages.index": EVERYONE_SIGNED_IN,
    "editions_pages.detail": EVERYONE_SIGNED_IN,
    "outbox.index": EVERYONE_SIGNED_IN,
    "outbox.message": EVERYONE_SIGNED_IN,
    "directory.contacts": EVERYONE_SIGNED_IN,
    "directory.partners": EVERYONE_SIGNED_IN,
    "directory.partner": EVERYONE_SIGNED_IN,
    "directory.contact": EVERYONE_SIGNED_IN,
    "directory.partner_trend_chart": EVERYONE_SIGNED_IN,
    "analytics.index": EVERYONE_SIGNED_IN,
    "analytics.csv": EVERYONE_SIGNED_IN,
    "analytics.chart": EVERYONE_SIGNED_IN,
    "edition_actions.approve": EDITORS,
    "edition_actions.reject": EDITORS,
    "edition_actions.pause": EDITORS,
    "edition_actions.release": EDITORS,
    "edition_actions.cancel": EDITORS,
    "edition_actions.resend_unknown": EDITORS,
    "edition_actions.settle": EDITORS,
    "edition_actions.send_now": EDITORS,
    "admin.new_user": ADMINS,
    "admin.user": ADMINS,
    "admin.reset_password": ADMINS,
    "directory.import_contacts": EDITORS,
    "directory.confirm_import": EDITORS,
    "directory.export_contacts": EVERYONE_SIGNED_IN,
    "directory.erase": ADMINS,
    "series_pages.preview": EVERYONE_SIGNED_IN,
    "series_pages.send_test": EDITORS,
    "content_editing.new": EDITORS,
    "content_editing.edit": EDITORS,
    "series_editing.new": EDITORS,
    "series_editing.edit": EDITORS,
    "series_editing.dates": EDITORS,
    "feed_sources.index": EVERYONE_SIGNED_IN,
    "feed_sources.fetch": EDITORS,
    "feed_sources.remove": EDITORS,
    "content_editing.take_feed_version": EDITORS,
    "content_editing.set_status": EDITORS,
    "tracking.open_pixel": "public",
    "tracking.click": "public",
    "tracking.vote": "public",
    "social_links.post_link": "public",
    "subscription.unsubscribe_page": "public",
    "subscription.unsubscribe_now": "public",
    "subscription.preferences": "public",
    "web_version.show": "public",
    "calendar_feed.feed": "public",
    "public_feeds.index": "public",
    "public_feeds.audience_feed": "public",
    "personal_feeds.feed": "public",
    "personal_feeds.click": "public",
    "subscription.personal_feed": "public",
    "webhooks.sendgrid_events": "public",
}


# A path for each route that takes arguments, filled from the world below ({edition},
# {message}, {partner}); public routes get a token that is not one (they answer 4xx).
SAMPLE_PATHS: dict[str, str] = {
    "static": "/static/commhub.css",
    "content.item": "/content/launch",
    "series_pages.detail": "/series/news",
    "editions_pages.detail": "/editions/{edition}",
    "outbox.message": "/outbox/{edition}/{message}",
    "directory.partner": "/partners/{partner}",
    "directory.contact": "/contacts/{contact}",
    "directory.partner_trend_chart": "/partners/{partner}/trend.svg",
    "analytics.csv": "/analytics/items.csv",
    "analytics.chart": "/analytics/charts/reach.svg",
    "edition_actions.approve": "/editions/{edition}/approve",
    "edition_actions.reject": "/editions/{edition}/reject",
    "edition_actions.pause": "/editions/{edition}/pause",
    "edition_actions.release": "/editions/{edition}/release",
    "edition_actions.cancel": "/editions/{edition}/cancel",
    "edition_actions.resend_unknown": "/editions/{edition}/resend-unknown",
    "edition_actions.settle": "/editions/{edition}/posts/1/settle",
    "edition_actions.send_now": "/series/news/send-now",
    "admin.user": "/users/1",
    "admin.reset_password": "/users/1/reset-password",
    "series_pages.preview": "/series/news/preview",
    "series_pages.send_test": "/series/news/test",
    "content_editing.edit": "/content/launch/edit",
    "series_editing.edit": "/series/news/edit",
    "feed_sources.fetch": "/feed-sources/1/fetch",
    "feed_sources.remove": "/feed-sources/1/remove",
    "content_editing.take_feed_version": "/content/launch/feed-version",
    "content_editing.set_status": "/content/launch/status",
    "tracking.open_pixel": "/t/o/not-a-token.gif",
    "tracking.click": "/t/c/not-a-token/1",
    "tracking.vote": "/t/v/not-a-token/1/yes",
    "social_links.post_link": "/s/not-a-token",
    "subscription.unsubscribe_page": "/u/not-a-token",
    "subscription.unsubscribe_now": "/u/not-a-token",
    "subscription.preferences": "/p/not-a-token",
    "web_version.show": "/w/not-a-token",
    "calendar_feed.feed": "/calendar/not-a-token.ics",
    "public_feeds.audience_feed": "/feeds/sales.rss",
    "personal_feeds.feed": "/feeds/c/not-a-token.atom",
    "personal_feeds.click": "/feeds/c/not-a-token/1",
    "subscription.personal_feed": "/p/not-a-token/feed",
}


@pytest.fixture
def world_sent(world: World) -> dict[str, int]:
    """One item, series, partner, contact and an edition sent through the outbox."""
    world.item("launch", ["sales"], title="Launch")
    world.contact("ann@partner.example", ["sales"])
    world.series("news", audiences=["sales"])
    edition_id = world.prepare("news").edition.id
    world.send(edition_id, OutboxBackend(world.runtime.settings.data_dir / "outbox"))
    with world.session() as session:
        message = session.scalars(select(Message.id)).one()
        partner = session.scalars(select(Partner.id)).one()
        contact = session.scalars(select(Contact.id)).one()
    return {"edition": edition_id, "message": message, "partner": partner, "contact": contact}


@pytest.fixture
def app(runtime: Runtime) -> Flask:
    return create_app(runtime=runtime)


def test_every_route_has_a_rule(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = endpoints - set(ACCESS)
    assert not missing, f"routes without an access rule: {sorted(missing)}"


def every_route(app: Flask, ids: dict[str, int]) -> list[tuple[str, str, set[str]]]:
    """(endpoint, a path to try, its methods) of every route of the app."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.arguments:
            assert rule.endpoint in SAMPLE_PATHS, f"{rule.rule} needs a sample path here"
            path = SAMPLE_PATHS[rule.endpoint].format(**ids)
        else:
            path = rule.rule
        routes.append((rule.endpoint, path, set(rule.methods or ()) - {"HEAD", "OPTIONS"}))
    return routes


def expected(endpoint: str, methods: set[str], role: UserRole | None) -> set[int]:
    """What a GET of the route answers to a role (None: anonymous)."""
    access = ACCESS[endpoint]
    if access == "public":
        return {200, 302, 304, 400, 404, 405}  # never the sign-in redirect, never a 403
    assert isinstance(access, frozenset)
    if "GET" not in methods:
        return {405}  # routing refuses the method before sign-in is asked for
    if role is None:
        return {302}
    if role not in access:
        return {403}
    return {200}


@pytest.mark.parametrize("role", [None, *UserRole], ids=lambda r: r or "anonymous")
def test_every_route_answers_each_role_as_its_rule_says(
    app: Flask, runtime: Runtime, world_sent: dict[str, int], role: UserRole | None
) -> None:
    client: FlaskClient = app.test_client()
    if role is not None:
        sign_in(client, add_user(runtime, role))
    for endpoint, path, methods in every_route(app, world_sent):
        response = client.get(path)
        response.close()  # a static file's answer holds the file open until closed
        assert response.status_code in expected(endpoint, methods, role), (role, path)
        if role is None and response.status_code == 302:
            assert response.headers["Location"].startswith("/login?next=")
        if ACCESS[endpoint] == "public":
            assert not response.headers.get("Location", "").startswith("/login")


def test_every_staff_post_without_its_csrf_token_is_refused(
    app: Flask, runtime: Runtime, world_sent: dict[str, int]
) -> None:
    client = app.test_client()
    sign_in(client, add_user(runtime, UserRole.ADMIN))
    # Public POSTs behind message links and webhooks are authorised by their token or
    # signature instead; sign-in's own refusal without a token is tested in test_auth.
    by_token = {e for e, a in ACCESS.items() if a == "public" and not e.startswith("auth.")}
    staff_posts = [
        path
        for endpoint, path, methods in every_route(app, world_sent)
        if "POST" in methods and endpoint not in by_token | {"auth.login"}
    ]
    assert "/logout" in staff_posts
    for path in staff_posts:
        assert client.post(path, data={}).status_code == 400, path
    assert client.get("/").status_code == 200  # still signed in: nothing changed


@pytest.mark.parametrize(
    "path",
    [
        "/editions/2147483648",  # past an INTEGER key
        "/editions/١",  # an Arabic-Indic digit one
        "/partners/99999999999",
        "/outbox/1/9223372036854775808",  # past a BIGINT key
        "/editions/0",
    ],
)
def test_an_id_no_row_can_have_is_no_route(app: Flask, runtime: Runtime, path: str) -> None:
    client = app.test_client()
    sign_in(client, add_user(runtime, UserRole.ADMIN))
    assert client.get(path).status_code == 404


def test_a_viewer_posting_an_action_with_its_token_gets_403_and_nothing_changes(
    app: Flask, runtime: Runtime, world_sent: dict[str, int]
) -> None:
    client = app.test_client()
    sign_in(client, add_user(runtime, UserRole.VIEWER))
    token = csrf_token(client, "/account")
    posts = [
        (endpoint, path)
        for endpoint, path, methods in every_route(app, world_sent)
        if "POST" in methods and ACCESS[endpoint] == EDITORS
    ]
    assert len(posts) >= 6
    for _endpoint, path in posts:
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path
    with session_scope(runtime.sessions) as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action.not_in(["signed in", "changed a user", "sent"]))
            )
            == 0
        )

"""The web app: one factory, blueprints per area; public endpoints apart from staff pages."""

from __future__ import annotations

from flask import Flask

from commhub.config import Settings, load_settings
from commhub.web import (
    account,
    admin,
    analytics,
    audit,
    auth,
    calendar_feed,
    calendar_page,
    content,
    content_editing,
    converters,
    directory,
    edition_actions,
    editions_pages,
    errors,
    feed_sources,
    health,
    home,
    outbox,
    personal_feeds,
    public_feeds,
    series_editing,
    series_pages,
    social_links,
    subscription,
    times,
    tracking,
    web_version,
    webhooks,
)
from commhub.web.runtime import init_runtime
from commhub.wiring import Runtime, build_runtime


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    """Build the Flask app; reads the environment only if no settings are given."""
    if runtime is None:
        runtime = build_runtime(settings or load_settings())
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=runtime.settings.secret_key,
        SECRET_KEY_FALLBACKS=list(runtime.settings.secret_keys[1:]),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=runtime.settings.base_url.startswith("https://"),
        MAX_CONTENT_LENGTH=4 * 1024 * 1024,
    )
    init_runtime(app, runtime)
    converters.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    times.init_app(app)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(home.blueprint)
    app.register_blueprint(account.blueprint)
    app.register_blueprint(audit.blueprint)
    # The pages to read, a blueprint per area of the flow.
    for pages in (
        content, series_pages, calendar_page, editions_pages, outbox, directory, analytics, admin,
    ):  # fmt: skip
        app.register_blueprint(pages.blueprint)
    # What editors do: each a POST from a button.
    app.register_blueprint(edition_actions.blueprint)
    app.register_blueprint(content_editing.blueprint)
    app.register_blueprint(series_editing.blueprint)
    app.register_blueprint(feed_sources.blueprint)
    # Public, token-authorised endpoints behind the links in messages.
    app.register_blueprint(tracking.blueprint)
    app.register_blueprint(social_links.blueprint)
    app.register_blueprint(subscription.blueprint)
    app.register_blueprint(web_version.blueprint)
    app.register_blueprint(calendar_feed.blueprint)
    app.register_blueprint(public_feeds.blueprint)
    app.register_blueprint(personal_feeds.blueprint)
    for public in (
        health.blueprint, tracking.blueprint, subscription.blueprint,
        web_version.blueprint, calendar_feed.blueprint, public_feeds.blueprint,
        personal_feeds.blueprint,
        webhooks.blueprint,
    ):  # fmt: skip
        # Authorised by their signed tokens or signatures, not by a session: no CSRF token.
        auth.csrf.exempt(public)
    # Provider webhooks, authorised by their signatures (on when their key is set).
    webhooks.init_app(app)
    return app

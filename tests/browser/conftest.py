"""A live commhub for the browser tests: the demo's data, served on a free loopback port, and
Debian's Chromium driven by Playwright, one browser per process (per xdist worker).

The site is seeded once per run as `make run` seeds it (`commhub init`, `content import`,
`demo-data`, `series apply series.yml`, with demo.env's settings) in a temporary data dir, plus
three editions sent to the outbox, one staff user per role, a feed source, and a content item
and an audit entry holding markup (the escaping tests look for it as text). Each process
serves its own copy (under xdist the first worker seeds, the others copy), and signs each
role in once.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from commhub.cli import cli
from commhub.config import load_settings
from commhub.contacts import create_user
from commhub.resources import content_dir
from commhub.store import (
    AuditAction,
    Channel,
    ContentItem,
    Edition,
    EditionState,
    Message,
    MessageStatus,
    Partner,
    Series,
    User,
    UserRole,
    acting_as,
    record_action,
    session_scope,
)
from commhub.web import create_app
from commhub.wiring import Runtime, build_runtime
from tests.browser.pages import ROLES

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "var" / "screenshots"
PASSWORD = "correct horse battery staple"
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
TIME_ZONE = "Europe/London"
# Shown as text wherever it appears; a page that ran it would open a dialog.
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
HOSTILE_SLUG = "security/hostile-title"
HOSTILE_ITEM = """---
title: {hostile!r}
audiences: [technical]
kind: article
summary: {hostile!r}
url: https://partners.northwind.example/security/hostile
publish_at: "{published:%Y-%m-%dT%H:%M:%SZ}"
---

A title made of markup, to be shown as text.
"""


@dataclass(frozen=True)
class Site:
    """The running site, and the real slugs and ids its pages' paths need."""

    base_url: str
    data_dir: Path
    runtime: Runtime
    ids: Mapping[str, str]

    def url(self, path: str) -> str:
        return self.base_url + path

    def email(self, role: str) -> str:
        return f"{role}@staff.example"


def _demo_env(data_dir: Path) -> dict[str, str | None]:
    """The environment `make run` gives commhub: demo.env read by a shell, a data dir of
    our own, the outbox back end, and no other COMMHUB_* setting from the caller's."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("COMMHUB_", "SENDGRID_"))}
    shell = subprocess.run(
        ["bash", "-c", "set -a && . ./demo.env && env -0"],
        cwd=ROOT, env=clean, capture_output=True, check=True,
    )  # fmt: skip
    env: dict[str, str | None] = dict.fromkeys(os.environ.keys() - clean.keys())
    for entry in shell.stdout.split(b"\0"):
        key, _, value = entry.decode().partition("=")
        if key.startswith("COMMHUB_"):
            env[key] = value
    env.update(COMMHUB_DATA_DIR=str(data_dir), COMMHUB_DELIVERY="outbox")
    return env


def _commhub(env: Mapping[str, str | None], *args: str, exit_codes: tuple[int, ...] = (0,)) -> str:
    """Run a commhub command in this process, as `make run` would in a shell."""
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    if result.exit_code not in exit_codes:
        pytest.fail(f"commhub {' '.join(args)} exited {result.exit_code}:\n{result.output}")
    return result.output


def _seed(env: Mapping[str, str | None], data_dir: Path) -> None:
    library = data_dir / "library"
    shutil.copytree(content_dir(), library)
    # Published yesterday: at the top of a newest-first list, and in the editions sent.
    published = datetime.now(UTC) - timedelta(days=1)
    item = HOSTILE_ITEM.format(hostile=HOSTILE, published=published)
    (library / f"{HOSTILE_SLUG}.md").write_text(item, encoding="utf-8")
    _commhub(env, "init")
    _commhub(env, "content", "import", str(library))
    _commhub(env, "demo-data")
    _commhub(env, "series", "apply", str(ROOT / "series.yml"))
    # Followed, never fetched here (no scheduler fetches feeds in these tests): its page shows
    # it waiting for its first fetch.
    blog = "https://blog.northwind.example/feed.xml"
    rule = "keyword=pricing -> sales"
    _commhub(env, "feeds", "add", blog, "--audiences", "technical,development", "--rule", rule)
    runtime = build_runtime(load_settings({k: v for k, v in env.items() if v is not None}))
    try:
        with session_scope(runtime.sessions) as session:
            for role in ROLES:
                create_user(session, f"{role}@staff.example", UserRole(role), PASSWORD)
        with session_scope(runtime.sessions) as session, acting_as(HOSTILE):
            record_action(session, AuditAction.EDITED, "content", HOSTILE_SLUG, HOSTILE)
        # Editions out through the outbox: the newsletter twice, and the briefing, which is
        # held for approval (exit 3) and then approved by the admin, which sends it.
        _commhub(env, "editions", "send", "partner-newsletter", "--now")
        _commhub(env, "editions", "send", "partner-newsletter", "--now", "--again")
        _commhub(env, "editions", "send", "executive-briefing", "--now", exit_codes=(3,))
        with session_scope(runtime.sessions) as session:
            held = session.scalar(select(Edition.id).where(Edition.state == EditionState.HELD))
        assert held is not None, "the executive briefing was not held for approval"
        _commhub(env, "editions", "approve", str(held), "--by", "admin@staff.example")
        _commhub(env, "editions", "send", "video-digest", "--now")
        _commhub(env, "editions", "send", "partner-social", "--now")
    finally:
        runtime.close()


def _ids(runtime: Runtime) -> dict[str, str]:
    """Real slugs and ids to fill the pages' paths with."""
    with session_scope(runtime.sessions) as session:
        content_slug = session.scalar(
            select(ContentItem.slug).where(ContentItem.slug != HOSTILE_SLUG).order_by("slug")
        )
        edition_id, digest_id = (
            session.scalar(
                select(Edition.id)
                .join(Series, Series.id == Edition.series_id)
                .where(Edition.state == EditionState.SENT, Series.channel == channel)
                .order_by(Edition.id)
            )
            for channel in (Channel.NEWSLETTER, Channel.VIDEO_DIGEST)
        )
        social_id = session.scalar(
            select(Edition.id)
            .join(Series, Series.id == Edition.series_id)
            .where(Edition.state == EditionState.SENT, Series.channel == Channel.SOCIAL)
        )
        partner_id = session.scalar(select(Partner.id).order_by(Partner.id))
        # A contact the newsletter went to: their story has messages and events to show.
        contact_id = session.scalar(
            select(Message.contact_id).where(Message.edition_id == edition_id).order_by(Message.id)
        )
        user_id = session.scalar(select(User.id).order_by(User.id))
        message_id, digest_message_id = (
            session.scalar(
                select(Message.id)
                .where(Message.edition_id == sent_by, Message.status == MessageStatus.SENT)
                .order_by(Message.id)
            )
            for sent_by in (edition_id, digest_id)
        )
    assert content_slug, "the seeded site has no content"
    assert edition_id, "the seeded site sent no edition"
    assert partner_id, "the seeded site has no partners"
    assert message_id, "the seeded edition has no message sent"
    assert digest_message_id, "the seeded video digest has no message sent"
    assert social_id, "the seeded social series posted nothing"
    return {
        "content_slug": content_slug,
        "series_slug": "partner-newsletter",
        "edition_id": str(edition_id),
        "partner_id": str(partner_id),
        "message_id": str(message_id),
        "digest_id": str(digest_id),
        "digest_message_id": str(digest_message_id),
        "social_id": str(social_id),
        "contact_id": str(contact_id),
        "user_id": str(user_id),
        "hostile_slug": HOSTILE_SLUG,
    }


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here is a browser test: `pytest -m "not browser"` leaves them out."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """No line per request on the test's output."""


def _seeded_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir of this process's own, holding the seeded site. Under xdist the first
    worker seeds a template for this run (under a lock) and every worker copies it."""
    data_dir = tmp_path_factory.mktemp("site")
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        _seed(_demo_env(data_dir), data_dir)
        return data_dir
    shared = tmp_path_factory.getbasetemp().parent  # this run's, shared by its workers
    template = shared / "browser-site"
    with (shared / "browser-site.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "browser-site.ready").exists():
            shutil.rmtree(template, ignore_errors=True)
            template.mkdir()
            _seed(_demo_env(template), template)
            (shared / "browser-site.ready").touch()
    shutil.copytree(template, data_dir, dirs_exist_ok=True)
    return data_dir


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The demo site, seeded and served in a thread for this process's tests."""
    data_dir = _seeded_data_dir(tmp_path_factory)
    env = _demo_env(data_dir)
    runtime = build_runtime(load_settings({k: v for k, v in env.items() if v is not None}))
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, create_app(runtime=runtime), threaded=True, request_handler=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="live-site", daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.port}", data_dir, runtime, _ids(runtime))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        runtime.close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium (Playwright downloads no browser here)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium. Install it with "
            "`apt-get update && apt-get install -y chromium` (.ci/run does)."
        )
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
    yield browser
    browser.close()


def new_context(browser: Browser, site: Site, bypass_csp: bool = False) -> BrowserContext:
    """A fresh browser profile at desktop size, its time zone already told to the site
    (zone.js would otherwise reload the first page it sees)."""
    context = browser.new_context(
        base_url=site.base_url,
        viewport=DESKTOP,
        timezone_id=TIME_ZONE,
        bypass_csp=bypass_csp,
    )
    context.add_cookies([{"name": "commhub_tz", "value": TIME_ZONE, "url": site.base_url}])
    context.set_default_timeout(15_000)
    return context


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Fill /login's form and submit it, as a person would."""
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


@pytest.fixture(scope="session")
def role_pages(browser: Browser, site: Site) -> Iterator[dict[str, Page]]:
    """One signed-in browser profile (and tab) per role, made on first use and kept for the
    process: each role signs in through /login once."""
    pages: dict[str, Page] = {}
    yield pages
    for page in pages.values():
        with suppress(Exception):
            page.context.close()


@pytest.fixture
def signed_in(browser: Browser, site: Site, role_pages: dict[str, Page]) -> Callable[[str], Page]:
    """signed_in(role) -> the tab of that role's signed-in profile, at desktop size."""

    def open_page(role: str) -> Page:
        page = role_pages.get(role)
        if page is None or page.is_closed():
            page = new_context(browser, site).new_page()
            sign_in(page, site.email(role))
            assert page.url == site.url("/"), f"{role} did not sign in: {page.url}"
            role_pages[role] = page
        page.set_viewport_size(DESKTOP)
        return page

    return open_page


@pytest.fixture
def fresh_context(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    """A browser profile of its own, signed in as nobody, closed after the test."""
    context = new_context(browser, site)
    yield context
    context.close()

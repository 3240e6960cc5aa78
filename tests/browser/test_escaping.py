"""Markup in the data is shown as text, never run: a content item titled
`<script>alert(1)</script><img src=x onerror=alert(2)>`, and an audit entry by and about
such a name, seen in a real browser that would open a dialog if any of it ran.

The staff pages' Content-Security-Policy forbids inline script, which would hide a missing
escape from this test; its browser profile ignores the policy, so that only the templates'
escaping stands between the markup and a dialog.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, expect

from tests.browser.conftest import HOSTILE, Site, new_context, sign_in

# (test id, path, what shows the markup there)
PAGES = (
    ("content", "/content", "the item's title"),
    ("content-item", "/content/{hostile_slug}", "the item's title and summary"),
    ("audit", "/audit", "the entry's actor and summary"),
)


@pytest.fixture(scope="module")
def admin_without_csp(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    """The admin, signed in, in a profile that ignores the Content-Security-Policy."""
    context = new_context(browser, site, bypass_csp=True)
    page = context.new_page()
    sign_in(page, site.email("admin"))
    assert page.url == site.url("/"), f"admin did not sign in: {page.url}"
    page.close()
    yield context
    context.close()


def _dialogs_of(page: Page) -> list[str]:
    """Every dialog the page opens from now on (dismissed): what running markup would do."""
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", record)
    return dialogs


@pytest.mark.parametrize(("path", "where"), [p[1:] for p in PAGES], ids=[p[0] for p in PAGES])
def test_markup_in_the_data_is_shown_as_text(
    path: str, where: str, admin_without_csp: BrowserContext, site: Site
) -> None:
    page = admin_without_csp.new_page()
    dialogs = _dialogs_of(page)
    try:
        url_path = path.format_map(site.ids)
        response = page.goto(url_path, wait_until="load")
        assert response is not None
        assert response.status == 200, f"GET {url_path} answered {response.status}"
        main = page.locator("main")
        assert HOSTILE in main.inner_text(), f"{url_path}: {where} is not shown as text"
        assert main.locator("script").count() == 0, f"{url_path}: a <script> from the data"
        assert page.locator("img[src='x']").count() == 0, f"{url_path}: an <img> from the data"
        assert page.locator("[onerror]").count() == 0, f"{url_path}: an onerror from the data"
        assert not dialogs, f"{url_path}: the data's script ran: {dialogs}"
    finally:
        page.close()


TYPED_SLUG = "security/typed-hostile-title"


def test_markup_typed_into_the_content_form_is_text_on_every_page(
    admin_without_csp: BrowserContext, site: Site
) -> None:
    """The title typed by a person, not imported: saved, then shown on the item's pages, the
    library, and inside the series preview's email, never run."""
    page = admin_without_csp.new_page()
    dialogs = _dialogs_of(page)
    try:
        page.goto("/content/new")
        page.fill("#title", HOSTILE)
        page.fill("#slug", TYPED_SLUG)
        page.check("input[name=audiences][value=technical]")
        page.fill("#new_key_message", HOSTILE)
        page.fill("#summary", HOSTILE)
        page.fill("#priority", "1000")  # first in the email, whatever else is new
        page.select_option("#status", "published")
        with page.expect_navigation():
            page.get_by_role("button", name="Create item").click()
        assert page.url == site.url(f"/content/{TYPED_SLUG}"), page.url
        for path in (f"/content/{TYPED_SLUG}", f"/content/{TYPED_SLUG}/edit", "/content"):
            page.goto(path)
            main = page.locator("main")
            shown = main.inner_text() + " ".join(
                main.locator("input, textarea").evaluate_all("(es) => es.map((e) => e.value)")
            )
            assert HOSTILE in shown, f"{path}: the title is not shown as typed"
            assert page.locator("img[src='x'], [onerror]").count() == 0, path
        page.goto(f"/series/{site.ids['series_slug']}/preview?role=technical")
        email = page.frame_locator("iframe.message.desktop")
        expect(email.get_by_text(HOSTILE).first).to_be_attached()
        assert email.locator("img[src='x'], [onerror], script").count() == 0
        assert not dialogs, f"the typed markup ran: {dialogs}"
    finally:
        page.close()

"""The public pages about feeds in a real browser, as a partner contact meets them: /feeds
with every audience's feeds, and the preference centre's "Your own feed", where the button
makes the feed and the page then shows its address with a Copy button. axe-core finds
nothing serious at laptop and phone widths; screenshots land in var/screenshots/public/."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Page, expect

from commhub.render import message_tokens
from tests.browser.conftest import DESKTOP, PHONE, Site
from tests.browser.test_pages import SIDEWAYS, describe, screenshot, serious_violations


def _checked(page: Page, name: str) -> None:
    for size, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page.set_viewport_size(size)
        violations = serious_violations(page)
        assert not violations, f"{name} at {label}:\n{describe(violations)}"
        assert page.evaluate(SIDEWAYS) == [], f"{name} is too wide for a phone"
        screenshot(page, "public", f"{name}-{label}")
    page.set_viewport_size(DESKTOP)


def test_the_feeds_page_lists_every_audience(fresh_context: BrowserContext, site: Site) -> None:
    page = fresh_context.new_page()
    answer = page.goto("/feeds")
    assert answer is not None
    assert answer.status == 200
    for audience in ("technical", "sales", "executive"):
        expect(page.locator(f"a[href='/feeds/{audience}.atom']")).to_have_count(1)
    assert page.locator("link[rel=alternate][type='application/atom+xml']").count() >= 6
    _checked(page, "feeds")


def test_a_contact_makes_and_copies_their_own_feed(
    fresh_context: BrowserContext, site: Site
) -> None:
    token = message_tokens(site.runtime.settings.secret_keys).sign(int(site.ids["message_id"]))
    page = fresh_context.new_page()
    page.goto(f"/p/{token}")
    section = page.locator("#feed")
    expect(section.get_by_role("heading", name="Your own feed")).to_be_visible()
    with page.expect_navigation():
        section.get_by_role("button", name="Make my feed").click()
    base = site.runtime.settings.base_url.rstrip("/")
    field = page.get_by_label("Your feed's address")
    expect(field).to_have_value(re.compile(re.escape(f"{base}/feeds/c/") + r".+\.atom$"))
    fresh_context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.base_url)
    page.get_by_role("button", name="Copy").click()
    expect(section.get_by_role("status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == field.input_value()
    # The feed it names answers, on this site.
    answer = page.request.get(site.url(field.input_value().removeprefix(base)))
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("application/atom+xml")
    _checked(page, "preferences-own-feed")

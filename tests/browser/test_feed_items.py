"""A feed's draft in a real browser: found through the library's filter, published with the
button on its page; later the feed changes it upstream, and the page shows the newer version
waiting until an editor takes it. Screenshots of each step in var/screenshots/feeds/."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from playwright.sync_api import Page, expect
from sqlalchemy import select

from commhub.feeds import FeedEntry, ParsedFeed, import_entries
from commhub.store import ContentItem, ContentStatus, FeedSource, session_scope
from tests.browser.conftest import Site
from tests.browser.test_pages import describe, screenshot, serious_violations

LINK = "https://blog.northwind.example/posts/partner-pricing-2027"


def _arrives(site: Site, title: str) -> str:
    """The seeded source's feed brings one entry (as a fetch would); the item's slug."""
    entry = FeedEntry(
        key=LINK, title=title, link=LINK, summary="What changes in partner pricing next year.",
        body_html="<p>Margins for <strong>gold</strong> partners go up.</p>",
        published=datetime(2026, 12, 1, 9, tzinfo=UTC), updated=None, author="Northwind blog",
        tags=("pricing",), video_url=None, thumbnail_url=None, duration_seconds=None,
        is_video=False,
    )  # fmt: skip
    with session_scope(site.runtime.sessions) as session:
        source = session.scalar(select(FeedSource).order_by(FeedSource.id))
        assert source is not None, "the seeded site follows no feed"
        now = datetime.now(UTC)
        import_entries(session, source, ParsedFeed("Northwind blog", None, (entry,), "rss20"), now)
        slug = session.scalar(select(ContentItem.slug).where(ContentItem.url == LINK))
    assert slug is not None
    return slug


def _clean(page: Page) -> None:
    violations = serious_violations(page)
    assert not violations, describe(violations)


def test_an_editor_publishes_a_feeds_draft_and_takes_its_newer_version(
    site: Site, signed_in: Callable[[str], Page]
) -> None:
    slug = _arrives(site, "Partner pricing for 2027")
    page = signed_in("editor")
    page.goto("/content?source=feed&status=draft")
    link = page.get_by_role("link", name="Partner pricing for 2027")
    expect(link).to_be_visible()
    screenshot(page, "feeds", "library-drafts-from-feeds")
    with page.expect_navigation():
        link.click()
    expect(page.get_by_text("From the feed source")).to_be_visible()
    _clean(page)
    screenshot(page, "feeds", "draft-from-a-feed")
    with page.expect_navigation():
        page.get_by_role("button", name="Publish").click()
    expect(page.locator("p.flash")).to_contain_text("is published")
    with session_scope(site.runtime.sessions) as session:
        item = session.scalar(select(ContentItem).where(ContentItem.slug == slug))
        assert item is not None
        assert item.status is ContentStatus.PUBLISHED
        # The audiences: the source's, and sales by its keyword rule (pricing).
        assert [a.slug for a in item.audiences] == ["development", "sales", "technical"]

    _arrives(site, "Partner pricing for 2027, corrected")
    page.reload()
    expect(page.get_by_text("The feed has a newer version of this item")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Partner pricing for 2027")
    _clean(page)
    screenshot(page, "feeds", "newer-version-waiting")
    with page.expect_navigation():
        page.get_by_role("button", name="Take the feed's version").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Partner pricing for 2027, corrected")
    screenshot(page, "feeds", "newer-version-taken")

"""After the send, the contact's side and then the team's, in a real browser: a partner
contact opens the newsletter, follows a link, votes an item relevant, changes their
preferences and unsubscribes; then a viewer on the team finds each of these on the
contact's timeline, and the vote on the analytics page. Screenshots of the contact's story,
their partner and the analytics land in var/screenshots/contact-journey/; axe-core finds no
serious or critical violation on them."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from commhub.render import message_tokens
from commhub.store import (
    Contact,
    Edition,
    EditionState,
    Message,
    MessageStatus,
    Series,
    session_scope,
)
from tests.browser.conftest import PHONE, Site
from tests.browser.test_pages import describe, serious_violations

SHOTS = Path("var/screenshots/contact-journey")
# The publishing journey writes for these roles; this contact has none of them, so its
# unsubscribing here changes nothing that journey counts.
OTHER_JOURNEY = {"technical", "executive"}


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _accessible(page: Page) -> None:
    found = serious_violations(page)
    assert not found, describe(found)


def _a_sent_message(site: Site) -> tuple[int, int, int]:
    """A message of the demo newsletter, sent to an active contact outside the other
    journey's roles and no other test's: (message id, contact id, partner id)."""
    with session_scope(site.runtime.sessions) as session:
        rows = session.execute(
            select(Message.id, Contact)
            .join(Contact, Contact.id == Message.contact_id)
            .join(Edition, Edition.id == Message.edition_id)
            .join(Series, Series.id == Edition.series_id)
            .where(
                Series.slug == "partner-newsletter",
                Edition.state == EditionState.SENT,
                Message.status == MessageStatus.SENT,
            )
            # From the end: the other tests of this shared site use the first messages and
            # their contacts (site.ids), who must stay subscribed.
            .order_by(Message.id.desc())
        )
        taken = {site.ids["message_id"], site.ids["contact_id"]}
        for message_id, contact in rows:
            if str(message_id) in taken or str(contact.id) in taken:
                continue
            roles = {role.slug for role in contact.roles}
            if roles and not roles & OTHER_JOURNEY and contact.consent_at is not None:
                return message_id, contact.id, contact.partner_id
    raise AssertionError("the seeded newsletter went to no contact outside the journey's roles")


def _as_the_contact(browser: Browser, site: Site, token: str) -> None:
    """Open, click, vote, change preferences, unsubscribe: on a phone, as a partner would."""
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(site.url(f"/t/o/{token}.gif"))  # the mail client loads the pixel
        page.goto(site.url(f"/w/{token}"))
        # The email's links name the configured base URL (demo.env's, where `make run`
        # serves); this site listens on a free port, so each path is opened here.
        base = site.runtime.settings.base_url.rstrip("/")

        def here(selector: str) -> str:
            link = page.locator(selector).first
            expect(link).to_be_visible()
            href = link.get_attribute("href") or ""
            assert href.startswith(base), href
            return site.url(href.removeprefix(base))

        # A click leaves commhub for the item's own page; only the redirect is ours.
        answer = page.request.get(here("a[href*='/t/c/']"), max_redirects=0)
        assert answer.status == 302
        page.goto(here("a[href*='/t/v/'][href$='/yes']"))
        page.get_by_role("button", name="Yes, relevant").click()
        expect(page.get_by_text("Thank you")).to_be_visible()
        page.goto(site.url(f"/p/{token}"))
        page.get_by_label("The video digest").uncheck()
        page.get_by_role("button", name="Save my choices").click()
        expect(page.get_by_role("status")).to_be_visible()
        page.goto(site.url(f"/u/{token}"))
        page.get_by_role("button", name="Unsubscribe from all emails").click()
        expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
        _shot(page, "01-unsubscribed")
    finally:
        context.close()


def test_what_a_contact_does_shows_on_their_timeline_and_in_the_analytics(
    browser: Browser, site: Site, signed_in: Callable[[str], Page]
) -> None:
    message_id, contact_id, partner_id = _a_sent_message(site)
    token = message_tokens(site.runtime.settings.secret_keys).sign(message_id)
    _as_the_contact(browser, site, token)

    viewer = signed_in("viewer")
    viewer.goto(f"/contacts/{contact_id}")
    expect(viewer.locator("dd .badge", has_text="unsubscribed")).to_be_visible()
    timeline = viewer.locator("main table").last
    for what in ("Unsubscribe", "Preferences", "Vote: yes", "Click", "Message"):
        expect(timeline.get_by_text(what, exact=False).first).to_be_visible()
    expect(timeline.get_by_text("Open", exact=False).first).to_be_visible()  # human or machine
    _shot(viewer, "02-contact-story")
    _accessible(viewer)

    viewer.goto(f"/partners/{partner_id}")
    expect(viewer.get_by_role("link", name=contact_link_name(viewer, contact_id))).to_be_visible()
    _shot(viewer, "03-partner")
    _accessible(viewer)

    viewer.goto("/analytics")
    relevance = viewer.locator("section", has=viewer.get_by_role("heading", name="Relevance"))
    expect(relevance.get_by_role("img").first).to_have_attribute("alt", re.compile("of 1 vote"))
    expect(relevance.locator("td", has_text="of 1 vote").first).to_be_visible()
    _shot(viewer, "04-analytics")
    _accessible(viewer)


def contact_link_name(page: Page, contact_id: int) -> str:
    """The name the partner page's link to the contact's story shows."""
    name = page.locator(f"a[href='/contacts/{contact_id}']").first.inner_text()
    assert name.strip(), "the partner page has no link to the contact's story"
    return name.strip()

"""The publishing day in a real browser, as the marketing manager lives it: an editor writes
an item for two audiences, plans a series for it, finds it on the calendar, previews it for
every role set at laptop and phone widths, sends herself a test, sends the edition now,
approves it, watches a real scheduler send it to the outbox, opens a message as its contact
sees it, and pauses and releases the next edition from the calendar. A screenshot of each
step lands in var/screenshots/journey/. The audit log then shows every step with its actor,
and the same actions taken with the CLI.

The same steps as a viewer are refused (403), and without a CSRF token as an editor (400),
with nothing changed in the database or the outbox.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from itertools import combinations

import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from commhub.cli import cli
from commhub.scheduling import EditionRunner, Scheduler
from commhub.store import (
    AuditEntry,
    ContentItem,
    Edition,
    EditionState,
    Message,
    Series,
    User,
    session_scope,
)
from commhub.wiring import build_delivery_backend, build_renderer
from tests.browser.conftest import (
    PHONE,
    Site,
    _demo_env,
    new_context,
    sign_in,
)
from tests.browser.test_pages import describe, screenshot, serious_violations

TITLE = "Zero trust, from the first partner login"
ITEM_SLUG = "journey/zero-trust-onboarding"
KEY_MESSAGE = "Zero trust starts at partner onboarding"
AUDIENCES = ("technical", "executive")
SERIES_NAME = "Zero Trust Briefing"
SERIES_SLUG = "zero-trust"
EDITOR = "editor@staff.example"


def _shot(page: Page, step: str) -> None:
    screenshot(page, "journey", step)


def _accessible(page: Page) -> None:
    violations = serious_violations(page)
    assert not violations, f"axe-core on {page.url}:\n{describe(violations)}"


def _said(page: Page) -> str:
    """The flash message the last action left on the page."""
    return page.locator("p.flash").first.inner_text()


def _submit(page: Page, button: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()


@pytest.fixture
def scheduler(site: Site) -> Iterator[Scheduler]:
    """A real scheduler on the site's database, as `make run` starts beside the web UI,
    sweeping every second so that the journey does not wait a minute per step."""
    settings = site.runtime.settings
    runner = EditionRunner(
        site.runtime.sessions,
        lambda: build_delivery_backend(settings),
        settings,
        build_renderer(),
        site.runtime.clock,
        workers=2,
    )
    running = Scheduler(runner, site.runtime.sessions, site.runtime.clock, sweep_seconds=1)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def editor(browser: Browser, site: Site) -> Iterator[Page]:
    """The editor, signed in through /login in a profile of her own."""
    context = new_context(browser, site)
    page = context.new_page()
    sign_in(page, EDITOR)
    assert page.url == site.url("/"), f"the editor did not sign in: {page.url}"
    yield page
    context.close()


def _write_the_item(page: Page) -> None:
    page.goto("/content/new")
    _accessible(page)
    page.fill("#title", TITLE)
    page.fill("#slug", ITEM_SLUG)
    page.select_option("#kind", "article")
    for audience in AUDIENCES:
        page.check(f"input[name=audiences][value={audience}]")
    page.fill("#new_key_message", KEY_MESSAGE)
    page.fill("#summary", "Partners who check identity at the first login save a week of audits.")
    page.fill(
        "#body",
        "## What changes\n\nEvery partner login is **verified**, from the first one.\n\n"
        "- single sign-on\n- device checks\n",
    )
    page.fill("#url", "https://partners.northwind.example/zero-trust")
    page.fill("#priority", "100")  # first in its edition
    page.select_option("#status", "published")
    _shot(page, "01-item-form")
    _submit(page, "Create item")
    assert f"“{TITLE}” ({ITEM_SLUG})" in _said(page)
    assert page.get_by_role("heading", level=1).inner_text() == TITLE
    _shot(page, "02-item-created")


def _plan_the_series(page: Page) -> None:
    page.goto("/series/new")
    page.fill("#name", SERIES_NAME)
    page.fill("#slug", SERIES_SLUG)
    page.select_option("#channel", "newsletter")
    page.uncheck("#all_audiences")
    for audience in AUDIENCES:
        page.check(f"input[name=audiences][value={audience}]")
    page.select_option("#timezone", "Europe/London")
    page.fill("#cadence", "monthly on the first tuesday at 09:00")
    # The next dates follow the cadence while it is typed (series-dates.js asks the server).
    expect(page.locator("#series-dates li")).to_have_count(5)
    expect(page.locator("#series-dates li").first).to_contain_text(", 09:00")
    page.fill("#max_items", "4")
    page.check("#requires_approval")
    page.fill("#subject", "{{ series.name }}, {{ edition.date_label }}")
    page.fill("#from_address", "Partner Team <partners@northwind.example>")
    _accessible(page)
    _shot(page, "03-series-form")
    _submit(page, "Create the series")
    assert f"Series {SERIES_SLUG} created" in _said(page)
    _shot(page, "04-series-created")


def _find_it_on_the_calendar(page: Page) -> None:
    """The month view, a month at a time, until the series' first edition shows."""
    page.goto("/calendar")
    for _ in range(3):
        if page.locator("table.month").get_by_text(SERIES_NAME).count():
            break
        with page.expect_navigation():
            page.locator("a[rel=next]").click()
    entry = page.locator("table.month").get_by_text(SERIES_NAME)
    expect(entry.first).to_be_visible()
    _accessible(page)
    _shot(page, "05-calendar")


def _preview_every_role_set(page: Page) -> None:
    role_sets = [sorted(chosen) for size in (1, 2) for chosen in combinations(AUDIENCES, size)]
    for roles in role_sets:
        page.goto(f"/series/{SERIES_SLUG}/preview")
        for audience in AUDIENCES:
            page.get_by_role("checkbox", name=audience, exact=True).set_checked(audience in roles)
        _submit(page, "Show")
        key = ",".join(roles)
        shown = page.locator("main p.muted strong").first.inner_text()
        assert shown == key, f"asked for {key}, shown {shown}"
        assert SERIES_NAME in page.locator("dl.facts dd").first.inner_text()
        widths = {}
        for kind in ("desktop", "phone"):
            frame = page.locator(f"iframe.message.{kind}")
            box_size = frame.bounding_box()
            assert box_size is not None, f"the {kind} preview is not shown"
            widths[kind] = box_size["width"]
            email = page.frame_locator(f"iframe.message.{kind}")
            expect(email.get_by_role("link", name=TITLE)).to_be_visible()
        assert widths["phone"] < widths["desktop"], widths
        page.get_by_text("The plain-text part").click()
        expect(page.locator("pre.message-text")).to_contain_text(TITLE)
        _accessible(page)
        _shot(page, f"06-preview-{'-'.join(roles)}")
    page.set_viewport_size(PHONE)
    _shot(page, "07-preview-on-a-phone")
    page.set_viewport_size({"width": 1280, "height": 800})


def _send_a_test(page: Page, site: Site) -> None:
    outbox = site.data_dir / "outbox"
    before = set(outbox.rglob("*.eml")) if outbox.exists() else set()
    page.fill("#to", EDITOR)
    _submit(page, "Send a test")
    assert f"sent to {EDITOR} via outbox" in _said(page)
    written = set(outbox.rglob("*.eml")) - before
    assert len(written) == 1, f"the test wrote {len(written)} files to the outbox"
    [test_file] = written
    message = test_file.read_text(encoding="utf-8", errors="replace")
    assert "[Test]" in message
    assert f"To: {EDITOR}" in message
    _shot(page, "08-test-sent")


def _send_now_and_approve(page: Page, site: Site) -> int:
    page.goto(f"/series/{SERIES_SLUG}")
    _submit(page, "Send the next edition now")
    said = _said(page)
    found = re.search(r"Edition (\d+) of " + SERIES_SLUG + " is due now", said)
    assert found, said
    edition_id = int(found.group(1))
    assert page.url == site.url(f"/editions/{edition_id}")
    _shot(page, "09-handed-to-the-scheduler")
    # The page follows the edition by itself (live.js) while the scheduler prepares it; the
    # series wants approval, so it stops there.
    expect(page.locator("#edition-state")).to_contain_text("awaiting approval", timeout=30_000)
    _shot(page, "10-awaiting-approval")

    # The dashboard names it, with a button; the preview shows it with Approve and Reject.
    page.goto("/")
    alert = page.locator("li", has_text=f"edition {edition_id} needs approval").filter(
        has=page.get_by_role("button", name="Approve it")
    )
    expect(alert.first).to_be_visible()
    _shot(page, "11-dashboard-alert")
    page.goto(f"/series/{SERIES_SLUG}/preview")
    expect(page.get_by_role("button", name="Reject")).to_be_visible()
    _shot(page, "12-preview-awaiting-approval")
    _submit(page, f"Approve edition {edition_id}")
    assert f"Edition {edition_id} approved" in _said(page)

    page.goto(f"/editions/{edition_id}")
    expect(page.locator("#edition-state")).to_contain_text("sent", timeout=60_000)
    expect(page.locator("#edition-state")).not_to_contain_text("sending")
    _accessible(page)
    _shot(page, "13-sent")
    with session_scope(site.runtime.sessions) as session:
        edition = session.get(Edition, edition_id)
        assert edition is not None
        assert edition.state is EditionState.SENT
        approver = session.get(User, edition.approved_by_id or 0)
        assert approver is not None
        assert approver.email == EDITOR
    return edition_id


def _open_a_message_as_its_contact(
    page: Page, browser: Browser, site: Site, edition_id: int
) -> None:
    page.goto(f"/outbox?edition={edition_id}")
    _shot(page, "14-outbox")
    with page.expect_navigation():
        page.locator("main table a[href^='/outbox/']").first.click()
    frame = page.frame_locator("iframe.message")
    expect(frame.get_by_role("link", name=TITLE)).to_be_visible()
    _shot(page, "15-outbox-message")
    web_version = frame.get_by_role("link", name="View in your browser").get_attribute("href")
    assert web_version, "the message has no web version link"
    # The link names the configured base URL (demo.env's, where `make run` serves); this
    # site listens on a free port instead, so the same path is opened there.
    base_url = site.runtime.settings.base_url.rstrip("/")
    assert web_version.startswith(f"{base_url}/w/"), web_version
    web_version = site.url(web_version.removeprefix(base_url))
    contact = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        inbox = contact.new_page()
        answer = inbox.goto(web_version)
        assert answer is not None
        assert answer.status == 200
        expect(inbox.get_by_role("link", name=TITLE)).to_be_visible()
        _shot(inbox, "16-as-the-contact-sees-it")
    finally:
        contact.close()


def _next_planned(site: Site) -> tuple[int, datetime]:
    with session_scope(site.runtime.sessions) as session:
        row = session.execute(
            select(Edition.id, Edition.planned_at)
            .join(Series)
            .where(Series.slug == SERIES_SLUG, Edition.state == EditionState.PLANNED)
            .order_by(Edition.planned_at)
            .limit(1)
        ).one()
    return row.id, row.planned_at


def _edition_state(site: Site, edition_id: int) -> EditionState:
    with session_scope(site.runtime.sessions) as session:
        edition = session.get(Edition, edition_id)
        assert edition is not None
        return edition.state


def _pause_and_release_from_the_calendar(page: Page, site: Site) -> int:
    edition_id, planned_at = _next_planned(site)
    page.goto(f"/calendar?month={planned_at:%Y-%m}&view=list")
    row = page.locator("tr", has=page.locator(f"a[href='/editions/{edition_id}']"))
    _accessible(page)
    _shot(page, "17-calendar-list")
    with page.expect_navigation():
        row.get_by_role("button", name="Pause it").click()
    assert f"Edition {edition_id} paused" in _said(page)
    assert page.url.startswith(site.url("/calendar?")), "the button did not come back"
    assert _edition_state(site, edition_id) is EditionState.PAUSED
    _shot(page, "18-paused")
    with page.expect_navigation():
        row.get_by_role("button", name="Go on (release it)").click()
    assert f"Edition {edition_id} released" in _said(page)
    assert _edition_state(site, edition_id) is EditionState.PLANNED
    _shot(page, "19-released")
    return edition_id


def _cli(site: Site, *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env=_demo_env(site.data_dir))
    assert result.exit_code == 0, f"commhub {' '.join(args)}:\n{result.output}"
    return result.output


def _audit_rows(page: Page, actor: str) -> list[str]:
    page.goto(f"/audit?actor={actor}")
    return page.locator("main table tbody tr").all_inner_texts()


def test_an_editor_publishes_from_the_browser_and_the_audit_log_tells_it(
    editor: Page,
    browser: Browser,
    site: Site,
    scheduler: Scheduler,
    signed_in: Callable[[str], Page],
) -> None:
    _write_the_item(editor)
    _plan_the_series(editor)
    _find_it_on_the_calendar(editor)
    _preview_every_role_set(editor)
    _send_a_test(editor, site)
    edition_id = _send_now_and_approve(editor, site)
    _open_a_message_as_its_contact(editor, browser, site, edition_id)
    planned_id = _pause_and_release_from_the_calendar(editor, site)

    # The same actions with the CLI, by the operator's account.
    _cli(site, "editions", "pause", str(planned_id))
    _cli(site, "editions", "release", str(planned_id))

    admin = signed_in("admin")
    said = "\n".join(_audit_rows(admin, EDITOR))
    _shot(admin, "20-audit-log")
    expected = {
        "the item created": f"created\tcontent {ITEM_SLUG}",
        "the series created": f"created\tseries {SERIES_SLUG}",
        "the test sent": f"sent\tseries {SERIES_SLUG}",
        "send now": "handed to the scheduler",
        "the approval": f"approved\tedition {edition_id}",
        "the pause": f"paused\tedition {planned_id}",
        "the release": f"released\tedition {planned_id}",
    }
    missing = [what for what, text in expected.items() if text not in said]
    assert not missing, f"not in the audit log as {EDITOR}: {missing}\n{said}"
    by_cli = [row for row in _audit_rows(admin, "") if "\tcli:" in row]
    cli_said = "\n".join(by_cli)
    for action in ("paused", "released"):
        assert f"{action}\tedition {planned_id}" in cli_said, f"the CLI's {action}:\n{cli_said}"
    # And the scheduler, which did the sending, is named as itself.
    assert f"edition {edition_id}: sent" in "\n".join(_audit_rows(admin, "system"))


# Each step of the journey that changes something: (path, form), with {..} from refused_ids.
CHANGES = (
    ("/content/new", {"title": "Sneaked in", "slug": "sneaked", "kind": "article",
                      "audiences": "technical", "new_key_message": "x", "status": "published",
                      "action": "save"}),
    ("/content/{content_slug}/edit", {"title": "Sneaked in", "action": "save"}),
    ("/series/new", {"name": "Sneaked", "slug": "sneaked", "channel": "newsletter",
                     "cadence": "weekly on monday at 09:00", "timezone": "UTC",
                     "action": "save"}),
    ("/series/{series_slug}/edit", {"name": "Sneaked", "action": "save"}),
    ("/series/{series_slug}/test", {"to": "someone@elsewhere.example"}),
    ("/series/{series_slug}/send-now", {"again": "yes"}),
    ("/editions/{planned_id}/approve", {}),
    ("/editions/{planned_id}/reject", {"comment": "no"}),
    ("/editions/{planned_id}/pause", {}),
    ("/editions/{planned_id}/release", {}),
    ("/editions/{planned_id}/cancel", {}),
    ("/editions/{edition_id}/resend-unknown", {}),
)  # fmt: skip


def _fingerprint(site: Site) -> dict[str, object]:
    """What any of the refused steps would have changed."""
    with session_scope(site.runtime.sessions) as session:
        states = session.execute(select(Edition.state, func.count()).group_by(Edition.state)).all()
        found: dict[str, object] = {
            "items": session.scalar(select(func.count(ContentItem.id))),
            "titles": session.scalar(select(func.max(ContentItem.title))),
            "series": session.scalar(select(func.count(Series.id))),
            "names": tuple(session.scalars(select(Series.name).order_by(Series.id))),
            "editions": sorted((state.value, count) for state, count in states),
            "due": tuple(session.scalars(select(Edition.due_at).order_by(Edition.id))),
            "messages": session.scalar(select(func.count(Message.id))),
            "audit": session.scalar(select(func.count(AuditEntry.id))),
        }
    outbox = site.data_dir / "outbox"
    found["outbox"] = sorted(str(p) for p in outbox.rglob("*")) if outbox.exists() else []
    return found


def _refused_ids(site: Site) -> dict[str, str]:
    with session_scope(site.runtime.sessions) as session:
        planned = session.scalar(
            select(Edition.id)
            .join(Series)
            .where(Series.slug == site.ids["series_slug"], Edition.state == EditionState.PLANNED)
            .order_by(Edition.planned_at)
        )
    assert planned is not None
    return {**site.ids, "planned_id": str(planned)}


def _csrf_token(page: Page) -> str:
    page.goto("/account")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token
    return token


def _post_each(page: Page, site: Site, token: str | None) -> dict[str, int]:
    ids = _refused_ids(site)
    answers = {}
    for path, form in CHANGES:
        url_path = path.format_map(ids)
        data = {**form, **({"csrf_token": token} if token else {})}
        answer = page.request.post(site.url(url_path), form=data, max_redirects=0)
        answers[url_path] = answer.status
    return answers


def test_a_viewer_is_refused_at_every_step_that_changes_something(
    site: Site, signed_in: Callable[[str], Page]
) -> None:
    page = signed_in("viewer")
    for path in ("/content/new", f"/content/{site.ids['content_slug']}/edit", "/series/new"):
        answer = page.goto(path)
        assert answer is not None
        assert answer.status == 403, f"viewer: GET {path} answered {answer.status}"
    # The pages a viewer may read offer no button that changes anything.
    page.goto(f"/series/{site.ids['series_slug']}/preview")
    assert page.get_by_role("button", name="Send a test").count() == 0
    page.goto("/calendar?view=list")
    assert page.locator("form[method=post] button", has_text="Pause it").count() == 0
    _shot(page, "viewer-calendar-list")

    token = _csrf_token(page)
    before = _fingerprint(site)
    answers = _post_each(page, site, token)
    assert answers == dict.fromkeys(answers, 403), answers
    assert _fingerprint(site) == before, "a refused step changed something"


def test_an_editor_without_a_csrf_token_is_refused_at_every_post(
    site: Site, signed_in: Callable[[str], Page]
) -> None:
    page = signed_in("editor")
    before = _fingerprint(site)
    answers = _post_each(page, site, token=None)
    assert answers == dict.fromkeys(answers, 400), answers
    # And with a token from another session (a forged form): refused the same way.
    forged = _post_each(page, site, token="ImZvcmdlZCI.forged.signature")
    assert forged == dict.fromkeys(forged, 400), forged
    assert _fingerprint(site) == before, "a refused step changed something"

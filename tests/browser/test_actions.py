"""Acting on an edition in a real browser: an editor pauses a planned edition and releases
it with the buttons on its page, each saying what happened; a viewer sees no button."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page
from sqlalchemy import select

from commhub.store import Edition, EditionState, Series, session_scope
from tests.browser.conftest import Site
from tests.browser.test_pages import describe, screenshot, serious_violations


def _planned_edition(site: Site) -> int:
    with session_scope(site.runtime.sessions) as session:
        found = session.scalar(
            select(Edition.id)
            .join(Series)
            .where(Series.slug == "partner-newsletter", Edition.state == EditionState.PLANNED)
            .order_by(Edition.planned_at.desc())
        )
    assert found is not None, "the seeded site has no planned edition"
    return found


def _state(site: Site, edition_id: int) -> EditionState:
    with session_scope(site.runtime.sessions) as session:
        edition = session.get(Edition, edition_id)
        assert edition is not None
        return edition.state


def test_an_editor_pauses_and_releases_a_planned_edition(
    site: Site, signed_in: Callable[[str], Page]
) -> None:
    edition_id = _planned_edition(site)
    page = signed_in("editor")
    page.goto(f"/editions/{edition_id}")
    violations = serious_violations(page)
    assert not violations, describe(violations)
    with page.expect_navigation():
        page.get_by_role("button", name="Pause it").click()
    assert page.get_by_role("status").filter(has_text="paused").count() == 1
    assert _state(site, edition_id) is EditionState.PAUSED
    screenshot(page, "actions", "edition-paused")
    with page.expect_navigation():
        page.get_by_role("button", name="Go on (release it)").click()
    assert "released: it goes out on its date" in page.get_by_role("status").first.inner_text()
    assert _state(site, edition_id) is EditionState.PLANNED
    violations = serious_violations(page)
    assert not violations, describe(violations)


def test_a_viewer_sees_what_could_be_done_but_no_button(
    site: Site, signed_in: Callable[[str], Page]
) -> None:
    edition_id = _planned_edition(site)
    page = signed_in("viewer")
    page.goto(f"/editions/{edition_id}")
    assert page.get_by_text("pause it").count() == 1
    assert page.get_by_role("button", name="Pause it").count() == 0

"""Every staff page, as each role sees it in a real browser: it answers (or refuses with
403), is built right (one h1, a title, the sections' nav), axe-core finds nothing serious on
it, and a screenshot of it lands in var/screenshots/ to look at. Then signing in and out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import BrowserContext, Page

from tests.browser.conftest import DESKTOP, PASSWORD, PHONE, SCREENSHOTS, Site, sign_in
from tests.browser.pages import ROLES, STAFF_PAGES, StaffPage

SERIOUS = ("serious", "critical")
# The outermost elements that stick out past the right edge of the screen, outside anything
# that scrolls (or clips) sideways by itself: what makes a phone's page scroll sideways.
SIDEWAYS = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  const contained = (e) => {
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      if (["auto", "scroll", "hidden"].includes(getComputedStyle(p).overflowX)) return true;
    }
    return false;
  };
  const wide = [...document.body.querySelectorAll("*")].filter(
    (e) => e.getBoundingClientRect().right > width + 1 && !contained(e));
  const outermost = wide.filter((e) => !wide.includes(e.parentElement));
  return outermost.slice(0, 5).map((e) => {
    const name = e.tagName.toLowerCase() + (e.className ? "." + e.className : "");
    return `<${name}> ${Math.round(e.getBoundingClientRect().right)}px: `
      + (e.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 60);
  });
}"""
_axe = Axe()


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now, of impact serious or critical."""
    found: list[dict[str, Any]] = _axe.run(page).response["violations"]
    return [v for v in found if v.get("impact") in SERIOUS]


def describe(violations: list[dict[str, Any]]) -> str:
    """The violations as a person reads them: rule, impact, what to do, where."""
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}\n"
            f"  {violation['helpUrl']}"
        )
        for node in violation["nodes"][:5]:
            lines.append(f"    at {', '.join(map(str, node['target']))}: {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", "\n      ")
            if summary:
                lines.append(f"      {summary}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    ... and {len(violation['nodes']) - 5} more elements")
    return "\n".join(lines)


def screenshot(page: Page, *parts: str) -> None:
    path = SCREENSHOTS.joinpath(*parts).with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


@pytest.mark.parametrize("spec", STAFF_PAGES, ids=lambda spec: spec.name)
@pytest.mark.parametrize("role", ROLES)
def test_staff_page(
    role: str, spec: StaffPage, site: Site, signed_in: Callable[[str], Page]
) -> None:
    page = signed_in(role)
    path = spec.url_path(site.ids)
    response = page.goto(path)
    assert response is not None
    allowed = role in spec.roles
    # The pictures first, to look at whatever the checks below find.
    screenshot(page, role, spec.name)
    if role == "viewer":
        page.set_viewport_size(PHONE)
        screenshot(page, "phone", spec.name)
        page.set_viewport_size(DESKTOP)

    expected = 200 if allowed else 403
    assert response.status == expected, f"{role}: GET {path} answered {response.status}"
    assert page.url == site.url(path), f"{role}: GET {path} ended at {page.url}"
    h1s = page.locator("h1")
    assert h1s.count() == 1, f"{path}: {h1s.count()} <h1> elements: {h1s.all_inner_texts()}"
    assert page.title().strip(), f"{path}: empty <title>"
    if allowed:
        # The sections' bar; the 403 page is the plain error page (see error.html).
        assert page.get_by_role("navigation").count() >= 1, f"{path}: no nav landmark"
    else:
        assert "403" in h1s.inner_text(), f"{role}: {path} is not the 403 page"
    violations = serious_violations(page)
    assert not violations, f"{role}: axe-core on {path}:\n{describe(violations)}"
    if role == "viewer":
        # And on a phone: nothing wider than the screen but inside something that scrolls
        # (a div.table-wrap), and that reachable by keyboard.
        page.set_viewport_size(PHONE)
        problems = [f"too wide for the screen: {found}" for found in page.evaluate(SIDEWAYS)]
        if violations := serious_violations(page):
            problems.append(f"axe-core:\n{describe(violations)}")
        assert not problems, f"{path} at 390x844:\n" + "\n".join(problems)


def test_a_wrong_password_stays_on_login_with_the_message(
    fresh_context: BrowserContext, site: Site
) -> None:
    page = fresh_context.new_page()
    sign_in(page, site.email("viewer"), PASSWORD + " but wrong")
    assert page.url == site.url("/login")
    alert = page.get_by_role("alert")
    assert "do not match" in alert.inner_text()
    assert page.locator("#password").input_value() == ""


def test_signing_out_returns_to_login_and_staff_pages_need_sign_in_again(
    fresh_context: BrowserContext, site: Site
) -> None:
    page = fresh_context.new_page()
    sign_in(page, site.email("editor"))
    assert page.url == site.url("/")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    assert page.url == site.url("/login")
    for path in ("/", "/account"):
        page.goto(path)
        assert page.url.startswith(site.url("/login?next=")), f"{path} ended at {page.url}"
        assert page.get_by_role("heading", level=1).inner_text() == "Sign in"

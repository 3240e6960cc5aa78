"""/calendar: every edition of every series, a month at a time, as a grid or a list."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from commhub.scheduling.planning import plan_editions
from commhub.store.models import ContactStatus, Edition, EditionState, Series, UserRole
from commhub.web import create_app
from tests.builders import NOW, World
from tests.web.staff import add_user, sign_in


@pytest.fixture
def client(world: World) -> FlaskClient:
    """A viewer signed in, on an app whose clock says NOW (23 Nov 2026, 09:00 UTC)."""
    runtime = dataclasses.replace(world.runtime, clock=world.clock)
    client = create_app(runtime=runtime).test_client()
    assert sign_in(client, add_user(world.runtime, UserRole.VIEWER)) == 302
    return client


@pytest.fixture
def planned(world: World) -> World:
    """Partner News (sales, monthly on the 1st at 09:00 London) planned a year ahead, two
    sales contacts who may be sent to, one who may not, and a sent and a cancelled edition."""
    world.series("news", audiences=["sales"], name="Partner News")
    world.contact("ana@partner.example", ["sales"])
    world.contact("ben@partner.example", ["sales", "technical"])
    world.contact("gone@partner.example", ["sales"], status=ContactStatus.UNSUBSCRIBED)
    with world.session() as session:
        plan_editions(session, NOW)
        series_id = session.scalar(select(Series.id).where(Series.slug == "news"))
        session.add_all(
            [
                Edition(series_id=series_id, planned_at=datetime(2026, 11, 2, 9, tzinfo=UTC),
                        state=EditionState.SENT, prepared_at=datetime(2026, 11, 2, 9, tzinfo=UTC),
                        recipient_count=1234),
                Edition(series_id=series_id, planned_at=datetime(2026, 11, 16, 9, tzinfo=UTC),
                        state=EditionState.CANCELLED, state_reason="called off"),
            ]
        )  # fmt: skip
    return world


def _page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _edition_id(world: World, planned_at: datetime) -> int:
    with world.session() as session:
        found = session.scalar(select(Edition.id).where(Edition.planned_at == planned_at))
    assert found is not None
    return found


def test_no_series_says_how_to_add_them(client: FlaskClient) -> None:
    page = _page(client, "/calendar")
    assert "No series yet" in page
    assert "<code>commhub series apply series.yml</code>" in page
    assert "<title>Calendar · commhub</title>" in page
    assert page.count("<h1") == 1
    assert "No series yet" in _page(client, "/calendar?view=list")


def test_the_month_grid_shows_this_month_monday_first(planned: World, client: FlaskClient) -> None:
    page = _page(client, "/calendar")
    assert "November 2026" in page
    assert '<table class="month">' in page
    header = page[page.index("<thead>") : page.index("</thead>")]
    assert header.index("Monday") < header.index("Sunday")
    # Six weeks: 26 Oct to 6 Dec; the days of other months are marked.
    assert page.count("<tr>") == 1 + 6  # the header and six weeks
    assert page.count('class="other"') == 6 + 6  # 26-31 Oct, 1-6 Dec
    sent_id = _edition_id(planned, datetime(2026, 11, 2, 9, tzinfo=UTC))
    cancelled_id = _edition_id(planned, datetime(2026, 11, 16, 9, tzinfo=UTC))
    assert f'<a href="/editions/{sent_id}">' in page
    assert f'<a href="/editions/{cancelled_id}">' in page
    assert '<span class="badge good">sent</span>' in page
    assert '<span class="badge bad">cancelled</span>' in page
    # 1 Dec is in the last week of the grid: the planned edition shows there too.
    december_id = _edition_id(planned, datetime(2026, 12, 1, 9, tzinfo=UTC))
    assert f'<a href="/editions/{december_id}">' in page
    assert '<span class="badge ">planned</span>' in page
    assert 'aria-current="date"' in page  # today, the 23rd


def test_another_month_by_link_and_times_in_the_viewers_zone(
    planned: World, client: FlaskClient
) -> None:
    client.set_cookie("commhub_tz", "America/New_York")
    page = _page(client, "/calendar?month=2027-01")
    assert "January 2027" in page
    assert 'href="?month=2026-12"' in page
    assert 'href="?month=2027-02"' in page
    january_id = _edition_id(planned, datetime(2027, 1, 1, 9, tzinfo=UTC))
    time = '<time datetime="2027-01-01T04:00:00-05:00">04:00</time>'
    assert f'<a href="/editions/{january_id}">{time} Partner News</a>' in page
    assert "Times are in America/New_York" in page


@pytest.mark.parametrize("month", ["junk", "2026-13", "26-01", "2026-1x", "0000-01", ""])
def test_a_bad_month_is_this_month(planned: World, client: FlaskClient, month: str) -> None:
    assert "November 2026" in _page(client, f"/calendar?month={month}")


def test_the_list_shows_both_zones_and_the_recipients(planned: World, client: FlaskClient) -> None:
    client.set_cookie("commhub_tz", "Asia/Tokyo")
    page = _page(client, "/calendar?view=list&month=2027-06")
    assert "Editions in June 2027" in page
    assert "1 Jun 2027, 09:00 BST" in page  # the series' zone
    assert "1 Jun 2027, 17:00 JST" in page  # the viewer's
    assert "Europe/London" in page
    row = page[page.index("<tbody>") :]
    assert '<td class="num">2</td>' in row  # ana and ben, not the unsubscribed contact
    assert 'href="?month=2027-07&amp;view=list"' in page


def test_the_list_shows_sent_and_cancelled_editions(planned: World, client: FlaskClient) -> None:
    page = _page(client, "/calendar?view=list&month=2026-11")
    assert "1,234" in page  # the sent edition's own count
    assert "called off" in page
    assert page.index("2 Nov 2026") < page.index("16 Nov 2026")


def test_a_month_with_nothing_in_it_says_so(planned: World, client: FlaskClient) -> None:
    page = _page(client, "/calendar?view=list&month=2030-01")
    assert "No editions in January 2030" in page
    assert "No editions in January 2030" in _page(client, "/calendar?month=2030-01")


def test_the_list_is_paged(world: World, client: FlaskClient) -> None:
    for number in range(26):
        world.series(f"series-{number:02}", name=f"Series {number:02}")
    with world.session() as session:
        plan_editions(session, NOW)
    # 26 series on the 1st of December and 26 on the 1st of January: 26 in December.
    page = _page(client, "/calendar?view=list&month=2026-12")
    assert "Showing 1–26 of 26 editions" in page
    for number in range(25):
        world.series(f"more-{number:02}", name=f"More {number:02}")
    with world.session() as session:
        plan_editions(session, NOW)
    first = _page(client, "/calendar?view=list&month=2026-12")
    assert "Showing 1–50 of 51 editions" in first
    second = _page(client, "/calendar?view=list&month=2026-12&page=2")
    assert "Showing 51–51 of 51 editions" in second
    assert second.count('<span class="badge ">planned</span>') == 1


def test_series_names_are_shown_as_text(world: World, client: FlaskClient) -> None:
    world.series("news", name="<script>alert(1)</script>")
    with world.session() as session:
        plan_editions(session, NOW)
    for path in ("/calendar?month=2026-12", "/calendar?month=2026-12&view=list"):
        page = _page(client, path)
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

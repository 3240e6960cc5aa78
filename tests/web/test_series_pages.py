"""/series and /series/<slug>: every series, its file, its next dates and its editions."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from commhub.scheduling.planning import plan_editions
from commhub.store.models import Edition, EditionState, Series, UserRole
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


def _page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _set(world: World, slug: str, **values: object) -> None:
    with world.session() as session:
        session.execute(update(Series).where(Series.slug == slug).values(**values))


def test_no_series_says_how_to_add_them(client: FlaskClient) -> None:
    page = _page(client, "/series")
    assert "No series yet" in page
    assert "<code>commhub series apply series.yml</code>" in page
    assert "<title>Series · commhub</title>" in page
    assert page.count("<h1") == 1


def test_the_list_shows_each_series_with_its_cadence_in_words_and_next_date(
    world: World, client: FlaskClient
) -> None:
    world.series("news", audiences=["sales", "technical"], name="Partner News")
    world.series("digest", name="Weekly Digest", timezone="America/New_York",
                 requires_approval=True)  # fmt: skip
    _set(world, "digest", cadence="every 2 weeks on friday at 16:00", start_date=NOW.date())
    client.set_cookie("commhub_tz", "Asia/Tokyo")
    page = _page(client, "/series")
    assert '<a href="/series/news">Partner News</a>' in page
    assert "sales, technical" in page
    assert "monthly on the 1st at 09:00" in page
    assert "every other Friday at 16:00" in page
    assert "America/New_York" in page
    # Not planned yet: the next date comes from the cadence, in the series' zone and the viewer's.
    assert "1 Dec 2026, 09:00 GMT" in page
    assert "1 Dec 2026, 18:00 JST" in page
    assert "27 Nov 2026, 16:00 EST" in page
    assert "28 Nov 2026, 06:00 JST" in page
    assert "Times are in Asia/Tokyo" in page
    # Listed by name: the digest (needs approval) after the news (does not).
    news, digest = page.index("Partner News"), page.index("Weekly Digest")
    assert news < digest
    assert page[news:digest].count("<td>no</td>") == 1
    assert page[digest:].count("<td>yes</td>") == 1


def test_the_next_date_is_the_next_planned_edition_still_to_come(
    world: World, client: FlaskClient
) -> None:
    world.series("news", audiences=None)
    with world.session() as session:
        plan_editions(session, NOW)
        session.execute(
            update(Edition)
            .where(Edition.planned_at == datetime(2026, 12, 1, 9, tzinfo=UTC))
            .values(state=EditionState.CANCELLED)
        )
    page = _page(client, "/series")
    assert "<td>all</td>" in page
    assert "1 Dec 2026" not in page
    assert "1 Jan 2027, 09:00 GMT" in page


def test_the_list_is_paged(world: World, client: FlaskClient) -> None:
    for number in range(53):
        world.series(f"series-{number:02}", name=f"Series {number:02}")
    first = _page(client, "/series")
    assert "Series 49" in first
    assert "Series 50" not in first
    assert "Showing 1–50 of 53 series" in first
    second = _page(client, "/series?page=2")
    assert "Series 50" in second
    assert "Series 52" in second
    assert "Series 49" not in second


def test_the_detail_shows_every_field_of_the_file(world: World, client: FlaskClient) -> None:
    world.series(
        "news", audiences=["sales"], name="Partner News", requires_approval=True,
        partner_filter={"tiers": ["gold", "platinum"]}, reply_to="help@vendor.example",
        max_items=6, template="newsletter", rule_of_seven=True, local_time=True,
        grace_minutes=90, holiday_country="GB-ENG", company_days=["2026-12-24"],
    )  # fmt: skip
    _set(world, "news", cadence="monthly on the first tuesday at 09:00", shift="next",
         start_date=datetime(2026, 12, 1).date())  # fmt: skip
    page = _page(client, "/series/news")
    assert "<title>Partner News · commhub</title>" in page
    assert page.count("<h1") == 1
    for shown in [
        "newsletter", "sales", "tiers: gold, platinum", "monthly on the first tuesday at 09:00",
        "monthly on the first Tuesday at 09:00", "1 Dec 2026", "to the next business day",
        "GB-ENG", "2026-12-24", "Europe/London", "each contact at that time in their own zone",
        "1 hour 30 minutes", "each edition waits for approval", "help@vendor.example",
        "Partner Team &lt;team@vendor.example&gt;", "less-seen key messages first",
        "{{ series.name }} for {{ contact.first_name }}",
    ]:  # fmt: skip
        assert shown in page, shown
    assert "<dt>Max items</dt><dd>6</dd>" in page


def test_the_detail_lists_the_next_five_dates_and_recent_editions(
    world: World, client: FlaskClient
) -> None:
    world.series("news", audiences=["sales"])
    with world.session() as session:
        plan_editions(session, NOW)
        series_id = session.scalar(select(Series.id).where(Series.slug == "news"))
        sent = Edition(
            series_id=series_id, planned_at=datetime(2026, 11, 1, 9, tzinfo=UTC),
            state=EditionState.SENT, prepared_at=datetime(2026, 11, 1, 9, tzinfo=UTC),
            recipient_count=1234,
        )  # fmt: skip
        session.add(sent)
        session.flush()
        sent_id = sent.id
    page = _page(client, "/series/news")
    for month in ("1 Dec 2026", "1 Jan 2027", "1 Feb 2027", "1 Mar 2027"):
        assert f"{month}, 09:00 GMT" in page
    assert "1 Apr 2027, 09:00 BST" in page
    assert "1 May 2027" not in page
    assert f'<a href="/editions/{sent_id}">#{sent_id}</a>' in page
    assert "1,234" in page
    assert '<span class="badge good">sent</span>' in page


def test_the_detail_falls_back_to_the_cadence_and_says_when_nothing_was_sent(
    world: World, client: FlaskClient
) -> None:
    world.series("news", audiences=None)
    page = _page(client, "/series/news")
    assert "1 Dec 2026, 09:00 GMT" in page
    assert "1 Apr 2027, 09:00 BST" in page
    assert "No editions yet" in page


def test_an_unknown_series_is_404(client: FlaskClient) -> None:
    assert client.get("/series/nope").status_code == 404


def test_names_and_subjects_are_shown_as_text(world: World, client: FlaskClient) -> None:
    world.series("news", name="<script>alert(1)</script>", subject="<b>Hi</b>")
    for path in ("/series", "/series/news"):
        page = _page(client, path)
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;Hi&lt;/b&gt;" in page

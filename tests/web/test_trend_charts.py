"""The trends in the browser: the rule of seven week by week on /analytics (chart, words,
table, download), and a partner month by month on /partners/<id> (chart, words, table, or
what to do while there is nothing yet). Each chart an SVG with no script and nothing from
elsewhere."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from commhub.contacts.partner_months import record_engaged
from commhub.delivery.outbox import OutboxBackend
from commhub.reports import (
    REACH_TREND_COLUMNS,
    KeyMessageTrend,
    PartnerMonth,
    PartnerTrend,
    ReachTrend,
    reach_over_time,
)
from commhub.store import Contact, Event, KeyMessage, Partner, UserRole
from commhub.tracking import record_exposures
from commhub.web import charts, create_app
from tests.builders import World
from tests.web.staff import add_user, sign_in

SVG = "{http://www.w3.org/2000/svg}"
SCRIPT = "<script>alert(1)</script>"
DEALS = "Deal registration"
ASKED = datetime(2027, 2, 16, 14, 0, tzinfo=UTC)  # a Tuesday: the last week end is 15 Feb
WEEK_0 = datetime(2026, 11, 30, tzinfo=UTC)


def week(n: int, days: float = 0.5) -> datetime:
    """A time in the week that ends at week end n."""
    return WEEK_0 + timedelta(weeks=n - 1, days=days)


def staff_client(world: World) -> FlaskClient:
    app = create_app(runtime=dataclasses.replace(world.runtime, clock=world.clock))
    client = app.test_client()
    assert sign_in(client, add_user(world.runtime, UserRole.VIEWER)) == 302
    return client


def ids(world: World, model: type[Contact] | type[Partner], column: str) -> dict[str, int]:
    with world.session() as session:
        return dict(session.execute(select(getattr(model, column), model.id)).all())


def expose(world: World, email: str, fmt: str, *times: datetime, source: int) -> None:
    contact = ids(world, Contact, "email")[email]
    with world.session() as session:
        key = session.scalar(select(KeyMessage.id).where(KeyMessage.text == DEALS))
        assert key is not None
        for n, when in enumerate(times):
            kind = {"email": "message", "rss": "feed_item"}.get(fmt, "post")
            record_exposures(session, contact, [key], fmt, kind, source * 100 + n, when)


@pytest.fixture
def history(world: World, tmp_path: Path) -> World:
    """Deal registration sent to ana and ben (Acme) and cleo (Globex) on 23 Nov 2026; ana at
    seven across three in week 3 (five emails, two videos, then a post); ana opened an
    email in November; now is 16 Feb 2027."""
    world.series(audiences=["sales"])
    world.item("deal-reg", ["sales"], key_message=DEALS)
    world.contact("ana@acme.example", ["sales"])
    world.contact("ben@acme.example", ["sales"])
    world.contact("cleo@globex.example", ["sales"], partner="Globex")
    world.send(world.prepare().edition.id, OutboxBackend(tmp_path / "outbox"))
    expose(world, "ana@acme.example", "email", *(week(0, d) for d in (0, 1, 2, 3, 4)), source=1)
    expose(world, "ana@acme.example", "video", week(1, 1), week(1, 2), source=2)
    expose(world, "ana@acme.example", "social", week(3, 2), source=3)
    with world.session() as session:
        ana, opened = (
            ids(world, Contact, "email")["ana@acme.example"],
            datetime(2026, 11, 24, tzinfo=UTC),
        )
        session.add(Event(kind="open", contact_id=ana, format="email", occurred_at=opened, data={}))
        record_engaged(session, [(ana, opened)])  # as tracking records a person's open
    world.clock.current = ASKED
    return world


def svg(client: FlaskClient, path: str) -> tuple[ET.Element, str]:
    """The chart at path, parsed (it must be well-formed SVG), and its text."""
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.get_data(as_text=True)
    root = ET.fromstring(body)  # noqa: S314 - our own answer, parsed to prove it well-formed
    assert root.tag == f"{SVG}svg"
    return root, body


def self_contained(root: ET.Element, body: str) -> tuple[str, str]:
    """Checks the chart runs nothing and fetches nothing; its title and description."""
    assert "<script" not in body.lower()
    assert root.find(f".//{SVG}script") is None
    assert "href" not in body
    assert "<!--" not in body
    # The one address in it is the SVG namespace: no script, font or stylesheet to fetch.
    assert re.findall(r"(?:https?:)?//[\w.-]+[^\s\"'<>)]*", body) == ["http://www.w3.org/2000/svg"]
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None
    assert desc is not None
    assert title.text
    assert (desc.text or "").endswith(".")
    return title.text, desc.text or ""


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()).strip() for t in root.iter(f"{SVG}text")]


def figure(html: str, src: str) -> tuple[str, str]:
    """The chart whose image is at src on the page: its alt, and the words under it."""
    found = re.search(
        rf'<figure class="chart">\s*<img src="{re.escape(src)}" alt="([^"]*)">'
        r"\s*<figcaption>(.*?)</figcaption>",
        html,
        re.S,
    )
    assert found is not None, src
    words = " ".join(unescape(re.sub(r"<[^>]+>", " ", found.group(2))).split())
    return unescape(found.group(1)), words


def table_rows(html: str, caption: str) -> list[list[str]]:
    """The rows (header row first) of the table with this caption, as their cells' text."""
    start = html.index(f"<caption>{caption}")
    table = html[start : html.index("</table>", start)]
    return [
        [" ".join(unescape(re.sub(r"<[^>]+>", " ", cell)).split()) for cell in cells]
        for cells in (
            re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
        )
    ]


# -- /analytics: the rule of seven, week by week ---------------------------------------------


def test_the_reach_trend_chart_is_self_contained_svg_with_a_line_per_key_message(
    history: World,
) -> None:
    root, body = svg(staff_client(history), "/analytics/charts/reach-trend.svg")
    title, desc = self_contained(root, body)
    assert title == "Seven across three, week by week"
    assert desc.startswith("Lines of the share of contacts at seven exposures across three")
    printed = texts(root)
    # Each line named at its end with its last value, and each week end on the axis.
    assert f"{DEALS} 33%" in printed
    assert {"30 Nov", "21 Dec", "15 Feb"} <= set(printed)


def test_the_reach_trend_chart_of_nothing_sent_is_still_an_image(world: World) -> None:
    root, body = svg(staff_client(world), "/analytics/charts/reach-trend.svg")
    self_contained(root, body)
    assert "Nothing to show yet" in texts(root)


def dash_patterns(body: str) -> dict[int, str]:
    """Each line's dash pattern (pygal's stylesheet for each series), by line number."""
    found = re.findall(r"\.series\.serie-(\d+)\{stroke-dasharray:([\d,]+)\}", body)
    return {int(n): dashes for n, dashes in found}


def test_key_messages_in_the_reach_trend_chart_stay_words_in_lines_of_their_own(
    world: World, tmp_path: Path
) -> None:
    world.series(audiences=["sales"])
    world.item("dull", ["sales"], key_message=SCRIPT)
    world.item("useful", ["sales"], key_message="Deals pay")
    world.contact("ana@acme.example", ["sales"])
    world.send(world.prepare().edition.id, OutboxBackend(tmp_path / "outbox"))
    world.clock.current = ASKED
    root, body = svg(staff_client(world), "/analytics/charts/reach-trend.svg")
    self_contained(root, body)
    assert {f"{SCRIPT} 0%", "Deals pay 0%"} <= set(texts(root))
    assert "&lt;script&gt;" in body
    # Told apart without colour: the first line solid, the second dashed.
    assert dash_patterns(body) == {1: "8,4"}


def test_the_analytics_page_shows_the_trend_with_its_words_table_and_download(
    history: World,
) -> None:
    html = staff_client(history).get("/analytics").get_data(as_text=True)
    reach = html[html.index('<section aria-labelledby="reach">') :]
    reach = reach[: reach.index("</section>")]
    alt, summary = figure(reach, "/analytics/charts/reach-trend.svg")
    assert alt.endswith(f"from 30 Nov to 15 Feb: {DEALS} is highest, at 33%.")
    assert summary == (
        f"{DEALS}: 33% at seven across three by 15 Feb (1 of 3 contacts), up from 0% by 30 Nov."
    )
    assert 'href="/analytics/reach-trend.csv"' in reach
    # After the rule of seven's own table, as its history.
    assert reach.index("/analytics/exposures.csv") < reach.index("charts/reach-trend.svg")
    rows = table_rows(reach, "Share at 7 exposures across 3 formats")
    assert len(rows[0]) == 13
    assert rows[0][:4] == ["Key message", "30 Nov", "7 Dec", "14 Dec"]
    assert rows[1] == [DEALS, "0%", "0%", "0%", *["33%"] * 9]


def test_the_reach_trend_download_holds_the_rows_of_the_report(history: World) -> None:
    response = staff_client(history).get("/analytics/reach-trend.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="commhub-reach-trend-2027-02-16.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == REACH_TREND_COLUMNS
    with history.session() as session:
        expected = reach_over_time(session, now=ASKED).rows()
    assert rows == [{k: "" if v is None else str(v) for k, v in row.items()} for row in expected]
    assert [(r["week_end"], r["seven_across_three"], r["share"]) for r in rows[2:4]] == [
        ("2026-12-14", "0", "0.0"), ("2026-12-21", "1", "0.3333"),
    ]  # fmt: skip


def test_the_words_of_the_trend_say_where_each_key_message_stands() -> None:
    ends = tuple(WEEK_0 + timedelta(weeks=n) for n in range(12))
    deals = KeyMessageTrend(DEALS, (0, 0, *[80] * 10), (0, 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 3))
    steady = KeyMessageTrend("Steady.", (10,) * 12, (5,) * 12)
    late = KeyMessageTrend("Late", (0,) * 11 + (4,), (0,) * 11 + (1,))
    never = KeyMessageTrend("Never sent", (0,) * 12, (0,) * 12)
    words = charts.reach_trend_words(ReachTrend(ends, [deals, steady, late, never]))
    assert words.summary == [
        f"{DEALS}: 4% at seven across three by 15 Feb (3 of 80 contacts), up from 0% by "
        "14 Dec, its first week sent.",
        "Steady: 50% at seven across three by 15 Feb (5 of 10 contacts), the same as 50% by "
        "30 Nov.",
        "Late: 25% at seven across three by 15 Feb (1 of 4 contacts), its first week sent.",
    ]
    assert "one per key message (3)" in words.alt
    assert words.alt.endswith("Steady is highest, at 50%.")
    nothing = charts.reach_trend_words(ReachTrend(ends, [never]))
    assert (nothing.alt, nothing.summary) == ("No key message has been sent yet.", [])
    assert [charts.share_label(s) for s in (None, 0.0, 0.004, 0.04, 1.0)] == [
        "—", "0%", "0.4%", "4%", "100%",
    ]  # fmt: skip


# -- /partners/<id>: a partner month by month ------------------------------------------------


def test_the_partner_trend_chart_is_self_contained_svg(history: World) -> None:
    acme = ids(history, Partner, "name")["Acme Partners"]
    root, body = svg(staff_client(history), f"/partners/{acme}/trend.svg")
    title, desc = self_contained(root, body)
    assert title == "Acme Partners, month by month"
    assert "one per format (email, video, social and RSS)" in desc
    printed = texts(root)
    # The month now is in: nobody reached; the lines named with those last values.
    assert {"email 0", "video 0", "social 0", "RSS 0", "opened or clicked 0"} <= set(printed)
    assert {"Sep 2026", "Nov 2026", "Feb 2027"} <= set(printed)
    # Five lines told apart without colour: the first solid, each other one dashed its way.
    patterns = dash_patterns(body)
    assert sorted(patterns) == [1, 2, 3, 4]
    assert len(set(patterns.values())) == 4


def test_a_partner_name_in_the_chart_stays_words(world: World) -> None:
    world.contact("eve@evil.example", ["sales"], partner=SCRIPT)
    evil = ids(world, Partner, "name")[SCRIPT]
    root, body = svg(staff_client(world), f"/partners/{evil}/trend.svg")
    title, _ = self_contained(root, body)
    assert title == f"{SCRIPT}, month by month"
    assert "Nothing to show yet" in texts(root)


def test_the_partner_page_shows_the_months_under_the_heat_map(history: World) -> None:
    acme = ids(history, Partner, "name")["Acme Partners"]
    html = staff_client(history).get(f"/partners/{acme}").get_data(as_text=True)
    alt, summary = figure(html, f"/partners/{acme}/trend.svg")
    assert alt.startswith("Lines of how many of Acme Partners's 2 contacts were reached")
    assert summary == (
        "Feb 2027 so far: no contacts reached by email, none by video, none on social and none "
        "in a feed; none opened or clicked anything. Jan 2027: no contacts reached by email, "
        "none by video, none on social and none in a feed; none opened or clicked anything."
    )
    assert html.index('id="heat"') < html.index('id="trend"') < html.index('id="gaps"')
    rows = table_rows(html, "Contacts reached, month by month")
    assert rows[0] == ["Month", "Email", "Video", "Social", "RSS", "Opened or clicked"]
    assert rows[1:] == [
        ["Sep 2026", "0", "0", "0", "0", "0"],
        ["Oct 2026", "0", "0", "0", "0", "0"],
        ["Nov 2026", "1", "0", "0", "0", "1"],
        ["Dec 2026", "0", "1", "1", "0", "0"],
        ["Jan 2027", "0", "0", "0", "0", "0"],
        ["Feb 2027 (so far)", "0", "0", "0", "0", "0"],
    ]


def test_a_partner_with_nothing_seen_yet_says_what_counts(history: World) -> None:
    globex = ids(history, Partner, "name")["Globex"]
    html = staff_client(history).get(f"/partners/{globex}").get_data(as_text=True)
    assert "Nothing seen here in the last 6 months." in html
    assert "<code>commhub editions send SERIES --now</code>" in html
    assert "trend.svg" not in html
    assert "<caption>Contacts reached, month by month" not in html


def test_the_partner_words_name_the_last_two_months() -> None:
    months = [
        PartnerMonth(datetime(2027, 1, 1, tzinfo=UTC), {"email": 1, "rss": 2}, 1),
        PartnerMonth(datetime(2027, 2, 1, tzinfo=UTC), {"email": 7, "video": 1}, 5),
    ]
    words = charts.partner_trend_words(PartnerTrend(1, "Acme", 12, months), UTC)
    assert words.summary == [
        "Feb 2027 so far: 7 contacts reached by email, 1 by video, none on social and none "
        "in a feed; 5 opened or clicked something.",
        "Jan 2027: 1 contact reached by email, none by video, none on social and 2 in a feed; "
        "1 opened or clicked something.",
    ]
    assert "Acme's 12 contacts" in words.alt
    assert "over the last two months" in words.alt


@pytest.mark.parametrize("path", ["/partners/987654/trend.svg", "/partners/0/trend.svg"])
def test_an_unknown_partners_chart_is_404(history: World, path: str) -> None:
    assert staff_client(history).get(path).status_code == 404


def test_the_partner_chart_needs_sign_in(history: World) -> None:
    acme = ids(history, Partner, "name")["Acme Partners"]
    answer = create_app(runtime=history.runtime).test_client().get(f"/partners/{acme}/trend.svg")
    assert answer.status_code == 302
    assert "/login" in answer.headers["Location"]

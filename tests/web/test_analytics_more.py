"""Two more views on /analytics: relevance per audience month by month, and the bounce rate
per edition against its warn and alarm lines. Each a chart (an SVG with no script and nothing
from elsewhere, its values and lines named in words), its words, its table and its CSV, or
what to do while there is nothing yet; and every chart on the page scrolls sideways in a
frame a keyboard can reach, rather than shrink on a phone."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from commhub.delivery.outbox import OutboxBackend
from commhub.delivery.sender import installation_id
from commhub.reports import BOUNCE_COLUMNS, RELEVANCE_TREND_COLUMNS
from commhub.store import UserRole
from commhub.tracking import record_vote
from commhub.tracking.provider_events import record_events
from commhub.web import create_app
from tests.builders import NOW, World
from tests.web.staff import add_user, sign_in

SVG = "{http://www.w3.org/2000/svg}"
SCRIPT = "<script>alert(1)</script>"
SEPTEMBER = datetime(2026, 9, 10, 9, 0, tzinfo=UTC)
ANA, BEN, CY, DAN = "ana@p.example", "ben@p.example", "cy@p.example", "dan@p.example"


def staff_client(world: World) -> FlaskClient:
    app = create_app(runtime=dataclasses.replace(world.runtime, clock=world.clock))
    client = app.test_client()
    assert sign_in(client, add_user(world.runtime, UserRole.VIEWER)) == 302
    return client


def send_at(world: World, tmp_path: Path, when: datetime, *items: tuple[str, list[str]]) -> int:
    world.clock.current = when
    for slug, audiences in items:
        world.item(slug, audiences, published=when.replace(day=1))
    edition_id = world.prepare().edition.id
    world.send(edition_id, OutboxBackend(tmp_path / "outbox"))
    return edition_id


def vote(world: World, edition_id: int, email: str, item: str, answer: str) -> None:
    """A vote through the item's link in the contact's message, as the vote route records it."""
    with world.session() as session:
        owner, link_id, link = world.item_link(session, edition_id, email, item)
        record_vote(session, owner, link_id, link, answer, world.clock.now())


def bounce(world: World, edition_id: int, email: str) -> None:
    """The provider's bounce of the contact's message, as the webhook records it."""
    installation = installation_id(world.runtime.settings.secret_key)
    message_id = world.messages(edition_id)[email].id
    found = {
        "event": "bounce",
        "type": "bounce",
        "timestamp": int(world.clock.now().timestamp()),
        "sg_event_id": f"bounce-{message_id}",
        "commhub_message_id": str(message_id),
        "commhub_installation": installation,
    }
    with world.session() as session:
        record_events(session, [found], installation, world.clock.now())


@pytest.fixture
def history(world: World, tmp_path: Path) -> dict[str, int]:
    """A series named with a script, to sales and marketing, to ana, cy, dan (sales) and ben
    (marketing). September's edition (sales only: not to ben): ana votes its item yes.
    November's (now): ana votes "useful" yes and "dull" no, cy "dull" yes, ben "dull" no;
    dan's message bounces."""
    world.series(audiences=["sales", "marketing"], name=SCRIPT)
    world.contact(ANA, ["sales"])
    world.contact(BEN, ["marketing"])
    world.contact(CY, ["sales"])
    world.contact(DAN, ["sales"])
    september = send_at(world, tmp_path, SEPTEMBER, ("sept-promo", ["sales"]))
    vote(world, september, ANA, "sept-promo", "yes")
    november = send_at(
        world, tmp_path, NOW, ("useful", ["sales"]), ("dull", ["sales", "marketing"])
    )
    vote(world, november, ANA, "useful", "yes")
    vote(world, november, ANA, "dull", "no")
    vote(world, november, CY, "dull", "yes")
    vote(world, november, BEN, "dull", "no")
    bounce(world, november, DAN)
    return {"september": september, "november": november}


def svg(client: FlaskClient, path: str) -> tuple[ET.Element, str]:
    """The chart at path, parsed (it must be well-formed SVG), and its text; checked to run
    nothing and fetch nothing, with a title and a description."""
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.get_data(as_text=True)
    root = ET.fromstring(body)  # noqa: S314 - our own answer, parsed to prove it well-formed
    assert root.tag == f"{SVG}svg"
    assert "<script" not in body.lower()
    assert "href" not in body
    assert "<!--" not in body
    assert re.findall(r"(?:https?:)?//[\w.-]+[^\s\"'<>)]*", body) == ["http://www.w3.org/2000/svg"]
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None
    assert desc is not None
    assert title.text
    assert (desc.text or "").endswith(".")
    return root, body


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()).strip() for t in root.iter(f"{SVG}text")]


def section(html: str, name: str) -> str:
    start = html.index(f'<section aria-labelledby="{name}">')
    return html[start : html.index("</section>", start)]


def figure(html: str, name: str) -> tuple[str, str]:
    """The chart's image alt and the words under it, as read."""
    found = re.search(
        rf'<img src="/analytics/charts/{name}\.svg" alt="([^"]*)">'
        r"\s*<figcaption>(.*?)</figcaption>",
        html,
        re.S,
    )
    assert found, name
    words = " ".join(unescape(re.sub(r"<[^>]+>", " ", found.group(2))).split())
    return unescape(found.group(1)), words


def cells(html: str) -> list[list[str]]:
    """Each body row of the section's table, its cells as read."""
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return [
        [" ".join(unescape(re.sub(r"<[^>]+>", " ", cell)).split()) for cell in
         re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]  # fmt: skip


def download(client: FlaskClient, report: str) -> list[dict[str, str]]:
    response = client.get(f"/analytics/{report}.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="commhub-{report}-' in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_relevance_per_audience_month_by_month_in_a_chart_words_a_table_and_a_csv(
    world: World, history: dict[str, int]
) -> None:
    client = staff_client(world)
    html = section(client.get("/analytics").get_data(as_text=True), "relevance-trend")
    alt, words = figure(html, "relevance-trend")
    assert alt.endswith("Marketing is the least relevant in Nov 2026 so far, at 0%.")
    assert words == (
        "Least relevant in Nov 2026 so far: Marketing, at 0% of 1 vote, its first month with "
        "votes of these six. Sales: 67% of 3 votes in Nov 2026 so far, down from 100% of 1 "
        "vote in Sep 2026."
    )
    assert 'href="/analytics/relevance-trend.csv"' in html
    assert cells(html) == [
        ["Marketing", "—", "—", "—", "—", "—", "0% (1 vote)"],
        ["Sales", "—", "—", "—", "100% (1 vote)", "—", "67% (3 votes)"],
    ]
    assert ">Jun 2026</th>" in html

    root, _ = svg(client, "/analytics/charts/relevance-trend.svg")
    printed = texts(root)
    assert {"Marketing 0%", "Sales 67%", "Sep 2026", "Nov 2026"} <= set(printed)
    assert {"0%", "67%", "100%"} <= set(printed)  # each month's value printed at its point
    title = root.find(f"{SVG}title")
    assert title is not None
    assert title.text == "Relevance per audience, month by month"

    rows = download(client, "relevance-trend")
    assert list(rows[0]) == RELEVANCE_TREND_COLUMNS
    assert len(rows) == 12
    assert {"audience": "sales", "month": "2026-11", "yes": "2", "no": "1",
            "relevance": "0.6667"} in rows  # fmt: skip
    assert {"audience": "marketing", "month": "2026-10", "yes": "0", "no": "0",
            "relevance": ""} in rows  # fmt: skip


def test_bounce_rate_per_edition_against_its_lines_in_a_chart_words_a_table_and_a_csv(
    world: World, history: dict[str, int]
) -> None:
    client = staff_client(world)
    page = client.get("/analytics").get_data(as_text=True)
    assert SCRIPT not in page
    html = section(page, "bounces")
    november, september = history["november"], history["september"]
    alt, words = figure(html, "bounces")
    assert alt.endswith("1 at or over the alarm line, 0 more at or over the warning line.")
    assert words.startswith(
        f"Latest: #{november} {SCRIPT} at 25.0% (1 of 4 messages bounced), at or over the "
        "alarm line."
    )
    assert "Of 2 editions, 1 at or over the alarm line (5%)" in words
    assert cells(html) == [
        [f"#{september}", SCRIPT, "10 Sep 2026, 09:00 UTC", "3", "0", "0.0% (0 of 3)", "ok"],
        [f"#{november}", SCRIPT, "23 Nov 2026, 09:00 UTC", "3", "1", "25.0% (1 of 4)", "alarm"],
    ]
    assert '<td class="bad">alarm</td>' in html

    root, body = svg(client, "/analytics/charts/bounces.svg")
    printed = texts(root)
    # Each bar says its state in words, and its value; the lines are named.
    assert {f"#{november} {SCRIPT} (alarm)", f"#{september} {SCRIPT} (ok)"} <= set(printed)
    assert "&lt;script&gt;" in body
    assert {"25.0%", "0.0%", "alarm 5%", "warn 2%"} <= set(printed)
    lines = root.findall(f".//{SVG}g[@class='thresholds']/{SVG}path")
    assert len(lines) == 2
    assert all(line.get("stroke-dasharray") for line in lines)

    rows = download(client, "bounces")
    assert list(rows[0]) == BOUNCE_COLUMNS
    assert [(r["edition_id"], r["sent"], r["bounces"], r["bounce_rate"], r["state"])
            for r in rows] == [
        (str(september), "3", "0", "0.0", "ok"), (str(november), "3", "1", "0.25", "alarm"),
    ]  # fmt: skip


def test_with_nothing_bounced_the_table_stands_without_a_chart(
    world: World, tmp_path: Path
) -> None:
    world.series(audiences=["sales"])
    world.contact(ANA, ["sales"])
    send_at(world, tmp_path, NOW, ("useful", ["sales"]))
    html = section(staff_client(world).get("/analytics").get_data(as_text=True), "bounces")
    assert "No bounce chart: no message of these editions bounced." in html
    assert "<img" not in html
    ((*_, rate, state),) = cells(html)
    assert (rate, state) == ("0.0% (0 of 1)", "ok")


def test_with_nothing_yet_each_says_what_to_do_and_draws_an_empty_image(world: World) -> None:
    client = staff_client(world)
    page = client.get("/analytics").get_data(as_text=True)
    assert "<img" not in page
    assert "No votes on the editions of these months yet." in section(page, "relevance-trend")
    assert "No edition has sent email yet." in section(page, "bounces")
    for name in ("relevance-trend", "bounces"):
        root, _ = svg(client, f"/analytics/charts/{name}.svg")
        assert "Nothing to show yet" in texts(root)
    for report in ("relevance-trend", "bounces"):
        response = client.get(f"/analytics/{report}.csv")
        assert response.status_code == 200
        assert len(response.get_data(as_text=True).splitlines()) == 1  # the header alone


def test_every_chart_scrolls_sideways_in_a_frame_a_keyboard_can_reach(
    world: World, history: dict[str, int]
) -> None:
    page = staff_client(world).get("/analytics").get_data(as_text=True)
    images = re.findall(r"<img src=\"/analytics/charts/([\w-]+)\.svg", page)
    assert {"relevance-trend", "bounces", "relevance", "series"} <= set(images)
    framed = re.findall(
        r'<div class="chart-scroll" tabindex="0" role="region" aria-label="Chart: ([^"]+)">'
        r'\s*<figure class="chart">\s*<img src="/analytics/charts/([\w-]+)\.svg',
        page,
    )
    assert [name for _, name in framed] == images
    assert ("Bounce rate per edition", "bounces") in framed
    assert all(label for label, _ in framed)

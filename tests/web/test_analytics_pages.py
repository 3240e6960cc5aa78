"""/analytics and /analytics/<report>.csv: the reports as tables and as downloads."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from html import unescape
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from commhub.delivery.outbox import OutboxBackend
from commhub.delivery.sender import installation_id
from commhub.render.tokens import message_tokens
from commhub.reports import ItemReach, complaint_report, item_report, reach_report
from commhub.reports.tables import (
    COMPLAINT_COLUMNS,
    EXPOSURE_COLUMNS,
    ITEM_COLUMNS,
    complaint_rows,
    edition_complaints,
    exposure_rows,
    item_rows,
    worst_first,
)
from commhub.store.models import UserRole
from commhub.tracking.provider_events import record_events
from commhub.web import analytics, create_app
from tests.builders import NOW, World
from tests.web.staff import add_user, sign_in

SCRIPT = "<script>alert(1)</script>"
SEND = "<code>commhub editions send SERIES --now</code>"


def staff_client(world: World, role: UserRole = UserRole.VIEWER) -> FlaskClient:
    app = create_app(runtime=dataclasses.replace(world.runtime, clock=world.clock))
    client = app.test_client()
    assert sign_in(client, add_user(world.runtime, role)) == 302
    return client


def page(client: FlaskClient, path: str = "/analytics") -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def section(html: str, anchor: str) -> str:
    """The part of the page in one report's <section>."""
    start = html.index(f'<section aria-labelledby="{anchor}">')
    return html[start : html.index("</section>", start)]


def cells(html: str) -> list[list[str]]:
    """The body rows of the tables in html, each as its cells' text."""
    body = "".join(re.findall(r"<tbody>(.*?)</tbody>", html, re.S))
    return [
        [unescape(re.sub(r"<[^>]+>", "", cell)).replace("\xa0", " ").strip() for cell in row]
        for row in (re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S) for tr in body.split("<tr>"))
        if row
    ]


def download(client: FlaskClient, report: str) -> list[dict[str, str]]:
    response = client.get(f"/analytics/{report}.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="commhub-{report}-{NOW:%Y-%m-%d}.csv"'
    )
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def sent(world: World, tmp_path: Path) -> dict[str, int]:
    """An edition of "news" with two items (links 1 and 2) to two sales contacts, who voted:
    "useful" yes once, "dull" no twice. Message ids by name, and the edition's."""
    world.series(audiences=["sales"])
    world.item("useful", ["sales"], key_message="Deals pay", priority=2)
    world.item("dull", ["sales"], key_message=SCRIPT, priority=1, title=SCRIPT)
    world.contact("ana@p.example", ["sales"])
    world.contact("ben@p.example", ["sales"])
    edition_id = world.prepare().edition.id
    world.send(edition_id, OutboxBackend(tmp_path / "outbox"))
    ids = {a.split("@")[0]: m.id for a, m in world.messages(edition_id).items()}
    tokens = message_tokens(world.runtime.settings.secret_keys)
    client = create_app(runtime=world.runtime).test_client()
    client.post(f"/t/v/{tokens.sign(ids['ana'])}/1/yes")
    client.post(f"/t/v/{tokens.sign(ids['ana'])}/2/no")
    client.post(f"/t/v/{tokens.sign(ids['ben'])}/2/no")
    return ids | {"edition": edition_id}


def complain(world: World, message_ids: list[int]) -> None:
    installation = installation_id(world.runtime.settings.secret_key)
    events = [
        {
            "event": "spamreport",
            "timestamp": int(NOW.timestamp()),
            "sg_event_id": f"s{m}",
            "commhub_message_id": str(m),
            "commhub_installation": installation,
        }
        for m in message_ids
    ]
    with world.session() as session:
        record_events(session, events, installation, world.clock.now())


def test_nothing_sent_yet_says_what_to_do_for_each_report(world: World) -> None:
    html = page(staff_client(world))
    assert "<title>Analytics · commhub</title>" in html
    assert html.count("<h1") == 1
    assert "No key messages yet." in section(html, "reach")
    assert "<code>key_message:</code>" in section(html, "reach")
    assert "Nothing delivered yet." in section(html, "relevance")
    assert SEND in section(html, "relevance")
    assert "Nothing sent in the last 7 days." in section(html, "complaints")
    assert SEND in section(html, "complaints")
    assert "Download CSV" not in html
    assert "<table" not in html


def test_key_messages_not_yet_sent_say_to_send_an_edition(world: World) -> None:
    world.item("useful", ["sales"], key_message="Deals pay")
    reach = section(page(staff_client(world)), "reach")
    assert "No key message has been sent yet." in reach
    assert SEND in reach


def test_the_rule_of_seven_per_key_message_with_its_share_out_of_the_targeted(
    world: World, sent: dict[str, int]
) -> None:
    reach = section(page(staff_client(world)), "reach")
    assert 'href="/analytics/exposures.csv"' in reach
    assert '<th scope="col" rowspan="2">Key message</th>' in reach
    rows = {row[0]: row[1:] for row in cells(reach)}
    # Targeted 2; seen 1..7+ times; in 1..3+ formats; seven across three, of the targeted.
    assert rows["Deals pay"] == (
        ["2", "1", "0", "0", "0", "0", "0", "0", "1", "0", "0", "0.0% (0 of 2)"]
    )
    assert rows[SCRIPT][:3] == ["2", "2", "0"]


def test_relevance_worst_first_with_the_votes_it_is_out_of(
    world: World, sent: dict[str, int]
) -> None:
    relevance = section(page(staff_client(world)), "relevance")
    assert 'href="/analytics/items.csv"' in relevance
    assert [row[0] for row in cells(relevance)] == ["dull", "useful"]
    # item, audience, delivered, opened, clicked, in a feed, on social, yes, no, relevance
    assert cells(relevance)[0][1:] == [
        "sales", "2", "0", "0", "0", "0", "0", "2", "0% of 2 votes",
    ]  # fmt: skip
    assert cells(relevance)[1][-1] == "100% of 1 vote"
    assert '<a href="/content/dull">dull</a>' in relevance


def test_items_nobody_voted_on_come_last() -> None:
    reaches = [
        ItemReach("quiet", "sales", 9, 0, 0, 0, 0),
        ItemReach("liked", "sales", 2, 0, 0, 3, 1),
        ItemReach("hated", "sales", 2, 0, 0, 0, 1),
        ItemReach("disliked", "sales", 2, 0, 0, 0, 4),
    ]
    assert [r.item for r in worst_first(reaches)] == ["disliked", "hated", "liked", "quiet"]


def test_the_relevance_table_is_paged(
    world: World, sent: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(analytics, "ITEMS_PER_PAGE", 1)
    client = staff_client(world)
    first = section(page(client), "relevance")
    assert [row[0] for row in cells(first)] == ["dull"]
    assert "Showing 1–1 of 2 items and audiences" in first
    second = section(page(client, "/analytics?page=2"), "relevance")
    assert [row[0] for row in cells(second)] == ["useful"]
    assert [row[0] for row in cells(section(page(client, "/analytics?page=x"), "relevance"))] == [
        "dull"
    ]


def test_text_from_content_is_shown_as_text(world: World, sent: dict[str, int]) -> None:
    html = page(staff_client(world))
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section(html, "reach")


def test_complaints_against_the_thresholds_per_edition(world: World, sent: dict[str, int]) -> None:
    complain(world, [sent["ana"]])
    complaints = section(page(staff_client(world)), "complaints")
    flat = " ".join(complaints.split())
    assert "At 0.1% commhub raises an alert; at 0.3%" in flat
    assert '50.00% <span class="muted">(1 complaint in 2 sent)</span>' in flat
    assert '<span class="badge bad">hold</span>' in complaints
    [row] = cells(complaints)
    assert row[:2] == [f"#{sent['edition']}", "Partner News"]
    assert row[3:] == ["1", "2", "50.00% (1 of 2)", "hold"]
    assert f'<a href="/editions/{sent["edition"]}">' in complaints
    assert "<time" in row_html(complaints)


def row_html(html: str) -> str:
    return html[html.index("<tbody>") :]


def test_a_quiet_week_is_ok(world: World, sent: dict[str, int]) -> None:
    complaints = section(page(staff_client(world)), "complaints")
    assert '<span class="badge good">ok</span>' in complaints
    assert "(0 complaints in 2 sent)" in complaints


def test_the_downloads_hold_the_rows_of_the_page(world: World, sent: dict[str, int]) -> None:
    complain(world, [sent["ana"]])
    client = staff_client(world)
    with world.session() as session:
        reaches = exposure_rows(reach_report(session))
        items = item_rows(worst_first(item_report(session)))
        found = complaint_report(session, world.clock.now())
        complaints = complaint_rows(found, edition_complaints(session, found))

    def text(rows: list[dict[str, object]]) -> list[dict[str, str]]:
        return [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]

    exposures = download(client, "exposures")
    assert list(exposures[0]) == EXPOSURE_COLUMNS
    assert exposures == text(reaches)
    listed = download(client, "items")
    assert list(listed[0]) == ITEM_COLUMNS
    assert listed == text(items)
    assert [row["item"] for row in listed] == ["dull", "useful"]
    rates = download(client, "complaints")
    assert list(rates[0]) == COMPLAINT_COLUMNS
    assert rates == text(complaints)
    assert (rates[0]["period"], rates[0]["complaints"], rates[0]["sent"]) == (
        "last 7 days",
        "1",
        "2",
    )
    assert (rates[1]["edition_id"], rates[1]["series"], rates[1]["state"]) == (
        str(sent["edition"]),
        "Partner News",
        "hold",
    )


def test_downloads_are_safe_to_open_in_a_spreadsheet(world: World, tmp_path: Path) -> None:
    world.series(audiences=["sales"])
    world.item("sneaky", ["sales"], key_message='=HYPERLINK("http://evil")')
    world.contact("ana@p.example", ["sales"])
    world.send(world.prepare().edition.id, OutboxBackend(tmp_path / "outbox"))
    [row] = download(staff_client(world), "exposures")
    assert row["key_message"] == '\'=HYPERLINK("http://evil")'


def test_an_empty_report_downloads_as_its_header(world: World) -> None:
    client = staff_client(world)
    assert download(client, "items") == []
    response = client.get("/analytics/items.csv").get_data(as_text=True)
    assert response.splitlines() == [",".join(ITEM_COLUMNS)]
    [quiet] = download(client, "complaints")
    assert (quiet["period"], quiet["sent"], quiet["state"]) == ("last 7 days", "0", "ok")


@pytest.mark.parametrize(
    "path", ["/analytics/contacts.csv", "/analytics/events.csv", "/analytics/x"]
)
def test_an_unknown_report_is_404(world: World, path: str) -> None:
    assert staff_client(world).get(path).status_code == 404


def test_the_pages_need_sign_in_and_are_read_only(world: World) -> None:
    anonymous = create_app(runtime=world.runtime).test_client()
    for path in ("/analytics", "/analytics/items.csv", "/analytics/nothing.csv"):
        answer = anonymous.get(path)
        assert answer.status_code == 302
        assert "/login" in answer.headers["Location"]
    assert staff_client(world).post("/analytics").status_code in {400, 405}

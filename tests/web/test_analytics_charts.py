"""/analytics' charts: each an SVG image drawn on the server (no script, nothing fetched from
elsewhere), shown with an alt text and a summary in words beside its table; and the section
per series over time, with its chart, its table and its download."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import xml.etree.ElementTree as ET
from collections import Counter
from html import unescape
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from commhub.delivery.outbox import OutboxBackend
from commhub.delivery.sender import installation_id
from commhub.render import message_tokens
from commhub.reports import SERIES_COLUMNS, KeyMessageReach, series_history
from commhub.store import UserRole
from commhub.tracking import record_events
from commhub.web import charts, create_app
from tests.builders import NOW, World
from tests.web.staff import add_user, sign_in

SVG = "{http://www.w3.org/2000/svg}"
SCRIPT = "<script>alert(1)</script>"
NAMES = ("reach", "exposures", "relevance", "complaints", "series")


def staff_client(world: World) -> FlaskClient:
    app = create_app(runtime=dataclasses.replace(world.runtime, clock=world.clock))
    client = app.test_client()
    assert sign_in(client, add_user(world.runtime, UserRole.VIEWER)) == 302
    return client


@pytest.fixture
def sent(world: World, tmp_path: Path) -> dict[str, int]:
    """An edition of "news" with two items (links 1 and 2) to two sales contacts: "useful"
    voted yes once, "dull" (its key message and title a script) no twice; ana's message
    reported as spam. Message ids by name, and the edition's."""
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
    installation = installation_id(world.runtime.settings.secret_key)
    event = {
        "event": "spamreport",
        "timestamp": int(NOW.timestamp()),
        "sg_event_id": "s1",
        "commhub_message_id": str(ids["ana"]),
        "commhub_installation": installation,
    }
    with world.session() as session:
        record_events(session, [event], installation, world.clock.now())
    return ids | {"edition": edition_id}


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


def texts(root: ET.Element) -> list[str]:
    """What the chart prints: every <text>'s words."""
    return ["".join(t.itertext()).strip() for t in root.iter(f"{SVG}text")]


def described(root: ET.Element) -> tuple[str, str]:
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None
    assert desc is not None
    return title.text or "", desc.text or ""


@pytest.mark.parametrize("name", NAMES)
def test_each_chart_is_svg_with_no_script_and_nothing_from_elsewhere(
    world: World, sent: dict[str, int], name: str
) -> None:
    root, body = svg(staff_client(world), f"/analytics/charts/{name}.svg")
    assert "<script" not in body.lower()
    assert root.find(f".//{SVG}script") is None
    assert "xmlns:xlink" not in body
    assert "href" not in body
    # The one address in it is the SVG namespace: no script, font or stylesheet to fetch.
    assert re.findall(r"(?:https?:)?//[\w.-]+[^\s\"'<>)]*", body) == ["http://www.w3.org/2000/svg"]
    assert "<!--" not in body
    title, desc = described(root)
    assert title
    assert desc.endswith(".")


@pytest.mark.parametrize("name", ["reach", "exposures", "relevance", "complaints"])
def test_a_chart_of_an_empty_report_is_still_an_image(world: World, name: str) -> None:
    root, _ = svg(staff_client(world), f"/analytics/charts/{name}.svg")
    assert "Nothing to show yet" in texts(root)


def test_the_rule_of_seven_charts_print_each_key_message_and_its_counts(
    world: World, sent: dict[str, int]
) -> None:
    client = staff_client(world)
    reach, body = svg(client, "/analytics/charts/reach.svg")
    printed = texts(reach)
    # A bar per key message, its text escaped (a script in a key message stays words).
    assert {"Deals pay", SCRIPT} <= set(printed)
    assert "&lt;script&gt;" in body
    assert {"1 format", "2 formats", "3+ formats", "not seen yet"} <= set(printed)
    assert described(reach)[0] == "Formats each key message was seen in"
    exposures, _ = svg(client, "/analytics/charts/exposures.svg")
    printed = texts(exposures)
    assert {"once", "2 times", "7+ times", "not seen yet", "Deals pay"} <= set(printed)


def test_the_relevance_chart_puts_the_votes_in_each_label(
    world: World, sent: dict[str, int]
) -> None:
    root, _ = svg(staff_client(world), "/analytics/charts/relevance.svg")
    printed = texts(root)
    assert {"dull · sales (2 votes)", "useful · sales (1 vote)", "0%", "100%"} <= set(printed)
    # Drawn bottom up: the worst is the last label, at the top.
    labels = [t for t in printed if "·" in t]
    assert labels == ["useful · sales (1 vote)", "dull · sales (2 votes)"]


def test_the_complaints_chart_draws_the_thresholds_as_named_lines(
    world: World, sent: dict[str, int]
) -> None:
    root, _ = svg(staff_client(world), "/analytics/charts/complaints.svg")
    printed = texts(root)
    assert f"#{sent['edition']} Partner News (hold)" in printed
    assert "50.00%" in printed
    assert {"alert 0.1%", "hold 0.3%"} <= set(printed)
    lines = root.findall(f".//{SVG}g[@class='thresholds']/{SVG}path")
    assert len(lines) == 2
    assert all(line.get("stroke-dasharray") for line in lines)


def test_the_series_chart_names_each_line_with_its_last_value(
    world: World, sent: dict[str, int]
) -> None:
    root, _ = svg(staff_client(world), "/analytics/charts/series.svg?series=news")
    printed = texts(root)
    assert {"recipients 2", "delivered 2", "votes 3", "complaints 1", "bounces 0"} <= set(printed)
    assert f"{NOW:%-d %b %Y}" in printed
    assert described(root)[0] == "Partner News over time"


@pytest.mark.parametrize(
    "path",
    ["/analytics/charts/pie.svg", "/analytics/charts/series.svg?series=nope",
     "/analytics/series.csv?series=nope", "/analytics/charts/reach.png"],
)  # fmt: skip
def test_an_unknown_chart_or_series_is_404(world: World, sent: dict[str, int], path: str) -> None:
    assert staff_client(world).get(path).status_code == 404


def test_the_charts_need_sign_in(world: World) -> None:
    answer = create_app(runtime=world.runtime).test_client().get("/analytics/charts/reach.svg")
    assert answer.status_code == 302
    assert "/login" in answer.headers["Location"]


def figures_of(html: str) -> dict[str, tuple[str, str]]:
    """Each chart on the page: (its image's alt, the summary under it), by chart name."""
    found = {}
    for src, alt, caption in re.findall(
        r'<figure class="chart">\s*<img src="/analytics/charts/(\w+)\.svg[^"]*" alt="([^"]*)">'
        r"\s*<figcaption>(.*?)</figcaption>",
        html,
        re.S,
    ):
        words = " ".join(unescape(re.sub(r"<[^>]+>", " ", caption)).split())
        found[src] = (unescape(alt), words)
    return found


def test_the_page_shows_each_chart_with_its_alt_and_its_summary_beside_its_table(
    world: World, sent: dict[str, int]
) -> None:
    html = staff_client(world).get("/analytics").get_data(as_text=True)
    shown = figures_of(html)
    assert set(shown) == set(NAMES)
    for name, (alt, summary) in shown.items():
        assert alt.endswith("."), name
        assert summary, name
    assert (
        "Deals pay: 0 of 2 contacts (0%) have seen it seven times in three formats; the largest "
        "group stands at one format." in shown["reach"][1]
    )
    assert "Least relevant: dull for sales, 0% of 2 votes." in shown["relevance"][1]
    highest = f"Highest: #{sent['edition']} Partner News at 50.00% (1 of 2 sent), at or over"
    assert highest in shown["complaints"][1]
    assert shown["series"][1].startswith("Latest edition (")
    # Each chart comes before its table's download, and the page escapes what content says.
    assert html.index("charts/reach.svg") < html.index("/analytics/exposures.csv")
    assert html.index("charts/relevance.svg") < html.index("/analytics/items.csv")
    assert SCRIPT not in html
    assert 'src="/analytics/charts/series.svg?series=news"' in html


def test_an_empty_report_shows_its_empty_state_and_no_chart(world: World) -> None:
    html = staff_client(world).get("/analytics").get_data(as_text=True)
    assert "<img" not in html
    assert "<figure" not in html
    assert "No edition has started yet." in html


def test_the_series_section_picks_a_series_with_a_plain_form(
    world: World, sent: dict[str, int], tmp_path: Path
) -> None:
    world.series("digest", audiences=["sales"], name="Deal Digest")
    world.item("launch", ["sales"])
    digest = world.prepare("digest").edition.id
    client = staff_client(world)
    html = client.get("/analytics").get_data(as_text=True)
    section = html[html.index('<section aria-labelledby="series">') :]
    assert '<form class="filters" method="get" action="/analytics#series">' in section
    assert '<option value="digest" selected>Deal Digest</option>' in section
    assert '<option value="news">Partner News</option>' in section
    # Without a choice, the first by name; with one, that series, its table and its download.
    assert 'src="/analytics/charts/series.svg?series=digest"' in section
    chosen = client.get("/analytics?series=news").get_data(as_text=True)
    chosen = chosen[chosen.index('<section aria-labelledby="series">') :]
    assert '<option value="news" selected>' in chosen
    assert f'<a href="/editions/{sent["edition"]}">#{sent["edition"]}</a>' in chosen
    assert f'href="/editions/{digest}"' not in chosen
    assert 'href="/analytics/series.csv?series=news"' in chosen
    assert "<caption>Partner News, edition by edition, oldest first</caption>" in chosen
    # An unknown choice on the page falls back to the first, rather than failing the page.
    assert client.get("/analytics?series=nope").status_code == 200


def test_the_series_download_holds_the_rows_of_the_report(
    world: World, sent: dict[str, int]
) -> None:
    response = staff_client(world).get("/analytics/series.csv?series=news")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="commhub-series-news-{NOW:%Y-%m-%d}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == SERIES_COLUMNS
    with world.session() as session:
        expected = [
            {k: str(v) for k, v in f.as_row().items()} for f in series_history(session, "news")
        ]
    assert rows == expected
    assert (rows[0]["recipients"], rows[0]["votes"], rows[0]["complaints"]) == ("2", "3", "1")


def test_the_series_download_is_safe_to_open_in_a_spreadsheet(world: World, tmp_path: Path) -> None:
    world.series(audiences=["sales"], name='=HYPERLINK("http://evil")')
    world.item("useful", ["sales"])
    world.contact("ana@p.example", ["sales"])
    world.send(world.prepare().edition.id, OutboxBackend(tmp_path / "outbox"))
    response = staff_client(world).get("/analytics/series.csv")
    [row] = csv.DictReader(io.StringIO(response.get_data(as_text=True)))
    assert row["series_name"] == '\'=HYPERLINK("http://evil")'


def test_the_words_say_where_most_contacts_stand() -> None:
    reach = KeyMessageReach(
        "Deal registration", 80, Counter({1: 30, 7: 20}), Counter({1: 50, 2: 10, 3: 20}), 12
    )
    words = charts.reach_words([reach, KeyMessageReach("Not sent yet", 0)])
    assert words.summary == [
        "Deal registration: 12 of 80 contacts (15%) have seen it seven times in three formats; "
        "most stand at one format."
    ]
    assert "one per key message (1)" in words.alt
    [exposures] = charts.exposures_words([reach]).summary
    assert exposures == (
        "Deal registration: 20 of 80 contacts (25%) have seen it seven or more times; "
        "the largest group has seen it once."
    )


def test_the_chart_library_leaves_the_import_system_as_it_found_it() -> None:
    # pygal adds an old-protocol finder to sys.meta_path; left there, it broke other imports
    # (feedgen's extensions, so every feed out answered 500).
    import sys

    import commhub.web.charts  # noqa: F401 - imported for what importing it does

    assert all(hasattr(finder, "find_spec") for finder in sys.meta_path)

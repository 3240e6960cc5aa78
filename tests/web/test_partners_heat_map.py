"""/analytics: every partner's heat map, labelled cells, three orders, pages, and its CSV."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

from sqlalchemy import select

from commhub.contacts import record_formats_seen
from commhub.store import Contact
from tests.builders import NOW, World
from tests.web.test_analytics_pages import page, section, staff_client


def partners_in(html: str) -> list[str]:
    return re.findall(r'<a href="/partners/\d+">([^<]+)</a>', section(html, "partners"))


def seen(world: World, *pairs: tuple[str, str]) -> None:
    with world.session() as session:
        ids = {c.email: c.id for c in session.scalars(select(Contact))}
        record_formats_seen(session, [(ids[address], fmt) for address, fmt in pairs], NOW)


def three_partners(world: World) -> World:
    world.contact("ana@acme.example", ["sales"], partner="Acme")
    world.contact("ben@acme.example", ["sales"], partner="Acme")
    world.contact("cleo@globex.example", ["technical"], partner="Globex")
    world.contact("dora@initech.example", ["sales"], partner="Initech")
    world.contact("eve@initech.example", ["sales"], partner="Initech")
    world.contact("finn@initech.example", ["sales"], partner="Initech")
    seen(world, ("ana@acme.example", "email"), ("cleo@globex.example", "video"))
    seen(world, ("cleo@globex.example", "email"), ("cleo@globex.example", "rss"))
    return world


def test_each_cell_says_its_share_and_colour_and_each_partner_its_gaps(world: World) -> None:
    client = staff_client(three_partners(world))
    full = page(client)
    assert partners_in(full) == ["Acme", "Globex", "Initech"]
    html = unescape(section(full, "partners"))
    assert '<td class="good">50% green</td>' in html  # Acme's sales saw email
    assert '<td class="bad">0% red</td>' in html
    assert '<td class="good">100% green</td>' in html
    assert "red: no executive contact" in html
    assert "<li>Development: no contact</li><li>Executive: no contact</li>" in html
    assert "<li>Technical: never saw social posts</li>" in html  # Globex
    assert "3 contacts · 20 red cells" in html  # Initech
    assert 'aria-current="true">By name<' in html


def test_the_orders_are_plain_links(world: World) -> None:
    client = staff_client(three_partners(world))
    html = page(client)
    links = dict(re.findall(r'<a href="([^"]+)">(Most contacts first|Coldest first)</a>', html))
    assert set(links.values()) == {"Most contacts first", "Coldest first"}
    by = {label: unescape(url) for url, label in links.items()}
    assert partners_in(page(client, by["Most contacts first"])) == ["Initech", "Acme", "Globex"]
    assert partners_in(page(client, by["Coldest first"])) == ["Initech", "Acme", "Globex"]
    assert partners_in(page(client, "/analytics?sort=coldness&page=2")) == [
        "Initech", "Acme", "Globex",
    ]  # fmt: skip
    assert partners_in(page(client, "/analytics?sort=nonsense")) == ["Acme", "Globex", "Initech"]


def test_fifty_partners_a_page(world: World) -> None:
    for n in range(52):
        world.contact(f"c{n}@p{n:02}.example", ["sales"], partner=f"Partner {n:02}")
    seen(world, ("c0@p00.example", "email"))
    client = staff_client(world)
    first = page(client)
    assert len(partners_in(first)) == 50
    assert "Showing 1–50 of 52 partners" in section(first, "partners")
    [later] = re.findall(r'<a href="([^"]+)" rel="next">Next partners</a>', first)
    second = page(client, unescape(later))
    assert partners_in(second) == ["Partner 50", "Partner 51"]
    assert partners_in(page(client, "/analytics?partners_page=99"))[-1] == "Partner 51"


def test_the_csv_has_every_partner_and_role(world: World) -> None:
    response = staff_client(three_partners(world)).get("/analytics/partners.csv")
    assert response.status_code == 200
    assert "commhub-partners-" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 3 * 5  # partners x roles
    [acme_sales] = [r for r in rows if (r["partner"], r["role"]) == ("Acme", "sales")]
    assert (acme_sales["contacts"], acme_sales["email"], acme_sales["email_colour"]) == (
        "2", "0.5", "green",
    )  # fmt: skip


def test_nothing_yet_says_what_to_do(world: World) -> None:
    client = staff_client(world)
    assert "No partners with contacts yet." in section(page(client), "partners")
    world.contact("ana@acme.example", ["sales"], partner="Acme")
    html = section(page(client), "partners")
    assert "have seen a key message yet" in html
    assert "commhub editions send SERIES --now" in html
    assert "<table" not in html

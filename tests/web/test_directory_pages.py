"""/contacts, /partners, /partners/<id>: search, filters, pages, empty states, the heat map."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from commhub.contacts.browse import ContactFilter, find_contacts, partner_detail
from commhub.reports import Thresholds, heat_map, heat_map_rows
from commhub.reports.partner_detail import heat_rows, partner_heat_map
from commhub.store.models import Contact, ContactStatus, KeyMessage, Partner, UserRole
from commhub.tracking.exposures import record_exposures
from commhub.web import create_app
from tests.builders import NOW, World
from tests.web.staff import add_user, sign_in

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def app(world: World) -> Flask:
    return create_app(runtime=world.runtime)


@pytest.fixture
def client(app: Flask, world: World) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, add_user(world.runtime, UserRole.VIEWER)) == 302
    return client


def page(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, path
    return response.get_data(as_text=True)


def rows(html: str) -> list[str]:
    """The text of each body row of the page's first table, tags stripped."""
    body = html.replace("<wbr>", "").split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        " ".join(re.sub(r"<[^>]+>", " ", row).split())
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def emails(html: str) -> list[str]:
    """The addresses in the page's cells, in order (a line may break before the @)."""
    return re.findall(r"<td>([a-z0-9]+@[a-z.]+)</td>", html.replace("<wbr>", ""))


def partner_id(world: World, name: str) -> int:
    with world.session() as session:
        found = session.scalar(select(Partner.id).where(Partner.name == name))
    assert found is not None
    return found


def directory(world: World) -> None:
    world.contact("ana@acme.example", ["sales"], first_name="Ana", last_name="Silva")
    world.contact(
        "ben@acme.example", ["sales", "technical"], first_name="Ben", last_name="Okoro",
        timezone="Europe/Paris",
    )  # fmt: skip
    world.contact(
        "cleo@globex.example", ["technical"], partner="Globex", tier="silver",
        first_name="Cleo", last_name="Wu", status=ContactStatus.UNSUBSCRIBED, consent=False,
    )  # fmt: skip


def exposed(world: World) -> None:
    """Ana (sales) saw a key message by email, Ben (sales, technical) in the video digest."""
    directory(world)
    with world.session() as session:
        key = KeyMessage(text="Deal registration pays")
        session.add(key)
        session.flush()
        ids = {c.email: c.id for c in session.scalars(select(Contact))}
        record_exposures(session, ids["ana@acme.example"], [key.id], "email", "message", 1, NOW)
        record_exposures(session, ids["ben@acme.example"], [key.id], "video", "message", 2, NOW)


# /contacts


def test_contacts_lists_each_contact_with_partner_roles_status_zone_and_consent(
    world: World, client: FlaskClient
) -> None:
    directory(world)
    html = page(client, "/contacts")
    assert "<title>Contacts · commhub</title>" in html
    assert html.count("<h1>") == 1
    assert rows(html) == [
        "Ana Silva ana@acme.example Acme Partners Sales active — given 24 Oct 2026",
        "Ben Okoro ben@acme.example Acme Partners Sales, Technical active Europe/Paris "
        "given 24 Oct 2026",
        "Cleo Wu cleo@globex.example Globex Technical unsubscribed — none recorded",
    ]
    acme = partner_id(world, "Acme Partners")
    assert f'href="/partners/{acme}"' in html
    assert 'scope="col">Consent' in html
    assert "Showing 1–3 of 3 contacts" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=SILVA", ["ana@acme.example"]),  # name, any case
        ("q=ben%20ok", ["ben@acme.example"]),  # first and last name together
        ("q=GLOBEX.example", ["cleo@globex.example"]),  # email, any case
        ("q=%25", []),  # a LIKE wildcard is a plain character
        ("tier=silver", ["cleo@globex.example"]),
        ("type=reseller&region=EMEA", [
            "ana@acme.example", "ben@acme.example", "cleo@globex.example"]),
        ("role=technical", ["ben@acme.example", "cleo@globex.example"]),
        ("role=technical&status=active", ["ben@acme.example"]),
        ("status=unsubscribed", ["cleo@globex.example"]),
        ("role=nonsense&status=nonsense&tier=nonsense", [  # unknown values: no filter
            "ana@acme.example", "ben@acme.example", "cleo@globex.example"]),
    ],
)  # fmt: skip
def test_contact_search_and_filters_narrow_the_list(
    world: World, client: FlaskClient, query: str, expected: list[str]
) -> None:
    directory(world)
    html = page(client, f"/contacts?{query}")
    assert emails(html) == expected
    if not expected:
        assert "No contacts match these filters." in html
        assert 'href="/contacts">clear the search and filters' in html


def test_contacts_of_one_partner(world: World, client: FlaskClient) -> None:
    directory(world)
    globex = partner_id(world, "Globex")
    html = page(client, f"/contacts?partner={globex}")
    assert emails(html) == ["cleo@globex.example"]
    assert "Only the contacts of" in html
    assert f'name="partner" value="{globex}"' in html  # kept when the form is sent again


def test_contacts_are_paginated_by_sql(world: World, client: FlaskClient) -> None:
    addresses = world.many_contacts(120, ["sales"])
    first = page(client, "/contacts")
    assert "Showing 1–50 of 120 contacts" in first
    assert len(rows(first)) == 50
    assert 'rel="next"' in first
    last = page(client, "/contacts?page=3")
    assert "Showing 101–120 of 120 contacts" in last
    assert emails(last) == addresses[100:]
    assert 'rel="prev"' in last
    assert 'rel="next"' not in last
    narrowed = page(client, "/contacts?q=contact0011")
    assert "Showing 1–10 of 10 contacts" in narrowed


def test_contacts_page_without_contacts_says_how_to_add_them(client: FlaskClient) -> None:
    html = page(client, "/contacts")
    assert "No contacts yet." in html
    assert "<code>commhub contacts import contacts.csv</code>" in html
    assert "<code>commhub demo-data</code>" in html
    assert "<table" not in html


def test_contact_and_partner_names_are_text(world: World, client: FlaskClient) -> None:
    world.contact("eve@evil.example", ["sales"], partner=HOSTILE, first_name=HOSTILE)
    for path in ("/contacts", "/partners", f"/partners/{partner_id(world, HOSTILE)}"):
        html = page(client, path)
        assert HOSTILE not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path


# /partners


def test_partners_lists_partners_with_their_contacts_and_roles(
    world: World, client: FlaskClient
) -> None:
    directory(world)
    html = page(client, "/partners")
    assert "<title>Partners · commhub</title>" in html
    assert html.count("<h1>") == 1
    assert rows(html) == [
        "Acme Partners reseller gold EMEA 2 Sales (2), Technical (1)",
        "Globex reseller silver EMEA 1 Technical (1)",
    ]
    acme = partner_id(world, "Acme Partners")
    assert f'<a href="/partners/{acme}">Acme Partners</a>' in html
    assert f'href="/contacts?partner={acme}"' in html


def test_partner_search_and_filters_narrow_the_list(world: World, client: FlaskClient) -> None:
    directory(world)
    assert [r.split()[0] for r in rows(page(client, "/partners?q=GLOB"))] == ["Globex"]
    assert [r.split()[0] for r in rows(page(client, "/partners?tier=gold"))] == ["Acme"]
    html = page(client, "/partners?q=initech")
    assert "No partners match these filters." in html
    assert 'href="/partners">clear the search and filters' in html


def test_partners_are_paginated(world: World, client: FlaskClient) -> None:
    for n in range(55):
        world.contact(f"p{n}@p{n:02}.example", ["sales"], partner=f"Partner {n:02}")
    first = page(client, "/partners")
    assert "Showing 1–50 of 55 partners" in first
    second = page(client, "/partners?page=2")
    assert [r.split()[1] for r in rows(second)] == ["50", "51", "52", "53", "54"]


def test_partners_page_without_partners_says_how_to_add_them(client: FlaskClient) -> None:
    html = page(client, "/partners")
    assert "No partners yet." in html
    assert "<code>commhub contacts import contacts.csv</code>" in html


# /partners/<id>


def test_partner_page_shows_facts_heat_map_gaps_and_contacts_by_role(
    world: World, client: FlaskClient
) -> None:
    exposed(world)
    acme = partner_id(world, "Acme Partners")
    html = page(client, f"/partners/{acme}").replace("<wbr>", "")
    assert "<title>Acme Partners · Partners · commhub</title>" in html
    assert html.count("<h1>") == 1
    assert "<dt>Tier</dt><dd>gold</dd>" in html
    # Sales: Ana saw email, Ben saw video: half of the role each, green at 50 %.
    sales = re.search(r'<th scope="row">Sales</th>(.*?)</tr>', html, re.S)
    assert sales is not None
    cells = re.findall(r'<td class="(good|warn|bad)">([^<]*)</td>', sales.group(1))
    assert cells == [
        ("good", "50% green"), ("good", "50% green"), ("bad", "0% red"), ("bad", "0% red"),
    ]  # fmt: skip
    assert "red: no executive contact" in html
    assert "<li>No executive contact</li>" in html
    assert "<li>Technical contacts never saw the newsletter</li>" in html
    by_role = html.split('id="by-role"', 1)[1]
    sales_group = by_role.split('id="role-sales"', 1)[1].split("</section>", 1)[0]
    assert "ana@acme.example" in sales_group
    assert "ben@acme.example" in sales_group
    technical = by_role.split('id="role-technical"', 1)[1].split("</section>", 1)[0]
    assert "ben@acme.example" in technical
    assert "ana@acme.example" not in technical
    assert "No executive contact at this partner." in by_role
    assert "cleo@globex.example" not in html


def test_partner_heat_map_follows_the_thresholds_and_matches_the_report(
    world: World, client: FlaskClient
) -> None:
    exposed(world)
    acme = partner_id(world, "Acme Partners")
    stricter = Thresholds(green=0.6, amber=0.2)
    with world.session() as session:
        roles, grid = partner_heat_map(session, acme)
        every_roles, grids = heat_map(session)
    mine = heat_rows(roles, grid, stricter)
    report = [
        r for r in heat_map_rows(every_roles, grids, stricter) if r["partner"] == grid.partner
    ]
    assert [(r.slug, r.contacts) for r in mine] == [(r["role"], r["contacts"]) for r in report]
    for row, flat in zip(mine, report, strict=True):
        for cell in row.cells:
            assert (round(cell.share, 4), cell.colour) == (
                flat[cell.format], flat[f"{cell.format}_colour"],
            )  # fmt: skip
    assert [c.colour for c in mine[[r.slug for r in mine].index("sales")].cells][:2] == [
        "amber", "amber",
    ]  # fmt: skip


def test_partner_page_lists_the_first_of_a_large_role_and_links_to_the_rest(
    world: World, client: FlaskClient
) -> None:
    world.many_contacts(30, ["sales"])
    bulk = partner_id(world, "Bulk bulk.example")
    with world.session() as session:
        detail = partner_detail(session, bulk, per_role=25)
    sales = next(g for g in detail.groups if g.slug == "sales")
    assert (sales.total, len(sales.contacts), sales.more) == (30, 25, 5)
    html = page(client, f"/partners/{bulk}")
    assert f'href="/contacts?partner={bulk}&amp;role=sales">See all 30 sales contacts' in html


def test_partner_page_without_contacts_says_how_to_add_them(
    world: World, client: FlaskClient
) -> None:
    with world.session() as session:
        session.add(Partner(name="Initech", tier="gold", type="msp", region="APAC", tags=[]))
    html = page(client, f"/partners/{partner_id(world, 'Initech')}")
    assert "No contacts at Initech yet." in html
    assert "<code>commhub contacts import contacts.csv</code>" in html


def test_unknown_partner_is_a_404(world: World, client: FlaskClient) -> None:
    directory(world)
    page(client, "/partners/999999", status=404)
    page(client, "/partners/abc", status=404)


def test_contacts_without_a_role_have_their_own_group(world: World) -> None:
    world.contact("nobody@acme.example", [])
    world.contact("ana@acme.example", ["sales"])
    with world.session() as session:
        acme = session.scalar(select(Partner.id).where(Partner.name == "Acme Partners"))
        assert acme is not None
        detail = partner_detail(session, acme)
        assert [c.email for c in find_contacts(session, ContactFilter(role="sales"), 0, 10)] == [
            "ana@acme.example"
        ]
    roleless = detail.groups[-1]
    assert (roleless.slug, roleless.total) == (None, 1)
    assert [c.email for c in roleless.contacts] == ["nobody@acme.example"]

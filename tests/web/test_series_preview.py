"""The preview of a series' next edition in the browser, and a test sent from it."""

from __future__ import annotations

import email
from dataclasses import replace
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select

from commhub.store.models import AuditEntry, UserRole
from commhub.web import create_app
from tests.builders import World
from tests.web.staff import add_user, csrf_token, sign_in


def staff(world: World, role: UserRole = UserRole.EDITOR) -> FlaskClient:
    client = create_app(runtime=replace(world.runtime, clock=world.clock)).test_client()
    sign_in(client, add_user(world.runtime, role))
    return client


def newsletter(world: World) -> None:
    world.series(audiences=["sales", "technical"])
    world.item("deal-reg", ["sales"], title="Deal registration <b>now</b>")
    world.item("api-v3", ["technical"], title="API v3 is out")


def test_the_preview_shows_each_role_sets_email_at_two_widths(world: World) -> None:
    newsletter(world)
    client = staff(world, UserRole.VIEWER)
    both = client.get("/series/news/preview").get_data(as_text=True)
    assert both.count("<iframe") == 2
    assert "sandbox srcdoc=" in both
    assert (
        "Deal registration &amp;lt;b&amp;gt;now" in both
    )  # escaped twice: in the email, in srcdoc
    assert "API v3 is out" in both
    assert "sales,technical" in both
    sales = client.get("/series/news/preview?role=sales").get_data(as_text=True)
    assert "API v3 is out" not in sales
    assert "Deal registration" in sales
    assert "Send a test" not in sales  # a viewer reads; sending is an editor's


def test_with_nothing_for_a_role_set_the_preview_says_so(world: World) -> None:
    world.series(audiences=["sales", "executive"])
    world.item("deal-reg", ["sales"])
    page = staff(world).get("/series/news/preview?role=executive").get_data(as_text=True)
    assert "No email to show." in page
    assert "<iframe" not in page


def test_a_test_goes_out_through_the_back_end_and_is_logged(world: World, tmp_path: Path) -> None:
    newsletter(world)
    client = staff(world)
    token = csrf_token(client, "/account")
    answer = client.post(
        "/series/news/test", data={"csrf_token": token, "to": "me@vendor.example", "role": "sales"}
    )
    assert answer.status_code == 303
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Test of news (sales) sent to me@vendor.example via outbox." in page
    [written] = (world.runtime.settings.data_dir / "outbox" / "0").glob("*.eml")
    message = email.message_from_bytes(written.read_bytes())
    assert message["Subject"].startswith("[Test] ")
    assert message["To"] == "me@vendor.example"
    with world.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "series")).one()
        assert entry.actor == "editor@vendor.example"
        assert "to me@vendor.example: sent" in entry.summary


def test_a_bad_address_sends_nothing(world: World) -> None:
    newsletter(world)
    client = staff(world)
    token = csrf_token(client, "/account")
    answer = client.post("/series/news/test", data={"csrf_token": token, "to": "not an address"})
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "No test sent:" in page
    assert not (world.runtime.settings.data_dir / "outbox").exists()


def test_a_held_edition_is_previewed_with_its_approve_button(world: World) -> None:
    world.series(audiences=["sales"], requires_approval=True)
    world.item("deal-reg", ["sales"])
    world.contact("ann@partner.example", ["sales"])
    edition_id = world.prepare().edition.id
    page = staff(world).get("/series/news/preview").get_data(as_text=True)
    assert f"held edition {edition_id}" in page
    assert f'action="/editions/{edition_id}/approve"' in page

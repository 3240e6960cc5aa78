"""The endpoints behind a message's links, as a partner contact (or a link scanner) uses them."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from commhub.delivery.outbox import OutboxBackend
from commhub.render.tokens import TokenPurpose, Tokens, message_tokens
from commhub.store.models import Contact, ContactStatus, Event
from commhub.web import create_app
from tests.builders import World


@pytest.fixture
def sent(world: World, tmp_path: Path) -> World:
    """An edition sent to one contact (message 1), with one item (link 1)."""
    world.series(audiences=["sales"])
    world.item(
        "deal-reg",
        ["sales"],
        title="Deal registration",
        url="https://partners.example/deal",
        priority=1,
    )
    world.item("no-page", ["sales"], title="Office hours", url=None, body_html="<p>Tuesdays.</p>")
    world.contact("ana@p.example", ["sales"], first_name='Ana <"&>')
    edition_id = world.prepare().edition.id
    world.send(edition_id, OutboxBackend(tmp_path / "outbox"))
    return world


@pytest.fixture
def client(sent: World) -> FlaskClient:
    return create_app(runtime=sent.runtime).test_client()


@pytest.fixture
def token(sent: World) -> str:
    return message_tokens(sent.runtime.settings.secret_keys).sign(1)


def contact_status(world: World) -> ContactStatus:
    with world.session() as session:
        status = session.scalar(select(Contact.status).where(Contact.email == "ana@p.example"))
    assert status is not None
    return status


def test_a_get_of_the_unsubscribe_link_only_asks(
    client: FlaskClient, sent: World, token: str
) -> None:
    page = client.get(f"/u/{token}")
    assert page.status_code == 200
    assert "Unsubscribe from all emails" in page.get_data(as_text=True)
    assert contact_status(sent) is ContactStatus.ACTIVE


def test_a_one_click_post_without_cookies_unsubscribes_at_once(
    client: FlaskClient, sent: World, token: str
) -> None:
    response = client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert "You are unsubscribed" in response.get_data(as_text=True)
    assert contact_status(sent) is ContactStatus.UNSUBSCRIBED
    client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
    with sent.session() as session:
        events = session.scalars(select(Event.kind)).all()
    assert events == ["unsubscribe"], "a second click records nothing more"


def test_token_pages_keep_the_token_out_of_referrers_and_caches(
    client: FlaskClient, token: str
) -> None:
    for path in (f"/u/{token}", f"/p/{token}", f"/w/{token}", f"/t/v/{token}/1/yes"):
        headers = client.get(path).headers
        assert headers["Referrer-Policy"] == "no-referrer", path
        assert headers["Cache-Control"] == "no-store", path


@pytest.mark.parametrize(
    "path",
    ["/u/{t}x", "/u/{o}", "/p/{o}", "/w/{f}", "/t/c/{f}/1", "/t/o/{f}.gif", "/u/preview", "/u/MQ"],
)
def test_forged_altered_and_foreign_tokens_get_a_404_and_change_nothing(
    client: FlaskClient, sent: World, token: str, path: str
) -> None:
    other_purpose = Tokens(sent.runtime.settings.secret_keys, TokenPurpose.CALENDAR).sign(1)
    forged = message_tokens(["another-installation-key-0123456789-abcdef"]).sign(1)
    url = path.format(t=token, o=other_purpose, f=forged)
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code in (404, 405)
        assert "Location" not in response.headers
    assert contact_status(sent) is ContactStatus.ACTIVE


def test_a_retired_key_still_verifies_old_links(sent: World) -> None:
    from dataclasses import replace

    old = message_tokens(sent.runtime.settings.secret_keys).sign(1)
    rotated = replace(
        sent.runtime.settings,
        secret_keys=(
            "a-brand-new-key-0123456789-abcdefghijklmn",
            *sent.runtime.settings.secret_keys,
        ),
    )
    from commhub.wiring import build_runtime

    runtime = build_runtime(rotated)
    try:
        assert create_app(runtime=runtime).test_client().get(f"/u/{old}").status_code == 200
    finally:
        runtime.close()


def test_a_click_goes_only_to_the_url_stored_for_that_link(client: FlaskClient, token: str) -> None:
    response = client.get(f"/t/c/{token}/1?url=https://evil.example")
    assert response.status_code == 302
    assert response.headers["Location"] == (
        "https://partners.example/deal"
        "?utm_source=commhub&utm_medium=email&utm_campaign=news&utm_content=sales"
    )
    assert client.get(f"/t/c/{token}/99").status_code == 404
    assert client.get(f"/t/c/{token}/2").status_code == 404  # an item without a page


def test_a_token_opens_only_the_links_its_own_message_holds(world: World, tmp_path: Path) -> None:
    world.series(audiences=["sales", "technical"])
    world.item("for-sales", ["sales"], url="https://partners.example/sales")
    world.item("for-tech", ["technical"], url="https://partners.example/tech")
    world.contact("seller@p.example", ["sales"])
    world.contact("engineer@p.example", ["technical"])
    edition_id = world.prepare().edition.id
    world.send(edition_id, OutboxBackend(tmp_path / "outbox"))
    seller = world.messages(edition_id)["seller@p.example"]
    token = message_tokens(world.runtime.settings.secret_keys).sign(seller.id)
    client = create_app(runtime=world.runtime).test_client()

    targets = {client.get(f"/t/c/{token}/{n}").headers.get("Location") for n in (1, 2)}

    assert {t.split("?")[0] if t else t for t in targets} == {
        "https://partners.example/sales",
        None,
    }


def test_the_open_pixel_is_a_gif(client: FlaskClient, token: str) -> None:
    response = client.get(f"/t/o/{token}.gif")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/gif"
    assert response.data.startswith(b"GIF89a")


def test_a_vote_link_asks_for_a_click_so_a_scanner_casts_nothing(
    client: FlaskClient, token: str
) -> None:
    asked = client.get(f"/t/v/{token}/1/no").get_data(as_text=True)
    assert "Was this relevant to you?" in asked
    assert "No, not relevant" in asked
    assert "Thank you" in client.post(f"/t/v/{token}/1/no").get_data(as_text=True)
    assert client.get(f"/t/v/{token}/1/maybe").status_code == 404


def test_the_web_version_is_the_contacts_own_message_with_names_escaped(
    client: FlaskClient, token: str
) -> None:
    response = client.get(f"/w/{token}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Hi Ana &lt;&quot;&amp;&gt;," in html
    assert f"/t/c/{token}/1" in html
    assert "%%" not in html
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_the_preference_page_shows_the_contacts_roles(client: FlaskClient, token: str) -> None:
    page = client.get(f"/p/{token}").get_data(as_text=True)
    assert "Sales" in page
    assert "a•••@p.example" in page


def test_the_invalid_link_page_explains_previews(client: FlaskClient) -> None:
    page = client.get("/u/preview").get_data(as_text=True)
    assert "preview or a test email" in page

"""The preference centre: roles, formats and a pause, saved at once from the token's page and
honoured by the next send."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from commhub.delivery.outbox import OutboxBackend
from commhub.render.tokens import message_tokens
from commhub.store.models import Contact, Event, MessageStatus, SkipReason
from commhub.web import create_app
from tests.builders import NOW, World


@pytest.fixture
def sent(world: World, tmp_path: Path) -> World:
    world.series(audiences=["sales", "technical"])
    world.item("deal-reg", ["sales"])
    world.contact("ana@p.example", ["sales"])
    world.send(world.prepare().edition.id, OutboxBackend(tmp_path / "outbox"))
    return world


def page(world: World) -> tuple[FlaskClient, str]:
    token = message_tokens(world.runtime.settings.secret_keys).sign(1)
    return create_app(runtime=world.runtime).test_client(), f"/p/{token}"


def contact(world: World) -> Contact:
    with world.session() as session:
        found = session.scalar(select(Contact).where(Contact.email == "ana@p.example"))
        assert found is not None
        _ = found.roles  # loaded while the session is open
        return found


def checked(html: str, name: str) -> set[str]:
    return set(re.findall(rf'name="{name}" value="([a-z_]+)" checked', html))


def test_the_page_shows_the_current_choices(sent: World) -> None:
    client, url = page(sent)
    html = client.get(url).get_data(as_text=True)
    assert checked(html, "roles") == {"sales"}
    assert checked(html, "formats") == {"newsletter", "video_digest", "social", "feed"}


def test_choices_are_saved_at_once_without_a_session_and_shown_back(sent: World) -> None:
    client, url = page(sent)
    answer = client.post(
        url, data={"roles": ["technical", "development"], "formats": ["newsletter"], "pause": "30"}
    )
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "Saved." in html
    assert checked(html, "roles") == {"technical", "development"}
    saved = contact(sent)
    assert sorted(a.slug for a in saved.roles) == ["development", "technical"]
    assert saved.opted_out_channels == ["feed", "social", "video_digest"]
    assert saved.paused_until is not None
    assert saved.paused_until > date.today()
    with sent.session() as session:
        [event] = session.scalars(select(Event).where(Event.kind == "preferences")).all()
        assert event.data["roles"] == ["development", "technical"]


@pytest.mark.parametrize(
    ("form", "says"),
    [
        ({"roles": [], "formats": ["newsletter"], "pause": "0"}, "choose at least one role"),
        ({"roles": ["plumbers"], "pause": "0"}, "unknown choice: plumbers"),
        ({"roles": ["sales"], "formats": ["fax"], "pause": "0"}, "unknown choice: fax"),
        ({"roles": ["sales"], "pause": "7"}, "choose one of the pauses offered"),
        ({"roles": ["sales"], "pause": "soon"}, "choose a pause offered"),
    ],
)
def test_a_form_that_cannot_be_saved_says_why_and_changes_nothing(
    sent: World, form: dict[str, object], says: str
) -> None:
    client, url = page(sent)
    answer = client.post(url, data=form)
    assert answer.status_code == 400
    assert says in answer.get_data(as_text=True)
    unchanged = contact(sent)
    assert [a.slug for a in unchanged.roles] == ["sales"]
    assert unchanged.opted_out_channels == []


def test_the_next_send_honours_the_new_choices(sent: World, tmp_path: Path) -> None:
    client, url = page(sent)
    client.post(url, data={"roles": ["sales"], "formats": ["feed"], "pause": "0"})
    sent.item("roadmap", ["sales"], published=NOW)
    sent.clock.current += timedelta(days=1)
    edition_id = sent.prepare().edition.id
    sent.send(edition_id, OutboxBackend(tmp_path / "outbox"))
    message = sent.messages(edition_id)["ana@p.example"]
    assert (message.status, message.skip_reason) == (MessageStatus.SKIPPED, SkipReason.OPTED_OUT)


def test_a_forged_token_cannot_post_preferences(sent: World) -> None:
    client, url = page(sent)
    answer = client.post(url[:-3] + "AAA", data={"roles": ["technical"], "pause": "0"})
    assert answer.status_code == 404
    assert [a.slug for a in contact(sent).roles] == ["sales"]

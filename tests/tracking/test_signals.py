"""Opens, clicks and votes behind a message's links are stored as events, machines flagged."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from commhub.delivery.outbox import OutboxBackend
from commhub.render.tokens import message_tokens
from commhub.store.models import ContentItem, Event
from commhub.tracking.signals import with_utm
from commhub.web import create_app
from tests.builders import World

APPLE = "17.58.1.1"
PERSON = "203.0.113.9"


@pytest.fixture
def sent(world: World, tmp_path: Path) -> World:
    world.series(audiences=["sales"])
    world.item("deal-reg", ["sales"], url="https://partners.example/deal?utm_source=crm")
    world.contact("ana@p.example", ["sales"])
    world.send(world.prepare().edition.id, OutboxBackend(tmp_path / "outbox"))
    return world


def client_for(world: World, **settings: Any) -> FlaskClient:
    changed = dataclasses.replace(world.runtime.settings, **settings)
    runtime = dataclasses.replace(world.runtime, settings=changed, clock=world.clock)
    return create_app(runtime=runtime).test_client()


def token(world: World) -> str:
    return message_tokens(world.runtime.settings.secret_keys).sign(1)


def events(world: World, kind: str) -> list[Event]:
    with world.session() as session:
        return list(session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)))


def open_from(world: World, address: str, agent: str = "Mozilla/5.0", **settings: Any) -> None:
    client = client_for(world, **settings)
    response = client.get(
        f"/t/o/{token(world)}.gif", environ_base={"REMOTE_ADDR": address},
        headers={"User-Agent": agent},
    )  # fmt: skip
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_an_open_an_hour_after_delivery_is_a_persons(sent: World) -> None:
    sent.clock.current += timedelta(hours=1)
    open_from(sent, PERSON)
    [opened] = events(sent, "open")
    assert (opened.message_id, opened.format, opened.data) == (1, "email", {"machine": False})


@pytest.mark.parametrize(
    ("after", "address", "agent", "why"),
    [
        (timedelta(seconds=3), PERSON, "Mozilla/5.0", "within seconds of delivery"),
        (timedelta(hours=1), APPLE, "Mozilla/5.0", "a mail privacy proxy"),
        (timedelta(hours=1), PERSON, "Mozilla/5.0 (via ggpht.com GoogleImageProxy)",
         "a mail privacy proxy"),
    ],
)  # fmt: skip
def test_opens_that_look_automated_are_stored_but_flagged(
    sent: World, after: timedelta, address: str, agent: str, why: str
) -> None:
    sent.clock.current += after
    open_from(sent, address, agent)
    [opened] = events(sent, "open")
    assert opened.data == {"machine": True, "why": why}


def test_the_proxy_list_is_a_setting(sent: World, tmp_path: Path) -> None:
    ranges = tmp_path / "proxies.txt"
    ranges.write_text("# our own list\n203.0.113.0/24  # a test network\n")
    sent.clock.current += timedelta(hours=1)
    open_from(sent, PERSON, mail_proxy_ranges=ranges)
    open_from(sent, APPLE, mail_proxy_ranges=ranges)
    assert [e.data["machine"] for e in events(sent, "open")] == [True, False]


def test_a_click_is_stored_and_goes_to_the_stored_url_with_utm_tags(sent: World) -> None:
    client = client_for(sent)
    response = client.get(f"/t/c/{token(sent)}/1?url=//evil.example")
    assert response.status_code == 302
    # The URL's own utm_source stays; the rest are added.
    assert response.headers["Location"] == (
        "https://partners.example/deal?utm_source=crm&utm_medium=email&utm_campaign=news"
        "&utm_content=sales"
    )
    [click] = events(sent, "click")
    with sent.session() as session:
        item_id = session.scalar(select(ContentItem.id).where(ContentItem.slug == "deal-reg"))
    assert (click.content_item_id, click.data["link_id"]) == (item_id, 1)


def test_a_scanners_get_of_a_vote_link_records_nothing_and_the_button_does(
    sent: World,
) -> None:
    client = client_for(sent)
    page = client.get(f"/t/v/{token(sent)}/1/no")
    assert page.status_code == 200
    assert events(sent, "vote") == []
    assert client.post(f"/t/v/{token(sent)}/1/no").status_code == 200
    assert client.post(f"/t/v/{token(sent)}/1/yes").status_code == 200
    assert [v.data["answer"] for v in events(sent, "vote")] == ["no", "yes"]


def test_a_forged_token_records_nothing(sent: World) -> None:
    client = client_for(sent)
    forged = token(sent)[:-3] + "AAA"
    assert client.get(f"/t/o/{forged}.gif").status_code == 404
    assert client.get(f"/t/c/{forged}/1").status_code == 404
    assert client.post(f"/t/v/{forged}/1/yes").status_code == 404
    with sent.session() as session:
        assert session.scalars(select(Event)).all() == []


def test_utm_tags_join_a_query_and_keep_a_fragment() -> None:
    assert with_utm("https://x.example/p?a=1#top", "news", "email", "sales,technical") == (
        "https://x.example/p?a=1&utm_source=commhub&utm_medium=email&utm_campaign=news"
        "&utm_content=sales%2Btechnical#top"
    )

"""A contact's own feed: the items for their roles at a signed URL; a click in it counted
once per item as an `rss` exposure (a fetch counts nothing); 404 for a revoked feed, for a
contact who is unsubscribed, bounced or opted out of feeds, and for forged, foreign or
wrong-purpose tokens; empty while paused; gone with the contact on erasure."""

from __future__ import annotations

import dataclasses
import html
import re
from datetime import date, timedelta
from pathlib import Path

import feedparser  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import func, select

from commhub.cli import cli
from commhub.contacts.erasure import erase_contact
from commhub.delivery.outbox import OutboxBackend
from commhub.feeds import personal_feed_of, personal_feed_path, revoke_personal_feed
from commhub.render import calendar_tokens, message_tokens, personal_feed_tokens
from commhub.reports import heat_map, item_report
from commhub.store import (
    ContactStatus,
    ContentItem,
    ContentStatus,
    Event,
    Exposure,
    ExposureTally,
    Message,
    PersonalFeed,
)
from commhub.tracking import forget_contact
from commhub.web import create_app
from tests.builders import World

ANN = "ann@partner.example"


@pytest.fixture
def client(world: World) -> FlaskClient:
    return create_app(runtime=dataclasses.replace(world.runtime, clock=world.clock)).test_client()


def library(world: World) -> None:
    now = world.clock.now()
    world.item("tech-1", ["technical"], title="For technical", key_message="Patch early",
               url="https://vendor.example/tech-1", published=now - timedelta(days=2))  # fmt: skip
    world.item("sales-1", ["sales"], title="For sales", url="https://vendor.example/sales-1",
               published=now - timedelta(days=1))  # fmt: skip
    world.item("tech-draft", ["technical"], title="Not yet", status=ContentStatus.DRAFT)


def feed_path(world: World, email: str = ANN) -> str:
    with world.session() as session:
        feed = personal_feed_of(session, email, world.clock.now())
        return personal_feed_path(personal_feed_tokens(world.runtime.settings.secret_keys), feed)


def titles(client: FlaskClient, path: str) -> list[str]:
    answer = client.get(path)
    assert answer.status_code == 200, answer.status_code
    parsed = feedparser.parse(answer.data)
    assert not parsed.bozo, parsed.bozo_exception
    return [entry.title for entry in parsed.entries]


def test_the_feed_carries_the_items_for_the_contacts_roles(
    world: World, client: FlaskClient
) -> None:
    library(world)
    world.contact(ANN, ["technical"])
    path = feed_path(world)
    assert titles(client, path) == ["For technical"]
    answer = client.get(path)
    assert answer.mimetype == "application/atom+xml"
    assert "Set-Cookie" not in answer.headers
    # The same URL again: personal_feed_of keeps one live feed per contact.
    assert feed_path(world) == path


def test_a_click_counts_once_per_item_and_a_fetch_counts_nothing(
    world: World, client: FlaskClient
) -> None:
    library(world)
    world.contact(ANN, ["technical"])
    path = feed_path(world)
    for _ in range(3):
        titles(client, path)
    with world.session() as session:
        assert session.scalar(select(func.count(Event.id))) == 0
    entry = feedparser.parse(client.get(path).data).entries[0]
    click = entry.link.removeprefix(world.runtime.settings.base_url.rstrip("/"))
    for _ in range(2):
        answer = client.get(click)
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith("https://vendor.example/tech-1?")
        assert "utm_medium=rss" in answer.headers["Location"]
    with world.session() as session:
        assert session.scalar(select(func.count(Event.id))) == 2  # each click is an event
        exposures = session.scalars(select(Exposure)).all()
        assert [(e.format, e.source_kind) for e in exposures] == [("rss", "feed_item")]
        tally = session.scalar(select(ExposureTally))
        assert tally is not None
        assert tally.rss == 1
        # The item report counts the contact once, for the item's audience among their roles.
        reach = [(r.item, r.audience, r.feed_clicks) for r in item_report(session)]
        # And the partner heat map has the contact's role seen in the rss format.
        _roles, grids = heat_map(session)
    assert reach == [("tech-1", "technical", 1)]
    assert [grid.reached.get(("technical", "rss")) for grid in grids] == [1]


def test_a_click_goes_only_to_an_item_of_the_feed(world: World, client: FlaskClient) -> None:
    library(world)
    world.contact(ANN, ["technical"])
    path = feed_path(world)
    base = path.removesuffix(".atom")
    with world.session() as session:
        sales = session.scalar(select(ContentItem.id).where(ContentItem.slug == "sales-1"))
    assert client.get(f"{base}/{sales}").status_code == 404  # not for their roles
    assert client.get(f"{base}/999999").status_code == 404


@pytest.mark.parametrize(
    "change",
    [
        {"status": ContactStatus.UNSUBSCRIBED},
        {"status": ContactStatus.BOUNCED},
        {"opted_out_channels": ["feed"]},
    ],
    ids=["unsubscribed", "bounced", "opted-out"],
)
def test_the_feed_is_gone_when_the_contact_may_not_have_it(
    world: World, client: FlaskClient, change: dict[str, object]
) -> None:
    library(world)
    world.contact(ANN, ["technical"], **change)  # type: ignore[arg-type]
    assert client.get(feed_path(world)).status_code == 404


def test_paused_the_feed_is_empty(world: World, client: FlaskClient) -> None:
    library(world)
    world.contact(ANN, ["technical"], paused_until=date(2027, 1, 31))
    assert titles(client, feed_path(world)) == []


def test_a_revoked_feed_answers_404_and_the_new_one_works(
    world: World, client: FlaskClient
) -> None:
    library(world)
    world.contact(ANN, ["technical"])
    old = feed_path(world)
    with world.session() as session:
        new = revoke_personal_feed(session, ANN, world.clock.now())
        new_path = personal_feed_path(personal_feed_tokens(world.runtime.settings.secret_keys), new)
    assert client.get(old).status_code == 404
    assert titles(client, new_path) == ["For technical"]


def test_forged_foreign_and_wrong_purpose_tokens_get_404(world: World, client: FlaskClient) -> None:
    library(world)
    world.contact(ANN, ["technical"])
    path = feed_path(world)
    token = path.removeprefix("/feeds/c/").removesuffix(".atom")
    keys = world.runtime.settings.secret_keys
    with world.session() as session:
        name = session.scalar(select(PersonalFeed.name))
    assert name is not None
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    others = [
        forged,
        personal_feed_tokens(["another installation's key " + "x" * 20]).sign(name),
        calendar_tokens(keys).sign(name),  # a calendar token for the same name
        message_tokens(keys).sign(1),  # a message token
        "not-a-token",
    ]
    for other in others:
        assert client.get(f"/feeds/c/{other}.atom").status_code == 404, other
        assert client.get(f"/feeds/c/{other}/1").status_code == 404, other


def test_erasure_takes_the_feed_with_the_contact(world: World, client: FlaskClient) -> None:
    library(world)
    world.contact(ANN, ["technical"])
    path = feed_path(world)
    with world.session() as session:
        erase_contact(session, ANN, world.clock.now(), forget_contact)
    with world.session() as session:
        assert session.scalar(select(func.count(PersonalFeed.id))) == 0
    assert client.get(path).status_code == 404


def test_the_preference_centre_offers_the_feed_and_no_get_makes_one(
    world: World, client: FlaskClient, tmp_path: Path
) -> None:
    library(world)
    world.contact(ANN, ["technical"])
    world.series(audiences=["technical"])
    edition_id = world.prepare().edition.id
    world.send(edition_id, OutboxBackend(tmp_path / "outbox"))
    with world.session() as session:
        message_id = session.scalar(select(Message.id))
    assert message_id is not None
    token = message_tokens(world.runtime.settings.secret_keys).sign(message_id)
    page = client.get(f"/p/{token}").get_data(as_text=True)
    assert "Your own feed" in page
    assert "Make my feed" in page
    with world.session() as session:
        assert session.scalar(select(func.count(PersonalFeed.id))) == 0  # a GET made nothing
    answer = client.post(f"/p/{token}/feed")
    assert answer.status_code == 303
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    found = re.search(r'id="feed-url"[^>]* value="([^"]+)"', page)
    assert found, "no feed address on the page"
    url = html.unescape(found.group(1))
    assert url.startswith(world.runtime.settings.base_url.rstrip("/") + "/feeds/c/")
    assert titles(client, url.removeprefix(world.runtime.settings.base_url.rstrip("/"))) == [
        "For technical"
    ]
    # The email itself points there, in both parts.
    [written] = (tmp_path / "outbox" / str(edition_id)).glob("*.eml")
    assert "#feed" in written.read_text(encoding="utf-8", errors="replace")


def test_the_cli_prints_and_replaces_a_contacts_feed_url(world: World, tmp_path: Path) -> None:
    world.contact(ANN, ["technical"])
    runner = CliRunner()
    settings = world.runtime.settings
    env = {
        "COMMHUB_DATA_DIR": str(settings.data_dir),
        "COMMHUB_DATABASE_URL": settings.database_url,
        "COMMHUB_SECRET_KEY": ",".join(settings.secret_keys),
    }
    first = runner.invoke(cli, ["feeds", "personal", ANN], env=env)
    assert first.exit_code == 0, first.output
    again = runner.invoke(cli, ["feeds", "personal", ANN], env=env)
    assert again.stdout == first.stdout
    replaced = runner.invoke(cli, ["feeds", "revoke-personal", ANN], env=env)
    assert replaced.exit_code == 0
    assert replaced.stdout != first.stdout
    assert "the old URL now answers 404" in replaced.stderr
    unknown = runner.invoke(cli, ["feeds", "personal", "nobody@partner.example"], env=env)
    assert unknown.exit_code == 1
    assert "no contact nobody@partner.example" in unknown.stderr

"""Per series over time: each started edition's figures, counted once per message from the
provider's events and commhub's own, in a bounded number of queries."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import event, select

from commhub.delivery.outbox import OutboxBackend
from commhub.delivery.post_outbox import OutboxPoster
from commhub.delivery.sender import installation_id
from commhub.editions import release_edition
from commhub.render import message_tokens
from commhub.reports import SERIES_COLUMNS, EditionFigures, series_history, started_series
from commhub.store import Edition, EditionState, SocialPost
from commhub.tracking import record_events
from commhub.web import create_app
from tests.builders import World

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0"}
PREVIEW = {"User-Agent": "Mastodon/4.3 (http.rb/5.2; +https://social.example/)"}


def provider(world: World, *events: tuple[str, int, dict[str, Any]]) -> None:
    """SendGrid's events (kind, message id, extra fields), recorded as the webhook does."""
    installation = installation_id(world.runtime.settings.secret_key)
    stamp = int(world.clock.now().timestamp())
    batch = [
        {
            "event": kind,
            "timestamp": stamp + n,
            "sg_event_id": f"e{n}-{kind}-{message}",
            "commhub_message_id": str(message),
            "commhub_installation": installation,
            **extra,
        }
        for n, (kind, message, extra) in enumerate(events)
    ]
    with world.session() as session:
        report = record_events(session, batch, installation, world.clock.now())
    assert report.stored == len(batch), report


def web(world: World) -> FlaskClient:
    return create_app(runtime=dataclasses.replace(world.runtime, clock=world.clock)).test_client()


def send(world: World, tmp_path: Path, slug: str = "news") -> int:
    """The series' next edition, prepared and sent (released first if complaints held it)."""
    edition_id = world.prepare(slug).edition.id
    with world.session() as session:
        edition = session.get(Edition, edition_id)
        if edition is not None and edition.state is EditionState.HELD:
            release_edition(session, edition_id, world.clock.now())
    world.send(edition_id, OutboxBackend(tmp_path / "outbox"))
    return edition_id


def two_editions(world: World, tmp_path: Path) -> tuple[int, int]:
    """Two editions of "news" a day apart. The first, to ana, ben, cleo and dan: delivered to
    ana, ben and dan; ana opens it twice and clicks, ben's open is a machine's and he clicks
    through commhub's link, then reports spam; cleo bounces; dan unsubscribes; ana votes on
    both items, changing her mind on one. The second goes to those still subscribed (ana)
    and to eve, who joined since, through a back end that reports no deliveries."""
    world.series(audiences=["sales"])
    world.item("price-update", ["sales"], priority=2)
    world.item("roadmap", ["sales"], priority=1)
    for name in ("ana", "ben", "cleo", "dan"):
        world.contact(f"{name}@p.example", ["sales"])
    first = send(world, tmp_path)
    ids = {a.split("@")[0]: m.id for a, m in world.messages(first).items()}
    world.clock.current += timedelta(minutes=5)
    provider(
        world,
        ("delivered", ids["ana"], {}),
        ("delivered", ids["ben"], {}),
        ("delivered", ids["dan"], {}),
        ("open", ids["ana"], {"sg_machine_open": False}),
        ("open", ids["ana"], {}),
        ("open", ids["ben"], {"sg_machine_open": True}),
        ("click", ids["ana"], {"url": "https://partners.example/price-update"}),
        ("bounce", ids["cleo"], {"type": "bounce", "reason": "550 no such user"}),
        ("unsubscribe", ids["dan"], {}),
        ("spamreport", ids["ben"], {}),
    )
    world.click_first_link(first, "ben@p.example")
    client = web(world)
    ana = message_tokens(world.runtime.settings.secret_keys).sign(ids["ana"])
    for link, answer in ((1, "yes"), (2, "yes"), (2, "no")):
        assert client.post(f"/t/v/{ana}/{link}/{answer}").status_code < 400
    world.clock.current += timedelta(days=1)
    world.item("launch", ["sales"], published=world.clock.now() - timedelta(hours=1))
    world.contact("eve@p.example", ["sales"])
    second = send(world, tmp_path)
    return first, second


def test_each_started_edition_with_its_figures_oldest_first(world: World, tmp_path: Path) -> None:
    first, second = two_editions(world, tmp_path)
    with world.session() as session:
        older, newer = series_history(session, "news")
    assert (older.edition_id, newer.edition_id) == (first, second)
    assert (older.series_slug, older.series_name, older.channel) == (
        "news", "Partner News", "newsletter",
    )  # fmt: skip
    assert older.started_at < newer.started_at
    assert dataclasses.replace(older, started_at=newer.started_at) == EditionFigures(
        edition_id=first, series_slug="news", series_name="Partner News",
        channel="newsletter", started_at=newer.started_at, recipients=4, delivered=3,
        delivered_from="delivered events", human_opens=1, clicks=2, votes=2,
        unsubscribes=1, bounces=1, complaints=1,
    )  # fmt: skip
    # ben complained, cleo bounced, dan left: the second went to ana and eve, and the outbox
    # reports no deliveries, so the messages sent stand for them.
    assert (newer.recipients, newer.delivered, newer.delivered_from) == (2, 2, "sent")
    assert (newer.human_opens, newer.clicks, newer.votes, newer.complaints) == (0, 0, 0, 0)


def test_the_newest_editions_of_each_series_or_of_one(world: World, tmp_path: Path) -> None:
    first, second = two_editions(world, tmp_path)
    world.series("digest", audiences=["sales"], name="Deal Digest")
    third = world.prepare("digest").edition.id
    with world.session() as session:
        assert [f.edition_id for f in series_history(session)] == [first, second, third]
        assert [f.edition_id for f in series_history(session, limit=1)] == [second, third]
        assert [f.edition_id for f in series_history(session, "news", limit=1)] == [second]
        assert series_history(session, "no-such-series") == []
        assert started_series(session) == [("digest", "Deal Digest"), ("news", "Partner News")]


def test_a_social_edition_counts_its_posts_and_the_clicks_on_them(
    world: World, tmp_path: Path
) -> None:
    world.item("guide", ["sales"], title="Deal registration guide")
    world.item("webinar", ["technical"], title="Webinar")
    world.social_series(accounts=[{"network": "mastodon", "name": "vendor", "audiences": "all"}])
    edition_id = world.prepare("social").edition.id
    world.post(edition_id, lambda network, _a: OutboxPoster(tmp_path / "social", network))
    with world.session() as session:
        links = {p.item.slug: p.link for p in session.scalars(select(SocialPost))}
    base = world.runtime.settings.base_url.rstrip("/")
    client = web(world)
    for slug, headers in (("guide", BROWSER), ("guide", BROWSER), ("webinar", PREVIEW)):
        assert client.get(links[slug].removeprefix(base), headers=headers).status_code == 302
    with world.session() as session:
        [social] = series_history(session, "social")
    assert (social.channel, social.posts, social.post_clicks) == ("social", 2, 2)
    assert (social.recipients, social.delivered, social.human_opens) == (0, 0, 0)


@contextmanager
def counting(world: World) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(world.runtime.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(world.runtime.engine, "before_cursor_execute", count)


def test_a_bounded_number_of_queries_however_many_editions(world: World, tmp_path: Path) -> None:
    two_editions(world, tmp_path)
    with world.session() as session, counting(world) as two:
        series_history(session)
    for _ in range(3):
        world.clock.current += timedelta(days=1)
        world.item(f"more-{_}", ["sales"], published=world.clock.now() - timedelta(hours=1))
        send(world, tmp_path)
    with world.session() as session, counting(world) as five:
        assert len(series_history(session)) == 5
    assert len(two) == len(five) <= 6


def test_a_row_per_edition_in_the_download_columns(world: World, tmp_path: Path) -> None:
    first, _second = two_editions(world, tmp_path)
    with world.session() as session:
        row = series_history(session)[0].as_row()
    assert list(row) == SERIES_COLUMNS
    assert (row["edition_id"], row["series"], row["unique_human_opens"]) == (first, "news", 1)
    assert (row["delivered"], row["delivered_from"]) == (3, "delivered events")
    assert isinstance(row["started_at"], str)
    assert row["started_at"].startswith("2026-11-23T09:0")

"""The public audience feeds, /feeds/<audience>.rss|.atom, and the page listing them, /feeds:
what a feed reader (no account, no cookies) gets, and how cheaply it polls."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import feedparser  # type: ignore[import-untyped]
import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import delete, select

from commhub.store.models import Audience, ContentItem, ContentKind, ContentStatus
from commhub.web import create_app, public_feeds
from tests.builders import NOW, World

AUDIENCES = ["development", "executive", "marketing", "sales", "technical"]
HOSTILE_TITLE = "<script>alert(1)</script>"
BASE = "http://127.0.0.1:5000"  # the test settings' base URL


@pytest.fixture
def library(world: World) -> World:
    """Published items for several audiences, and every kind of item a feed must leave out."""
    hour = timedelta(hours=1)
    world.item("sales-old", ["sales"], published=NOW - 72 * hour)
    world.item("sales-new", ["sales"], published=NOW - hour, url="https://p.example/deal?ref=x")
    world.item("sales-and-marketing", ["sales", "marketing"], published=NOW - 2 * hour)
    world.item("sales-draft", ["sales"], status=ContentStatus.DRAFT)
    world.item("sales-archived", ["sales"], status=ContentStatus.ARCHIVED)
    world.item("sales-expired", ["sales"], published=NOW - 48 * hour, expires=NOW - hour)
    world.item("sales-future", ["sales"], published=NOW + hour)
    world.item("sales-no-time", ["sales"], published=None)
    world.item(
        "marketing-video",
        ["marketing"],
        kind=ContentKind.VIDEO,
        url=None,
        video_url="https://videos.example/launch.mp4",
        thumbnail_url="https://videos.example/launch.jpg",
        duration_seconds=300,
    )
    world.item("marketing-no-link", ["marketing"], url=None, published=NOW - 3 * hour)
    world.item("technical-hostile", ["technical"], title=HOSTILE_TITLE)
    world.item("for-no-one", [])
    return world


@pytest.fixture
def client(world: World) -> FlaskClient:
    """An anonymous client, on an app whose clock is the world's."""
    return create_app(runtime=dataclasses.replace(world.runtime, clock=world.clock)).test_client()


def feed(client: FlaskClient, path: str, **headers: str) -> Any:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, path
    result = feedparser.parse(response.data)
    assert result.bozo == 0, (path, result.get("bozo_exception"))
    return result


def ids_of(result: Any) -> list[int]:
    return [int(entry.id.rsplit("/", 1)[-1]) for entry in result.entries]


def expected_ids(world: World, audiences: list[str], now: datetime = NOW) -> list[int]:
    """What the library holds for these audiences, published and in its window, newest first:
    worked out here in Python, apart from the SQL under test."""
    with world.session() as session:
        items = session.scalars(select(ContentItem)).all()
        live = [
            item
            for item in items
            if item.status is ContentStatus.PUBLISHED
            and (item.publish_at is None or item.publish_at <= now)
            and (item.expires_at is None or item.expires_at > now)
            and {a.slug for a in item.audiences} & set(audiences)
        ]
        live.sort(key=lambda i: (i.publish_at or i.created_at, i.created_at, i.id), reverse=True)
        return [item.id for item in live]


def id_of(world: World, slug: str) -> int:
    with world.session() as session:
        found = session.scalar(select(ContentItem.id).where(ContentItem.slug == slug))
    assert found is not None
    return found


@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_each_audience_feed_holds_its_published_items_newest_first(
    client: FlaskClient, library: World, audience: str, kind: str
) -> None:
    result = feed(client, f"/feeds/{audience}.{kind}")
    assert result.version == ("rss20" if kind == "rss" else "atom10")
    assert ids_of(result) == expected_ids(library, [audience])


def test_drafts_archived_expired_and_future_items_stay_out(
    client: FlaskClient, library: World
) -> None:
    shown = set(ids_of(feed(client, "/feeds/sales.atom")))
    for slug in ("sales-draft", "sales-archived", "sales-expired", "sales-future"):
        assert id_of(library, slug) not in shown, slug
    for slug in ("sales-old", "sales-new", "sales-and-marketing", "sales-no-time"):
        assert id_of(library, slug) in shown, slug


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_the_all_feed_holds_every_audience_s_items(
    client: FlaskClient, library: World, kind: str
) -> None:
    shown = ids_of(feed(client, f"/feeds/all.{kind}"))
    assert shown == expected_ids(library, AUDIENCES)
    assert id_of(library, "for-no-one") not in shown  # an item for no one goes nowhere


def test_a_feed_holds_the_newest_fifty_items(client: FlaskClient, world: World) -> None:
    for n in range(55):
        world.item(f"exec-{n:02}", ["executive"], published=NOW - timedelta(minutes=n))
    shown = ids_of(feed(client, "/feeds/executive.rss"))
    assert len(shown) == 50
    assert shown == [id_of(world, f"exec-{n:02}") for n in range(50)]


@pytest.mark.parametrize("path", ["/feeds/nobody.rss", "/feeds/nobody.atom", "/feeds/sales.json"])
def test_an_unknown_audience_or_format_is_a_404(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_links_go_to_the_item_itself_with_utm_tags_naming_the_feed(
    client: FlaskClient, library: World
) -> None:
    sales = {e.title: e.link for e in feed(client, "/feeds/sales.rss").entries}
    deal = urlsplit(sales["Sales New"])
    assert (deal.scheme, deal.netloc, deal.path) == ("https", "p.example", "/deal")
    assert parse_qs(deal.query) == {
        "ref": ["x"],  # the URL's own query is kept
        "utm_source": ["commhub"],
        "utm_medium": ["rss"],
        "utm_campaign": ["sales"],
    }
    everything = {e.title: e.link for e in feed(client, "/feeds/all.atom").entries}
    video = urlsplit(everything["Marketing Video"])  # no page of its own: its video
    assert (video.netloc, video.path) == ("videos.example", "/launch.mp4")
    assert parse_qs(video.query)["utm_campaign"] == ["all"]
    # Neither: the library's pages are for staff, so the site itself.
    assert everything["Marketing No Link"] == BASE


def test_a_video_carries_its_enclosure_and_thumbnail(client: FlaskClient, library: World) -> None:
    for kind in ("rss", "atom"):
        video = next(
            e
            for e in feed(client, f"/feeds/marketing.{kind}").entries
            if e.title == "Marketing Video"
        )
        assert [(e.href, e.type) for e in video.enclosures] == [
            ("https://videos.example/launch.mp4", "video/mp4")
        ]
        assert video.media_thumbnail == [{"url": "https://videos.example/launch.jpg"}]


def test_a_hostile_title_from_the_library_comes_out_escaped(
    client: FlaskClient, library: World
) -> None:
    for kind in ("rss", "atom"):
        body = client.get(f"/feeds/technical.{kind}").data
        assert b"<script" not in body
        root = ET.fromstring(body)  # noqa: S314 - our own output
        assert not [e for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "script"]
        assert HOSTILE_TITLE in [feed_entry.title for feed_entry in feedparser.parse(body).entries]


def test_a_feed_needs_no_sign_in_and_sets_no_cookie(client: FlaskClient, library: World) -> None:
    for path, mimetype in (
        ("/feeds/sales.rss", "application/rss+xml"),
        ("/feeds/sales.atom", "application/atom+xml"),
        ("/feeds/all.rss", "application/rss+xml"),
        ("/feeds", "text/html"),
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == mimetype
        assert response.mimetype_params.get("charset") == "utf-8"
        assert "Set-Cookie" not in response.headers, path
    headers = client.get("/feeds/sales.rss").headers
    assert headers["Cache-Control"] == "public, max-age=300"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["ETag"]
    assert headers["Last-Modified"]


def test_a_poll_with_the_etag_gets_an_empty_304_without_building_the_feed(
    client: FlaskClient, library: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = client.get("/feeds/sales.atom")
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    monkeypatch.setattr(public_feeds, "feed_document", _refuse_to_build)
    again = client.get("/feeds/sales.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == "public, max-age=300"
    since = client.get("/feeds/sales.atom", headers={"If-Modified-Since": last_modified})
    assert since.status_code == 304
    assert since.data == b""


def test_a_feed_built_once_is_kept_for_the_next_reader_until_its_items_change(
    client: FlaskClient, library: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[object] = []
    real = public_feeds.feed_document

    def counting(*args: Any, **kwargs: Any) -> bytes | None:
        built.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(public_feeds, "feed_document", counting)
    first = client.get("/feeds/sales.atom")
    again = client.get("/feeds/sales.atom")  # another reader: no validators
    assert again.status_code == 200
    assert again.data == first.data
    assert built == ["sales"]  # built once
    library.item("sales-newest", ["sales"], published=NOW - timedelta(minutes=5))
    changed = client.get("/feeds/sales.atom")
    assert built == ["sales", "sales"]  # changed: built afresh, never the kept one
    assert id_of(library, "sales-newest") in ids_of(feedparser.parse(changed.data))


def test_a_change_to_the_feed_changes_its_etag_and_the_whole_feed_comes_back(
    client: FlaskClient, library: World
) -> None:
    first = client.get("/feeds/sales.rss")
    library.item("sales-newest", ["sales"], published=NOW - timedelta(minutes=5))
    after = client.get("/feeds/sales.rss", headers={"If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != first.headers["ETag"]
    assert ids_of(feedparser.parse(after.data))[0] == id_of(library, "sales-newest")
    # Another audience's items leave this feed's validator alone.
    library.item("technical-newest", ["technical"])
    same = client.get("/feeds/sales.rss", headers={"If-None-Match": after.headers["ETag"]})
    assert same.status_code == 304


def test_an_archived_item_changes_the_etag(client: FlaskClient, library: World) -> None:
    first = client.get("/feeds/sales.atom")
    with library.session() as session:
        item = session.scalars(select(ContentItem).where(ContentItem.slug == "sales-old")).one()
        item.status = ContentStatus.ARCHIVED
    after = client.get("/feeds/sales.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200
    assert id_of(library, "sales-old") not in ids_of(feedparser.parse(after.data))


def test_an_item_expiring_is_news_to_a_reader_polling_by_date(
    client: FlaskClient, world: World
) -> None:
    # The clock at the wall's time, as in production: edits are stamped with it.
    world.clock.current = datetime.now(UTC).replace(microsecond=0)
    soon = world.clock.current + timedelta(minutes=1)
    world.item("short-lived", ["sales"], published=world.clock.current - timedelta(days=1))
    world.item("brief", ["sales"], published=world.clock.current - timedelta(hours=1), expires=soon)
    first = client.get("/feeds/sales.atom")
    world.clock.current += timedelta(minutes=2)
    after = client.get(
        "/feeds/sales.atom", headers={"If-Modified-Since": first.headers["Last-Modified"]}
    )
    assert after.status_code == 200
    assert ids_of(feedparser.parse(after.data)) == [id_of(world, "short-lived")]


class _Page(HTMLParser):
    """The links, alternate link tags and h1s of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.alternates: set[tuple[str, str]] = set()
        self.links: set[str] = set()
        self.h1s = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "link" and found.get("rel") == "alternate":
            self.alternates.add((found["type"] or "", found["href"] or ""))
        if tag == "a" and found.get("href"):
            self.links.add(found["href"] or "")
        self.h1s += tag == "h1"


def page(client: FlaskClient) -> tuple[str, _Page]:
    response = client.get("/feeds")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    parsed = _Page()
    parsed.feed(text)
    parsed.close()
    return text, parsed


def test_the_feeds_page_lists_every_audience_s_feeds_with_alternate_links(
    client: FlaskClient, library: World
) -> None:
    text, parsed = page(client)
    assert parsed.h1s == 1
    with library.session() as session:
        audiences = session.scalars(select(Audience)).all()
        names = [(a.name, a.description) for a in audiences]
    assert len(names) == len(AUDIENCES)
    for name, description in names:
        assert str(escape(name)) in text
        assert str(escape(description)) in text
    for slug in [*AUDIENCES, "all"]:
        assert f"/feeds/{slug}.rss" in parsed.links
        assert f"/feeds/{slug}.atom" in parsed.links
        assert ("application/rss+xml", f"/feeds/{slug}.rss") in parsed.alternates
        assert ("application/atom+xml", f"/feeds/{slug}.atom") in parsed.alternates
    for href in parsed.links - {"/static/commhub.css"}:
        assert client.get(href).status_code == 200, href


def test_the_feeds_page_says_so_when_there_are_no_audiences(
    client: FlaskClient, world: World
) -> None:
    with world.session() as session:
        session.execute(delete(Audience))
    text, parsed = page(client)
    assert "No audiences yet." in text
    assert parsed.links == {"/feeds/all.rss", "/feeds/all.atom"}
    assert feed(client, "/feeds/all.atom").entries == []


def _refuse_to_build(*_args: object, **_kwargs: object) -> bytes:
    raise AssertionError("a feed was built for a conditional request that matched")

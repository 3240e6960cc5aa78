"""commhub.feeds.writing: plain values in, RSS 2.0 and Atom 1.0 out, every text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser  # type: ignore[import-untyped]
import pytest

from commhub.feeds.writing import FeedKind, OutFeed, OutItem, render_feed

ATOM = "{http://www.w3.org/2005/Atom}"
MEDIA = "{http://search.yahoo.com/mrss/}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
HOSTILE_TITLE = "<script>alert(1)</script>"
HOSTILE_SUMMARY = '<img src=x onerror="alert(2)"> & more'
HOSTILE_BODY = "<p>Fine</p><script>alert(3)</script>"
WHEN = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
HOME = "https://hub.example"


def item(number: int, published: datetime, **fields: Any) -> OutItem:
    values: dict[str, Any] = {
        "id": f"tag:hub.example,2026:commhub/item/{number}",
        "title": f"Item {number}",
        "link": f"https://partners.example/{number}?utm_source=commhub&x=1",
        "summary": f"About item {number}.",
        "content_html": f"<p>Body of item {number}.</p>",
        "author": None,
        "published": published,
        "updated": published + timedelta(hours=1),
        "video_url": None,
        "thumbnail_url": None,
        "duration_seconds": None,
    }
    return OutItem(**(values | fields))


OLD = item(1, WHEN - timedelta(days=2), author="Ana Speaker")
# Out of order on purpose: the feed puts the newest first whatever it is handed.
VIDEO = item(
    3,
    WHEN,
    video_url="https://videos.example/launch.mp4",
    thumbnail_url="https://videos.example/launch.jpg",
    duration_seconds=754,
)
HOSTILE = item(
    2,
    WHEN - timedelta(days=1),
    title=HOSTILE_TITLE,
    summary=HOSTILE_SUMMARY,
    content_html=HOSTILE_BODY,
    author="<b>Mallory</b>",
)
PAGE_VIDEO = item(4, WHEN - timedelta(days=3), video_url="https://www.youtube.com/watch?v=abc")
ITEMS = [OLD, VIDEO, HOSTILE, PAGE_VIDEO]
NEWEST_FIRST = [VIDEO, HOSTILE, OLD, PAGE_VIDEO]


def feed(items: list[OutItem] = ITEMS, kind: FeedKind = "atom") -> OutFeed:
    return OutFeed(
        id="tag:hub.example,2026:commhub/feeds/sales",
        title="Partner Programme: Sales",
        subtitle="What sellers need this month.",
        home_url=HOME,
        self_url=f"{HOME}/feeds/sales.{kind}",
        updated=WHEN + timedelta(hours=1),
        items=items,
        author="Partner Programme",
    )


def parsed(kind: FeedKind, items: list[OutItem] = ITEMS) -> Any:
    result = feedparser.parse(render_feed(feed(items, kind), kind))
    assert result.bozo == 0, result.get("bozo_exception")
    return result


def tree(kind: FeedKind, items: list[OutItem] = ITEMS) -> ET.Element:
    # Our own output, parsed to check its structure (no untrusted input here).
    return ET.fromstring(render_feed(feed(items, kind), kind))  # noqa: S314


def entry_of(result: Any, out: OutItem) -> Any:
    return next(e for e in result.entries if e.id == out.id)


@pytest.mark.parametrize(("kind", "version"), [("rss", "rss20"), ("atom", "atom10")])
def test_both_kinds_parse_cleanly_as_their_version(kind: FeedKind, version: str) -> None:
    result = parsed(kind)
    assert result.version == version
    assert result.feed.title == "Partner Programme: Sales"
    assert result.feed.link == HOME


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_entries_come_newest_first_with_their_ids_links_titles_and_dates(kind: FeedKind) -> None:
    result = parsed(kind)
    assert [e.id for e in result.entries] == [i.id for i in NEWEST_FIRST]
    assert [e.link for e in result.entries] == [i.link for i in NEWEST_FIRST]
    assert [e.title for e in result.entries] == [i.title for i in NEWEST_FIRST]
    for entry, out in zip(result.entries, NEWEST_FIRST, strict=True):
        assert entry.published_parsed[:6] == out.published.timetuple()[:6]
    if kind == "atom":
        assert entry_of(result, OLD).updated_parsed[:6] == OLD.updated.timetuple()[:6]


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_summary_content_and_author_are_carried(kind: FeedKind) -> None:
    entry = entry_of(parsed(kind), OLD)
    assert entry.summary == OLD.summary
    assert entry.content[0].value == OLD.content_html
    assert entry.author == "Ana Speaker"


def test_a_time_in_another_zone_keeps_its_offset() -> None:
    local = datetime(2026, 11, 20, 11, 30, tzinfo=timezone(timedelta(hours=2)))
    rss = tree("rss", [item(9, local)])
    pub_date = rss.findtext("channel/item/pubDate")
    assert pub_date == "Fri, 20 Nov 2026 11:30:00 +0200"
    atom = tree("atom", [item(9, local)])
    assert atom.findtext(f"{ATOM}entry/{ATOM}published") == "2026-11-20T11:30:00+02:00"
    entry = parsed("rss", [item(9, local)]).entries[0]
    assert entry.published_parsed[:6] == (2026, 11, 20, 9, 30, 0)  # the same moment, in UTC


def test_rss_has_the_structure_rss_2_requires() -> None:
    root = tree("rss")
    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    assert channel.findtext("title") == "Partner Programme: Sales"
    assert channel.findtext("link") == HOME
    assert channel.findtext("description") == "What sellers need this month."
    self_link = channel.find(f"{ATOM}link")
    assert self_link is not None
    assert (self_link.get("rel"), self_link.get("href")) == ("self", f"{HOME}/feeds/sales.rss")
    items = channel.findall("item")
    assert len(items) == len(ITEMS)
    for element, out in zip(items, NEWEST_FIRST, strict=True):
        assert element.findtext("title") == out.title
        assert element.findtext("link") == out.link
        guid = element.find("guid")
        assert guid is not None
        assert (guid.text, guid.get("isPermaLink")) == (out.id, "false")
        pub_date = element.findtext("pubDate")
        assert pub_date is not None
        assert parsedate_to_datetime(pub_date) == out.published  # RFC 822, zone included


def test_atom_has_the_structure_atom_1_requires() -> None:
    root = tree("atom")
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}id") == "tag:hub.example,2026:commhub/feeds/sales"
    assert root.findtext(f"{ATOM}title") == "Partner Programme: Sales"
    assert root.findtext(f"{ATOM}updated") == (WHEN + timedelta(hours=1)).isoformat()
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links == {"self": f"{HOME}/feeds/sales.atom", "alternate": HOME}
    # Entries without an author of their own need the feed's.
    assert root.findtext(f"{ATOM}author/{ATOM}name") == "Partner Programme"
    entries = root.findall(f"{ATOM}entry")
    for element, out in zip(entries, NEWEST_FIRST, strict=True):
        assert element.findtext(f"{ATOM}id") == out.id
        assert element.findtext(f"{ATOM}title") == out.title
        assert element.findtext(f"{ATOM}updated") == out.updated.isoformat()
        alternate = [
            link.get("href")
            for link in element.findall(f"{ATOM}link")
            if link.get("rel", "alternate") == "alternate"
        ]
        assert alternate == [out.link]


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_a_video_goes_out_as_an_enclosure_and_as_media_rss(kind: FeedKind) -> None:
    result = parsed(kind)
    video = entry_of(result, VIDEO)
    assert [(e.href, e.type, e.length) for e in video.enclosures] == [
        ("https://videos.example/launch.mp4", "video/mp4", "0")
    ]
    assert video.media_content == [
        {
            "url": "https://videos.example/launch.mp4",
            "type": "video/mp4",
            "medium": "video",
            "duration": "754",
        }
    ]
    assert video.media_thumbnail == [{"url": "https://videos.example/launch.jpg"}]
    page = entry_of(result, PAGE_VIDEO)
    assert [(e.href, e.type) for e in page.enclosures] == [
        ("https://www.youtube.com/watch?v=abc", "text/html")
    ]
    assert entry_of(result, OLD).get("enclosures") == []


def test_a_video_in_atom_is_an_enclosure_link_not_a_second_alternate() -> None:
    entries = {e.findtext(f"{ATOM}id"): e for e in tree("atom").findall(f"{ATOM}entry")}
    links = [(link.get("rel"), link.get("type")) for link in entries[VIDEO.id].iter(f"{ATOM}link")]
    assert sorted(links, key=str) == sorted([(None, None), ("enclosure", "video/mp4")], key=str)
    thumbnail = entries[VIDEO.id].find(f"{MEDIA}thumbnail")
    assert thumbnail is not None
    assert thumbnail.get("url") == VIDEO.thumbnail_url


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_hostile_markup_comes_out_only_as_escaped_text(kind: FeedKind) -> None:
    document = render_feed(feed(ITEMS, kind), kind)
    assert b"<script" not in document
    assert b"<img" not in document
    root = ET.fromstring(document)  # noqa: S314 - our own output
    tags = {element.tag.rsplit("}", 1)[-1] for element in root.iter()}
    assert not tags & {"script", "img", "b", "p"}
    titles = [element.text for element in root.iter() if element.tag.endswith("title")]
    assert HOSTILE_TITLE in titles
    body_tag = f"{ATOM}content" if kind == "atom" else f"{CONTENT}encoded"
    assert HOSTILE_BODY in [element.text for element in root.iter(body_tag)]
    assert entry_of(parsed(kind), HOSTILE).title == HOSTILE_TITLE


def test_the_rss_author_is_a_dublin_core_creator_as_text() -> None:
    creators = [element.text for element in tree("rss").iter(f"{DC}creator")]
    assert sorted(creators, key=str) == ["<b>Mallory</b>", "Ana Speaker"]


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_characters_xml_cannot_carry_are_dropped_not_fatal(kind: FeedKind) -> None:
    broken = item(5, WHEN, title="Launch\x00 day\ufffe", summary="Bell\x07")
    entry = parsed(kind, [broken]).entries[0]
    assert entry.title == "Launch day"
    assert entry.summary == "Bell"


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_an_empty_feed_is_still_a_valid_feed(kind: FeedKind) -> None:
    result = parsed(kind, [])
    assert result.entries == []
    assert result.feed.title == "Partner Programme: Sales"

"""commhub.feeds.parsing: feed bytes in, plain and safe data out, everything else refused."""

from __future__ import annotations

import contextlib
import dataclasses
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from commhub.feeds import parsing
from commhub.feeds.parsing import FeedEntry, NotAFeed, ParsedFeed, parse_feed

DATA = Path(__file__).parent / "data"
FEED_URL = "https://feeds.example.com/path/feed"
ENTITY_REFUSED = "not a feed: it declares an entity (refused)"
ENTITY_BOMBS = ["billion_laughs.xml", "xxe_file.xml", "xxe_http.xml"]
# Markup that must not survive into any field, in any case.
HOSTILE = ["<script", "onerror", "onclick", "onload", "onmouseover", "javascript:", "data:",
           "<iframe", "<svg", "<style", "alert("]  # fmt: skip


@pytest.fixture(autouse=True)
def network_attempts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Every connect or name lookup fails and is recorded; none may happen while parsing."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("a feed parsing test tried to reach the network")

    for name in ("connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield attempts
    assert attempts == []


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def parse(name: str, url: str = FEED_URL) -> ParsedFeed:
    return parse_feed(read(name), url)


def rss(items: str, declaration: str = '<?xml version="1.0" encoding="UTF-8"?>') -> bytes:
    return (
        f'{declaration}\n<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/'
        'podcast-1.0.dtd"><channel><title>Generated</title><link>https://gen.example/</link>'
        f"<description>d</description>{items}</channel></rss>"
    ).encode()


def texts_of(feed: ParsedFeed) -> list[str]:
    """Every string the parse produced, feed and entries alike."""
    texts = [feed.title, feed.link or "", feed.format]
    for entry in feed.entries:
        for field in dataclasses.fields(entry):
            value = getattr(entry, field.name)
            values = value if isinstance(value, tuple) else (value,)
            texts.extend(v for v in values if isinstance(v, str))
    return texts


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def assert_utc(moment: datetime | None) -> None:
    assert moment is not None
    assert moment.tzinfo is UTC


# --- each format ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "title", "link", "format_"),
    [
        ("rss20.xml", "Partner Programme News", "https://news.example.org/", "rss20"),
        ("rss10.rdf", "Research Journal", "https://journal.example.net/", "rss10"),
        ("atom.xml", "Field Notes", "https://blog.example.com/en/", "atom10"),
        (
            "youtube.xml",
            "Partner Academy",
            "https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv",
            "atom10",
        ),
    ],
)
def test_feed_title_link_and_format(name: str, title: str, link: str, format_: str) -> None:
    feed = parse(name)
    assert (feed.title, feed.link, feed.format) == (title, link, format_)


def test_rss20_items_become_plain_entries_with_a_sanitised_body() -> None:
    first, second, third = parse("rss20.xml").entries
    assert first.key == "news-2024-0012"
    assert first.title == "Spring webinar: planning the year"
    assert first.link == "https://news.example.org/2024/spring-webinar"
    assert first.summary == "Join us on 21 March for the spring webinar & Q&A."
    assert first.body_html.startswith("<p>Join us on <strong>21 March</strong>")
    # content:encoded's relative URLs resolved against the feed's URL
    assert 'href="https://feeds.example.com/agenda"' in first.body_html
    assert 'src="https://feeds.example.com/img/webinar.png"' in first.body_html
    assert first.published == utc(2024, 3, 5, 8, 30)  # 09:30 +01:00
    assert_utc(first.published)
    assert first.updated is None
    assert first.author == "Ana Lima"
    assert first.tags == ("Events", "Webinars")
    assert (second.title, second.tags, second.body_html) == ("New partner portal", ("Product",), "")
    assert third.title == "Survey results & next steps"
    assert third.summary == "Thank you to the 214 partners who answered."
    assert third.body_html == "<p>Thank you to the 214 partners who answered.</p>"
    assert not any(e.is_video for e in (first, second, third))


def test_rss20_item_without_guid_is_keyed_by_its_link_resolved_against_the_feed_url() -> None:
    second = parse("rss20.xml").entries[1]
    assert second.link == "https://feeds.example.com/2024/new-portal"
    assert second.key == second.link


def test_rss20_item_without_a_date_has_none() -> None:
    third = parse("rss20.xml").entries[2]
    assert (third.published, third.updated) == (None, None)
    assert third.key == "https://news.example.org/2024/survey"


def test_rss10_items_carry_their_dc_dates_in_utc() -> None:
    first, second = parse("rss10.rdf").entries
    assert first.key == "https://journal.example.net/papers/41"
    assert first.title == "Soil carbon in upland pasture"
    assert first.summary == "A three-year field study."
    assert (first.author, first.tags) == ("B. Okafor", ("Soil",))
    assert first.updated == first.published == utc(2024, 1, 15, 8, 0)
    assert second.published == utc(2024, 2, 1, 10, 15)  # 12:15 +02:00
    assert_utc(second.published)
    assert_utc(second.updated)
    assert second.author is None


def test_atom_entries_resolve_links_by_xml_base_and_sanitise_html_content() -> None:
    first, second = parse("atom.xml").entries
    assert first.key == "tag:blog.example.com,2024:harvest-report"
    assert first.title == "Harvest report"  # type="html" title, tags gone
    assert first.link == "https://blog.example.com/en/posts/harvest-report"
    assert first.summary == "Yields were up this year."
    assert first.body_html == (
        '<p>Yields were up <a href="https://blog.example.com/data/yields.csv" '
        'rel="noopener noreferrer">(data)</a>.</p><p>More next month.</p>'
    )
    assert first.published == utc(2024, 4, 1, 22, 45)  # 18:45 -04:00
    assert first.updated == utc(2024, 4, 2, 10, 0)
    assert (first.author, first.tags) == ("Chen Wei", ("harvest",))
    # the entry's own xml:base wins over the feed's
    assert second.link == "https://blog.example.com/fr/billets/terrain"
    assert second.published == second.updated == utc(2024, 3, 20, 7, 0)
    assert second.body_html == ""


def test_youtube_entries_are_videos_with_thumbnail_description_and_duration() -> None:
    first, second = parse("youtube.xml").entries
    assert first == FeedEntry(
        key="yt:video:dQw4w9WgXcQ",
        title="Onboarding in five minutes",
        link="https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        summary="Everything a new partner needs. Chapters: 0:00 Welcome 1:10 The portal",
        body_html="",
        published=utc(2024, 3, 28, 15, 0, 6),
        updated=utc(2024, 3, 29, 2, 11, 40),
        author="Partner Academy",
        tags=(),
        video_url="https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        thumbnail_url="https://i1.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg",
        duration_seconds=312,
        is_video=True,
    )
    assert second.title == "Q&A: reporting"
    assert second.video_url == "https://www.youtube.com/watch?v=9bZkp7q19f0"
    assert second.thumbnail_url == "https://i3.ytimg.com/vi/9bZkp7q19f0/hqdefault.jpg"
    assert second.summary == "Your questions about reports, answered."
    assert (second.duration_seconds, second.is_video) == (None, True)


def test_rss_items_linking_to_youtube_or_carrying_video_are_videos() -> None:
    feed = parse_feed(
        rss(
            "<item><title>Watch</title><link>https://youtube.com/watch?v=dQw4w9WgXcQ&amp;t=3"
            "</link><itunes:duration>1:02:03</itunes:duration></item>"
            "<item><title>Short</title><link>https://youtu.be/9bZkp7q19f0</link></item>"
            '<item><title>Clip</title><link>https://gen.example/clip</link><enclosure url="/c.mp4"'
            ' type="video/mp4" length="9"/></item>'
            "<item><title>Post</title><link>https://gen.example/post</link></item>"
        ),
        "https://gen.example/feed.xml",
    )
    watch, short, clip, post = feed.entries
    assert watch.video_url == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    assert watch.duration_seconds == 3723
    assert short.video_url == "https://www.youtube.com/watch?v=9bZkp7q19f0"
    assert (clip.video_url, clip.is_video) == ("https://gen.example/c.mp4", True)
    assert (post.video_url, post.is_video) == (None, False)


def test_an_external_dtd_is_neither_fetched_nor_a_reason_to_refuse() -> None:
    feed = parse("rss091_external_dtd.xml", "http://old.example.com/rss.xml")
    assert feed.format == "rss091n"
    assert [(e.title, e.summary) for e in feed.entries] == [
        ("Café opening", "The café opens on Monday.")
    ]


# --- hostile markup ------------------------------------------------------------------------


def test_hostile_markup_reaches_no_field() -> None:
    for text in texts_of(parse("hostile.xml")):
        for marker in HOSTILE:
            assert marker not in text.lower(), (marker, text)


def test_hostile_titles_authors_tags_and_summaries_become_their_plain_text() -> None:
    feed = parse("hostile.xml")
    first, second, _ = feed.entries
    assert feed.title == "Totally Normal News"
    assert (first.title, first.author, first.tags) == ("Hello", "Mallory", ("Tips",))
    assert first.summary == "Read this"
    assert second.title == "Second item"
    assert second.summary == "Escaped twice"  # "&amp;lt;script&amp;gt;" is markup too


def test_javascript_and_data_urls_are_dropped_and_web_urls_kept() -> None:
    feed = parse("hostile.xml")
    first, second, third = feed.entries
    assert feed.link is None
    assert (first.link, first.thumbnail_url, first.video_url) == (None, None, None)
    assert second.link is None
    assert second.key.startswith("sha256:")  # no id, and its only link was refused
    assert third.link == "https://news.example.org/ok"
    assert third.thumbnail_url == "https://img.example.org/thumb.jpg"
    assert (third.video_url, third.duration_seconds) == ("https://cdn.example.org/clip.mp4", 95)


def test_hostile_body_keeps_its_text_and_safe_links_only() -> None:
    body = parse("hostile.xml").entries[0].body_html
    assert "<p>Body text</p>" in body
    assert '<a href="https://safe.example/" rel="noopener noreferrer">safe link</a>' in body
    assert "<iframe" not in body
    assert "evil.example" not in body


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/relative/path", "https://gen.example/relative/path"),
        ("https://other.example/a b", "https://other.example/a%20b"),
        ("mailto:jo@example.org", None),
        ("ftp://files.example/x", None),
        ("java\tscript:alert(1)", None),
        ("https://[::1/broken", None),
        ("https://host.example:99999/", None),
        ("https://:80/no-host", None),
        ("http://", None),
    ],
)
def test_only_absolute_http_urls_with_a_host_survive(url: str, expected: str | None) -> None:
    feed = parse_feed(
        rss(f"<item><title>t</title><link>{url}</link></item>"), "https://gen.example/feed"
    )
    assert feed.entries[0].link == expected


def test_titles_lose_controls_and_extra_space_and_long_text_is_cut_on_a_word() -> None:
    long_title = "word " * 100
    long_summary = "paragraph " * 200
    feed = parse_feed(
        rss(
            "<item><title>  Line&#x7f;break\n\t tab\u2028end </title><guid>a</guid></item>"
            f"<item><title>{long_title}</title><description>{long_summary}</description>"
            "<guid>b</guid></item>"
        ),
        FEED_URL,
    )
    short, long = feed.entries
    assert short.title == "Line break tab end"
    assert len(long.title) <= parsing.TITLE_LIMIT
    assert long.title.endswith("word…")
    assert len(long.summary) <= parsing.SUMMARY_LIMIT
    assert long.summary.endswith("paragraph…")
    assert "paragraph paragraph" in long.body_html  # cut, so the body keeps it all


def test_an_entry_repeated_in_a_feed_is_kept_once_the_first_time() -> None:
    feed = parse_feed(
        rss(
            '<item><title>First</title><guid isPermaLink="false">same</guid></item>'
            '<item><title>Again</title><guid isPermaLink="false">same</guid></item>'
        ),
        FEED_URL,
    )
    assert [(e.key, e.title) for e in feed.entries] == [("same", "First")]


def test_an_entry_without_id_or_link_is_keyed_by_what_it_says() -> None:
    def key(title: str) -> str:
        item = f"<item><title>{title}</title><description>Same text</description></item>"
        return parse_feed(rss(item), FEED_URL).entries[0].key

    assert key("One").startswith("sha256:")
    assert key("One") == key("One")
    assert key("One") != key("Two")


# --- broken, but still a feed ---------------------------------------------------------------


# Latin-1 bytes in a document that declares UTF-8.
LATIN1_DECLARED_UTF8 = rss("<item><title>Caf\xe9</title><guid>1</guid></item>").replace(
    b"\xc3\xa9", b"\xe9"
)


@pytest.mark.parametrize(
    ("data", "title"),
    [
        pytest.param(
            rss("<item><title>Tom&nbsp;&amp;&nbsp;Jo</title><guid>1</guid></item>"),
            "Tom & Jo",
            id="undefined entity",
        ),
        pytest.param(
            rss("<item><title>Q & A</title><guid>1</guid></item>"), "Q & A", id="stray ampersand"
        ),
        pytest.param(LATIN1_DECLARED_UTF8, "Café", id="wrong encoding declared"),
    ],
)
def test_slightly_broken_feeds_are_read(data: bytes, title: str) -> None:
    feed = parse_feed(data, FEED_URL)
    assert feed.format == "rss20"
    assert [e.title for e in feed.entries] == [title]


def test_the_content_type_is_only_a_hint() -> None:
    latin = rss("<item><title>Caf\xe9</title><guid>1</guid></item>", '<?xml version="1.0"?>')
    latin = latin.replace(b"\xc3\xa9", b"\xe9")
    declared = parse_feed(latin, FEED_URL, "application/rss+xml; charset=iso-8859-1")
    assert declared.entries[0].title == "Café"
    mislabelled = parse_feed(read("rss20.xml"), FEED_URL, "text/html; charset=utf-8")
    assert len(mislabelled.entries) == 3


# --- refused --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(read("billion_laughs.xml"), ENTITY_REFUSED, id="billion laughs"),
        pytest.param(read("xxe_file.xml"), ENTITY_REFUSED, id="xxe file"),
        pytest.param(read("xxe_http.xml"), ENTITY_REFUSED, id="xxe http"),
        pytest.param(read("not_a_feed.html"), "not a feed: an HTML page", id="html"),
        pytest.param(
            read("malformed.xml"),
            "not a feed: malformed XML at line 5: no element found",
            id="truncated",
        ),
        pytest.param(read("empty.xml"), "not a feed: empty", id="empty"),
        pytest.param(b" \n\t ", "not a feed: empty", id="blank"),
        pytest.param(
            b'<?xml version="1.0"?><note><to>Jo</to></note>',
            "not a feed: no RSS or Atom element",
            id="other xml",
        ),
        pytest.param(
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "not a feed: malformed XML at line 1: not well-formed",
            id="png",
        ),
        pytest.param(
            b'<rss version="2.0"><channel><title>x</title></chan></rss>',
            "not a feed: malformed XML at line 1: mismatched tag",
            id="xml error and no entries",
        ),
    ],
)
def test_what_is_not_a_feed_is_refused_in_plain_words(data: bytes, message: str) -> None:
    with pytest.raises(NotAFeed) as refused:
        parse_feed(data, FEED_URL)
    assert str(refused.value).startswith(message)


def test_an_entity_is_refused_in_utf16_and_behind_a_prolog_comment_too() -> None:
    text = read("xxe_file.xml").decode("utf-8")
    utf16 = text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    commented = text.replace("?>\n", "?>\n<!-- see <a> below -->\n", 1).encode("utf-8")
    for data in (utf16, commented):
        with pytest.raises(NotAFeed, match=r"declares an entity"):
            parse_feed(data, FEED_URL)


@pytest.mark.parametrize("name", ENTITY_BOMBS)
@pytest.mark.parametrize("prolog_comment", ["", "<!-- <a> -->\n"])
def test_without_our_check_feedparser_still_expands_and_fetches_no_entity(
    monkeypatch: pytest.MonkeyPatch, name: str, prolog_comment: str
) -> None:
    """The second line: feedparser drops the declarations, expat skips external entities
    and caps expansion. The comment defeats feedparser's DOCTYPE rewrite; expat holds."""
    monkeypatch.setattr(parsing, "_declares_entity", lambda data: False)
    data = read(name).replace(b"?>\n", b"?>\n" + prolog_comment.encode(), 1)
    try:
        output = repr(parse_feed(data, FEED_URL))
    except NotAFeed as refused:
        output = str(refused)
    assert "root:" not in output
    assert "lollol" not in output


def test_bytes_naming_a_file_are_read_as_bytes_never_opened(tmp_path: Path) -> None:
    feed_file = tmp_path / "feed.xml"
    feed_file.write_bytes(read("rss20.xml"))
    with pytest.raises(NotAFeed):
        parse_feed(str(feed_file).encode(), FEED_URL)


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.iterdir()))
def test_no_file_makes_the_parser_reach_the_network(
    network_attempts: list[object], name: str
) -> None:
    with contextlib.suppress(NotAFeed):
        parse(name)
    assert network_attempts == []

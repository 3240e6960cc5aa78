"""Fetched feed bytes (RSS 0.9x/1.0/2.0, Atom, YouTube channels) to plain, safe data.

The one place feedparser enters commhub. What comes out holds no markup but the sanitised
body, no URL but absolute http(s) ones, and dates only as aware UTC datetimes.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit
from xml.parsers.expat import errors as expat_errors
from xml.sax import SAXParseException

import feedparser  # type: ignore[import-untyped]
import nh3

from commhub.errors import CommhubError
from commhub.library import sanitise_html
from commhub.text import without_controls

TITLE_LIMIT = 300
SUMMARY_LIMIT = 1000
NAME_LIMIT = 200
# Entities can only be declared in the DOCTYPE, which precedes the root element; 64 KB of
# prolog is far more than any real feed has, and scanning it costs next to nothing.
_PROLOG_SCAN_BYTES = 64 * 1024
# feedparser recodes UTF-16/32 documents before parsing, so look for the markers in each.
_ENCODINGS = ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
_ENTITY_MARKERS = tuple(
    ("<!DOCTYPE".encode(encoding), "<!ENTITY".encode(encoding)) for encoding in _ENCODINGS
)
_DECLARATIONS = tuple("<?xml".encode(encoding) for encoding in _ENCODINGS)
_HTML_PAGE = re.compile(rb"<(?:!doctype\s+html|html[\s>])", re.IGNORECASE)
# Expat's words for a document that stops early: a cut-off feed would lose entries silently.
_CUT_SHORT = {
    expat_errors.XML_ERROR_NO_ELEMENTS,
    expat_errors.XML_ERROR_UNCLOSED_TOKEN,
    expat_errors.XML_ERROR_UNCLOSED_CDATA_SECTION,
    expat_errors.XML_ERROR_PARTIAL_CHAR,
}
# Elements whose content is code or another document, never text a person should read.
_DROPPED_WITH_CONTENT = {
    "script", "style", "iframe", "noscript", "template", "textarea", "object", "svg", "math",
}  # fmt: skip
# Where a browser would break the line, keep the words apart once the tags are gone.
_BLOCK_START = re.compile(
    r"<(?=/?(?:p|div|br|li|h[1-6]|tr|td|th|blockquote|pre|hr|dt|dd|ul|ol|table)\b)", re.I
)
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com"}


class NotAFeed(CommhubError):  # noqa: N818 - the brief's name, reads well when raised
    """The bytes are no feed commhub will read; the message says why, in plain words."""


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed, as plain text and checked URLs (see the module docstring)."""

    key: str
    title: str
    link: str | None
    summary: str
    body_html: str
    published: datetime | None
    updated: datetime | None
    author: str | None
    tags: tuple[str, ...]
    video_url: str | None
    thumbnail_url: str | None
    duration_seconds: int | None
    is_video: bool


@dataclass(frozen=True)
class ParsedFeed:
    """A feed's title, its web page and its entries (first of each key kept)."""

    title: str
    link: str | None
    entries: tuple[FeedEntry, ...]
    format: str


def parse_feed(data: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Read feed bytes fetched from url; NotAFeed when they hold no feed we accept."""
    if not data.strip():
        raise NotAFeed("not a feed: empty")
    if _declares_entity(data):
        raise NotAFeed("not a feed: it declares an entity (refused)")
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    # A stream, never bytes or a str: feedparser opens a str that looks like a URL or a path.
    parsed = feedparser.parse(io.BytesIO(data), response_headers=headers)
    _refuse_unless_feed(parsed, data)
    feed = _field(parsed, "feed") or {}
    entries: dict[str, FeedEntry] = {}
    for raw in _field(parsed, "entries") or ():
        entry = _entry(raw, url)
        entries.setdefault(entry.key, entry)
    return ParsedFeed(
        title=_shorten(_plain_text(_text(feed, "title")), TITLE_LIMIT),
        link=_web_url(_text(feed, "link"), url),
        entries=tuple(entries.values()),
        format=str(_field(parsed, "version")),
    )


def _declares_entity(data: bytes) -> bool:
    """Whether the prolog declares an entity: the billion laughs and XXE both need one.

    feedparser strips unsafe declarations and expat refuses external entities and
    exponential expansion, but refusing here is cheap, bounded, and does not depend on
    either. A feed quoting "<!DOCTYPE ... <!ENTITY" raw in its first 64 KB is refused too.
    """
    head = data[:_PROLOG_SCAN_BYTES]
    for doctype, entity in _ENTITY_MARKERS:
        start = head.find(doctype)
        if start != -1 and head.find(entity, start) != -1:
            return True
    return False


def _refuse_unless_feed(parsed: Mapping[str, Any], data: bytes) -> None:
    """Accept what feedparser recognised as a feed, slightly broken or not; refuse the rest.

    Real feeds are often not well-formed (an undefined &nbsp;, a stray "&", a wrong declared
    encoding): feedparser's lenient parser recovers them and they are accepted, so `bozo`
    alone refuses nothing. Refused: no feed version (an HTML page, other XML, random bytes);
    a document cut short (entries would vanish unnoticed); or an XML error with no entries.
    """
    error = _field(parsed, "bozo_exception")
    xml_error = error if isinstance(error, SAXParseException) else None
    if not _field(parsed, "version"):
        if _HTML_PAGE.search(data[:_PROLOG_SCAN_BYTES]):
            raise NotAFeed("not a feed: an HTML page")
        if xml_error is None:
            raise NotAFeed("not a feed: no RSS or Atom element")
        raise _malformed(xml_error, data)
    if xml_error is not None and (
        xml_error.getMessage() in _CUT_SHORT or not _field(parsed, "entries")
    ):
        raise _malformed(xml_error, data)


def _malformed(error: SAXParseException, data: bytes) -> NotAFeed:
    # feedparser puts a declaration line of its own before a document that starts without one.
    added = 0 if any(d in data[:24] for d in _DECLARATIONS) else 1
    line = max(1, (error.getLineNumber() or 1) - added)
    return NotAFeed(f"not a feed: malformed XML at line {line}: {error.getMessage()}")


def _entry(raw: Mapping[str, Any], feed_url: str) -> FeedEntry:
    link = _web_url(_text(raw, "link"), feed_url)
    title = _shorten(_plain_text(_text(raw, "title")), TITLE_LIMIT)
    description = _text(raw, "summary")  # feedparser's name for description and media:description
    summary = _shorten(_plain_text(description), SUMMARY_LIMIT)
    video_url = _video_url(raw, link, feed_url)
    media = _media(raw)
    published = _utc(_field(raw, "published_parsed"))
    updated = _utc(_field(raw, "updated_parsed"))
    return FeedEntry(
        key=_key(raw, link, title, summary),
        title=title,
        link=link,
        summary=summary,
        body_html=_body_html(raw, description, summary),
        published=published or updated,  # RSS 1.0 and many Atom feeds give only one date
        updated=updated,
        author=_shorten(_plain_text(_author(raw)), NAME_LIMIT) or None,
        tags=_tags(raw),
        video_url=video_url,
        thumbnail_url=_first_url(_field(raw, "media_thumbnail"), feed_url),
        duration_seconds=_duration(media, _text(raw, "itunes_duration")),
        is_video=video_url is not None,
    )


def _key(raw: Mapping[str, Any], link: str | None, title: str, summary: str) -> str:
    """The entry's id, else its link, else a digest of what it says."""
    entry_id = without_controls(_text(raw, "id")).strip()
    if entry_id:
        return entry_id
    if link:
        return link
    return "sha256:" + hashlib.sha256(f"{title}\n{summary}".encode()).hexdigest()


def _body_html(raw: Mapping[str, Any], description: str, summary: str) -> str:
    """The full content, sanitised; else the description when it says more than the summary."""
    contents = [c for c in _field(raw, "content") or () if isinstance(c, Mapping)]
    rich = [c for c in contents if _text(c, "type") in ("text/html", "application/xhtml+xml")]
    if rich:
        return sanitise_html(_text(rich[0], "value")).strip()
    if contents:
        return sanitise_html(html.escape(_text(contents[0], "value"))).strip()
    body = sanitise_html(description).strip()
    # The sanitiser escapes every "<" of text, so one left is a tag it kept (a link, a list).
    says_more = "<" in body or _plain_text(description) != summary
    return body if says_more else ""


def _plain_text(markup: str) -> str:
    """Text a person reads: tags and script/style content gone, entities decoded, one line.

    Repeated because feeds escape twice ("&amp;lt;script&amp;gt;"): text that decodes to
    markup is markup to remove, not text to keep.
    """
    text = markup
    for _ in range(4):
        spaced = _BLOCK_START.sub(" <", text)
        stripped = html.unescape(
            nh3.clean(spaced, tags=set(), clean_content_tags=_DROPPED_WITH_CONTENT)
        )
        if stripped == text:
            break
        text = stripped
    return " ".join(without_controls(text).split())


def _shorten(text: str, limit: int) -> str:
    """text cut to at most limit characters, on a word when one ends late enough, with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    word_end = cut.rfind(" ")
    if not text[limit - 1].isspace() and word_end > limit // 2:
        cut = cut[:word_end]
    return cut.rstrip() + "…"


def _web_url(value: str, base: str) -> str | None:
    """value made absolute against base, when it is an http(s) URL with a host; else None."""
    candidate = value.strip().replace(" ", "%20")
    if not candidate or without_controls(candidate) != candidate:
        return None
    try:
        absolute = urljoin(base, candidate)
        parts = urlsplit(absolute)
        _ = parts.port  # raises ValueError for a port that is not one
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return absolute


def _video_url(raw: Mapping[str, Any], link: str | None, base: str) -> str | None:
    """The watch page of a YouTube video, else the URL of a video the entry carries."""
    video_id = _text(raw, "yt_videoid") or (_youtube_id(link) if link else "")
    if _YOUTUBE_ID.fullmatch(video_id):
        return f"https://www.youtube.com/watch?v={video_id}"
    enclosures = [ln for ln in _field(raw, "links") or () if _text(ln, "rel") == "enclosure"]
    videos = [m for m in [*_media(raw), *enclosures] if _is_video(m)]
    return _first_url(videos, base)


def _youtube_id(link: str) -> str:
    parts = urlsplit(link)
    if parts.hostname == "youtu.be":
        return parts.path.lstrip("/")
    if parts.hostname in _YOUTUBE_HOSTS and parts.path == "/watch":
        return (parse_qs(parts.query).get("v") or [""])[0]
    return ""


def _is_video(media: Mapping[str, Any]) -> bool:
    return _text(media, "type").startswith("video/") or _text(media, "medium") == "video"


def _first_url(candidates: Any, base: str) -> str | None:
    for candidate in candidates or ():
        if isinstance(candidate, Mapping):
            url = _web_url(_text(candidate, "url") or _text(candidate, "href"), base)
            if url:
                return url
    return None


def _media(raw: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [m for m in _field(raw, "media_content") or () if isinstance(m, Mapping)]


def _duration(media: list[Mapping[str, Any]], itunes_duration: str) -> int | None:
    """Seconds from media:content's duration, else itunes:duration ("95", "1:35", "0:01:35")."""
    for text in [*(_text(m, "duration") for m in media), itunes_duration]:
        parts = text.strip().split(":")
        if len(text) < 16 and len(parts) <= 3 and all(p.isascii() and p.isdigit() for p in parts):
            seconds = 0
            for part in parts:
                seconds = seconds * 60 + int(part)
            return seconds
    return None


def _author(raw: Mapping[str, Any]) -> str:
    """The author's name: feedparser splits "jo@example.org (Jo)" into its parts."""
    detail = _field(raw, "author_detail")
    name = _text(detail, "name") if isinstance(detail, Mapping) else ""
    return name or _text(raw, "author")


def _tags(raw: Mapping[str, Any]) -> tuple[str, ...]:
    terms = (
        _plain_text(_text(tag, "term") or _text(tag, "label"))
        for tag in _field(raw, "tags") or ()
        if isinstance(tag, Mapping)
    )
    return tuple(dict.fromkeys(_shorten(t, NAME_LIMIT) for t in terms if t))


def _utc(value: Any) -> datetime | None:
    """feedparser's *_parsed struct_time (already UTC) as an aware datetime."""
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _field(item: Any, key: str) -> Any:
    # dict.get, not FeedParserDict's own: that one maps old names and can warn.
    return dict.get(item, key) if isinstance(item, dict) else None


def _text(item: Any, key: str) -> str:
    value = _field(item, key)
    return value if isinstance(value, str) else ""

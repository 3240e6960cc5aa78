"""Feeds out as bytes: plain OutFeed/OutItem values to RSS 2.0 or Atom 1.0.

The one place feedgen enters commhub. feedgen builds the document with lxml, so every title,
summary and body is escaped text in the XML, whatever it holds; media go out as an enclosure
and as Media RSS (media:content, media:thumbnail), which readers of both kinds understand.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

FeedKind = Literal["rss", "atom"]
GENERATOR = "commhub"
# A video URL that names no video file is a page that plays it (YouTube, Vimeo...).
VIDEO_PAGE_TYPE = "text/html"
# What XML 1.0 cannot carry at all: lxml refuses the whole document for one such character.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class OutItem:
    """One entry of a feed going out, as plain values."""

    id: str  # stable and unique: never changes when the title does
    title: str
    link: str  # where the entry points
    summary: str  # plain text
    content_html: str  # the sanitised HTML body ("" when none)
    author: str | None
    published: datetime  # aware
    updated: datetime  # aware
    video_url: str | None
    thumbnail_url: str | None
    duration_seconds: int | None


@dataclass(frozen=True)
class OutFeed:
    """A feed going out: who publishes it, where it lives, and its entries."""

    id: str
    title: str
    subtitle: str
    home_url: str  # the site (the alternate link)
    self_url: str  # the feed's own URL (rel=self; Atom requires it)
    updated: datetime
    items: Sequence[OutItem]
    # Atom needs an author for entries without one; the feed's title stands in if None.
    author: str | None = None


def render_feed(feed: OutFeed, kind: FeedKind) -> bytes:
    """The feed as an RSS 2.0 or Atom 1.0 document (UTF-8), its entries newest first."""
    generator = _feed(feed, kind)
    # sorted() is stable: entries published at the same moment keep the caller's order.
    for item in sorted(feed.items, key=lambda i: i.published, reverse=True):
        _add_entry(generator, item, kind)
    document: bytes = generator.rss_str() if kind == "rss" else generator.atom_str()
    return document


def _feed(feed: OutFeed, kind: FeedKind) -> Any:
    generator = FeedGenerator()
    generator.load_extension("media")
    # RSS's <author> must be an email address; dc:creator carries a name. Atom has its own.
    generator.load_extension("dc", atom=False, rss=True)
    generator.register_extension("enclosures", BaseExtension, AtomEnclosures, rss=False)
    generator.id(_text(feed.id))
    generator.title(_text(feed.title))
    generator.subtitle(_text(feed.subtitle) or _text(feed.title))
    generator.author({"name": _text(feed.author or feed.title)})
    generator.link(
        href=feed.self_url,
        rel="self",
        type="application/rss+xml" if kind == "rss" else "application/atom+xml",
    )
    # Last: RSS's channel <link> is the last link given.
    generator.link(href=feed.home_url, rel="alternate")
    generator.updated(feed.updated)
    generator.generator(GENERATOR)
    return generator


def _add_entry(generator: Any, item: OutItem, kind: FeedKind) -> None:
    entry = generator.add_entry(order="append")
    entry.id(_text(item.id))  # also the RSS guid, isPermaLink="false"
    entry.title(_text(item.title))
    entry.link(href=item.link, rel="alternate")
    if item.summary:
        entry.summary(_text(item.summary))
    if item.content_html:
        # Escaped text in both kinds (Atom type="html", RSS content:encoded).
        entry.content(_text(item.content_html), type="html")
    if item.author:
        if kind == "rss":
            entry.dc.dc_creator(_text(item.author))
        else:
            entry.author({"name": _text(item.author)})
    entry.published(item.published)
    entry.updated(item.updated)
    _add_media(entry, item, kind)


def _add_media(entry: Any, item: OutItem, kind: FeedKind) -> None:
    if item.video_url:
        media_type = video_type(item.video_url)
        # The length is unknown (a page, or a file not fetched): 0, as RSS allows.
        if kind == "rss":
            entry.enclosure(item.video_url, 0, media_type)
        else:
            entry.enclosures.add(item.video_url, media_type)
        content = {"url": item.video_url, "type": media_type, "medium": "video"}
        if item.duration_seconds:
            content["duration"] = str(item.duration_seconds)
        # group=None: straight under the item, where every reader looks first.
        entry.media.content(content, group=None)
    if item.thumbnail_url:
        entry.media.thumbnail({"url": item.thumbnail_url}, group=None)


class AtomEnclosures:
    """An Atom entry's enclosure links, as a feedgen entry extension.

    feedgen 1.0 writes an Atom entry's links with their href alone (rel, type and length are
    read from the new element, not from the link given), so its enclosure would come out as a
    second alternate link: this writes each whole.
    """

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []

    def add(self, url: str, media_type: str) -> None:
        self.links.append({"href": url, "rel": "enclosure", "type": media_type, "length": "0"})

    def extend_atom(self, entry: Any) -> Any:
        for attributes in self.links:
            xml_elem("link", entry, **attributes)
        return entry

    def extend_rss(self, item: Any) -> Any:
        return item


def video_type(url: str) -> str:
    """A video URL's media type: the file's (video/mp4...) or, for a player page, text/html."""
    guessed, _ = mimetypes.guess_type(urlsplit(url).path, strict=False)
    return guessed if guessed and guessed.startswith("video/") else VIDEO_PAGE_TYPE


def _text(value: str) -> str:
    return _NOT_XML.sub("", value)

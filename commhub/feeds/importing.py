"""A feed's entries become library items: new ones created, changed drafts updated, and a
newer version of a published item kept aside for an editor, never written over it.

Each entry is known by its key (its id, else its link) within its source; what it said last
time is a digest of its fields, so a re-fetch of an unchanged feed writes nothing. Audiences
are the source's own plus those whose keyword rules match the entry's title, summary or tags
(the source's rules, and the audiences' own keywords unless the source turned them off).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commhub.feeds.parsing import FeedEntry, ParsedFeed
from commhub.feeds.sources import KeywordRule, rules_of
from commhub.library import PAGE_SUFFIXES, derive_slug, sanitise_html
from commhub.store import (
    Audience,
    AuditAction,
    ContentItem,
    ContentKind,
    ContentSource,
    ContentStatus,
    FeedEntryRecord,
    FeedSource,
    record_action,
)

MAX_TITLE = 300
MAX_URL = 2000


@dataclass
class ImportCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    waiting: int = 0  # a newer version of a published item, kept for an editor

    def __str__(self) -> str:
        said = f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged"
        return said + (f", {self.waiting} waiting for an editor" if self.waiting else "")


def import_entries(
    session: Session, source: FeedSource, feed: ParsedFeed, now: datetime
) -> ImportCounts:
    """Bring the feed's entries into the library, in the caller's transaction."""
    counts = ImportCounts()
    if feed.title:
        source.title = feed.title[:MAX_TITLE]
    audiences = {a.slug: a for a in session.scalars(select(Audience))}
    rules = _rules(source, audiences.values())
    records = _records(session, source.id, feed.entries)
    slugs = _SlugMaker(session, f"feeds/{source.id}/")
    for entry in _distinct(feed.entries):
        fields = _item_fields(source, entry, rules)
        digest = _digest(fields)
        record = records.get(_key_digest(entry.key))
        if record is None:
            item = _new_item(session, source, fields, audiences, now, slugs.free(fields["title"]))
            session.add(
                FeedEntryRecord(
                    source_id=source.id, key=entry.key, key_digest=_key_digest(entry.key),
                    content_item=item, entry_hash=digest, first_seen_at=now, updated_at=now,
                )
            )  # fmt: skip
            counts.new += 1
        elif record.entry_hash == digest:
            counts.unchanged += 1
        else:
            record.entry_hash = digest
            record.updated_at = now
            kept = record.content_item
            if kept is not None and kept.status is ContentStatus.DRAFT:
                _apply(kept, fields, audiences, now)
                record.pending = None
                counts.updated += 1
            else:
                record.pending = fields
                counts.waiting += 1
    return counts


def waiting_version(session: Session, item_id: int) -> dict[str, Any] | None:
    """The feed's newer version of a published item, kept for an editor (None if none)."""
    return session.scalar(
        select(FeedEntryRecord.pending).where(
            FeedEntryRecord.content_item_id == item_id, FeedEntryRecord.pending.is_not(None)
        )
    )


def take_waiting_version(session: Session, item: ContentItem, now: datetime) -> bool:
    """Give item the feed's newer version (its status stays as the editor left it); logged.
    False when no version waits."""
    record = session.scalar(
        select(FeedEntryRecord).where(
            FeedEntryRecord.content_item_id == item.id, FeedEntryRecord.pending.is_not(None)
        )
    )
    if record is None or record.pending is None:
        return False
    audiences = {a.slug: a for a in session.scalars(select(Audience))}
    _apply(item, record.pending, audiences, now)
    record.pending = None
    record_action(
        session, AuditAction.EDITED, "content", item.slug,
        f"took the feed's newer version: {item.title}"[:500], now,
    )  # fmt: skip
    return True


def _rules(source: FeedSource, audiences: Iterable[Audience]) -> list[KeywordRule]:
    rules = rules_of(source)
    if source.use_audience_keywords:
        rules += [KeywordRule(k.lower(), a.slug) for a in audiences for k in a.keywords if k]
    return rules


def _records(
    session: Session, source_id: int, entries: Iterable[FeedEntry]
) -> dict[str, FeedEntryRecord]:
    """The source's records of these entries, by key digest, in one query."""
    digests = list({_key_digest(entry.key) for entry in entries})
    found: dict[str, FeedEntryRecord] = {}
    for start in range(0, len(digests), 500):  # SQLite's limit on bound parameters
        batch = digests[start : start + 500]
        for record in session.scalars(
            select(FeedEntryRecord).where(
                FeedEntryRecord.source_id == source_id, FeedEntryRecord.key_digest.in_(batch)
            )
        ):
            found[record.key_digest] = record
    return found


def _distinct(entries: Iterable[FeedEntry]) -> list[FeedEntry]:
    """The first of entries sharing a key: a feed that repeats one imports it once."""
    seen: set[str] = set()
    kept = []
    for entry in entries:
        if entry.key not in seen:
            seen.add(entry.key)
            kept.append(entry)
    return kept


def _item_fields(source: FeedSource, entry: FeedEntry, rules: list[KeywordRule]) -> dict[str, Any]:
    """What the item takes from the entry, as JSON-safe values (kept as a pending version)."""
    kind = source.kind or (ContentKind.VIDEO if entry.is_video else ContentKind.ARTICLE)
    video_url = entry.video_url or (entry.link if kind is ContentKind.VIDEO else None)
    # An entry without a date is dated when first fetched (by _apply), not at every fetch:
    # its digest must not change while the entry does not.
    dated = entry.published or entry.updated
    return {
        "title": (entry.title or entry.link or "Untitled")[:MAX_TITLE],
        "summary": entry.summary,
        "body_html": sanitise_html(entry.body_html) if entry.body_html else "",
        "kind": kind.value,
        "url": _fits(entry.link),
        "video_url": _fits(video_url),
        "thumbnail_url": _fits(entry.thumbnail_url),
        "duration_seconds": entry.duration_seconds,
        "speaker": entry.author[:200] if entry.author else None,
        "publish_at": dated.isoformat() if dated else None,
        "audiences": _audiences_for(source, entry, rules),
    }


def _audiences_for(source: FeedSource, entry: FeedEntry, rules: list[KeywordRule]) -> list[str]:
    words = " ".join([entry.title, entry.summary, *entry.tags]).lower()
    chosen = dict.fromkeys(source.audiences)
    for rule in rules:
        if re.search(rf"(?<!\w){re.escape(rule.keyword)}(?!\w)", words):
            chosen[rule.audience] = None
    return sorted(chosen)


def _new_item(
    session: Session,
    source: FeedSource,
    fields: Mapping[str, Any],
    audiences: Mapping[str, Audience],
    now: datetime,
    slug: str,
) -> ContentItem:
    item = ContentItem(
        slug=slug,
        source=ContentSource.FEED,
        source_ref=source.url,
        status=ContentStatus.PUBLISHED if source.publish else ContentStatus.DRAFT,
        created_at=now,
    )
    _apply(item, fields, audiences, now)
    session.add(item)
    return item


def _apply(
    item: ContentItem, fields: Mapping[str, Any], audiences: Mapping[str, Audience], now: datetime
) -> None:
    item.title = fields["title"]
    item.summary = fields["summary"]
    item.body_html = fields["body_html"]
    item.body_markdown = ""
    item.kind = ContentKind(fields["kind"])
    item.url = fields["url"]
    item.video_url = fields["video_url"]
    item.thumbnail_url = fields["thumbnail_url"]
    item.duration_seconds = fields["duration_seconds"]
    item.speaker = fields["speaker"]
    dated = fields["publish_at"]
    item.publish_at = datetime.fromisoformat(dated) if dated else (item.publish_at or now)
    item.audiences = [audiences[slug] for slug in fields["audiences"] if slug in audiences]
    item.content_hash = _digest(fields)


class _SlugMaker:
    """Free slugs under one source's prefix, from the slugs taken read once (an import of
    thousands of entries asks the database once, not once per entry)."""

    def __init__(self, session: Session, prefix: str) -> None:
        self.prefix = prefix
        self.taken = set(
            session.scalars(select(ContentItem.slug).where(ContentItem.slug.startswith(prefix)))
        )

    def free(self, title: str) -> str:
        """prefix + the title as a slug, or with -2, -3... when an item has it already; never
        the name of one of an item's pages."""
        part = derive_slug(title)
        wanted = self.prefix + (f"{part}-item" if part in PAGE_SUFFIXES else part)
        slug, number = wanted, 1
        while slug in self.taken:
            number += 1
            slug = f"{wanted}-{number}"
        self.taken.add(slug)
        return slug


def _fits(url: str | None) -> str | None:
    """A URL the column can hold; a longer one is dropped rather than cut into another."""
    return url if url and len(url) <= MAX_URL else None


def _digest(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()

"""Feeds in: upstream RSS, Atom and YouTube feeds followed as feed sources, fetched through
the address guard on their own schedule, their entries turned into library items.

The parser (feedparser) and the HTTP client (httpx, in commhub.outbound) are adapters at the
edge; the rest decides what becomes of an entry.
"""

from __future__ import annotations

from commhub.feeds.fetching import FetchOutcome, SourceFetcher, backoff, due_sources
from commhub.feeds.importing import (
    ImportCounts,
    import_entries,
    take_waiting_version,
    waiting_version,
)
from commhub.feeds.parsing import FeedEntry, NotAFeed, ParsedFeed, parse_feed
from commhub.feeds.sources import (
    KeywordRule,
    NewSource,
    SourceState,
    add_source,
    fetch_soon,
    get_source,
    list_sources,
    parse_interval,
    parse_rule,
    remove_source,
    rules_of,
    source_states,
)

__all__ = [
    "FeedEntry",
    "FetchOutcome",
    "ImportCounts",
    "KeywordRule",
    "NewSource",
    "NotAFeed",
    "ParsedFeed",
    "SourceFetcher",
    "SourceState",
    "add_source",
    "backoff",
    "due_sources",
    "fetch_soon",
    "get_source",
    "import_entries",
    "list_sources",
    "parse_feed",
    "parse_interval",
    "parse_rule",
    "remove_source",
    "rules_of",
    "source_states",
    "take_waiting_version",
    "waiting_version",
]

"""Feeds in and out. In: upstream RSS, Atom and YouTube feeds followed as feed sources,
fetched through the address guard on their own schedule, their entries turned into library
items. Out: a public RSS and Atom feed per audience, and a signed personal feed per contact
whose clicks count as that contact's exposures in the `rss` format.

The parser (feedparser), the writer (feedgen) and the HTTP client (httpx, in
commhub.outbound) are adapters at the edge; the rest decides what goes in and out.
"""

from __future__ import annotations

from commhub.feeds.fetching import FetchOutcome, SourceFetcher, backoff, due_sources
from commhub.feeds.importing import (
    ImportCounts,
    import_entries,
    take_waiting_version,
    waiting_version,
)
from commhub.feeds.outgoing import (
    ALL_AUDIENCES,
    audience_feed,
    feed_audience,
    feed_version,
    items_for_audiences,
)
from commhub.feeds.parsing import FeedEntry, NotAFeed, ParsedFeed, parse_feed
from commhub.feeds.personal import (
    FeedReader,
    live_personal_feed,
    open_personal_feed,
    personal_feed,
    personal_feed_of,
    personal_feed_path,
    record_feed_click,
    revoke_personal_feed,
)
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
    "ALL_AUDIENCES",
    "FeedEntry",
    "FeedReader",
    "FetchOutcome",
    "ImportCounts",
    "KeywordRule",
    "NewSource",
    "NotAFeed",
    "ParsedFeed",
    "SourceFetcher",
    "SourceState",
    "add_source",
    "audience_feed",
    "backoff",
    "due_sources",
    "feed_audience",
    "feed_version",
    "fetch_soon",
    "get_source",
    "import_entries",
    "items_for_audiences",
    "list_sources",
    "live_personal_feed",
    "open_personal_feed",
    "parse_feed",
    "parse_interval",
    "parse_rule",
    "personal_feed",
    "personal_feed_of",
    "personal_feed_path",
    "record_feed_click",
    "remove_source",
    "revoke_personal_feed",
    "rules_of",
    "source_states",
    "take_waiting_version",
    "waiting_version",
]

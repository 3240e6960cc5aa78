"""Fetch feed sources and import what they hold, one source at a time, each claimed once.

A fetch claims its source with one conditional UPDATE (as editions are claimed), so that two
schedulers, or a scheduler and `feeds fetch`, never fetch the same source at once. The bytes
come through the outbound client (address guard, size cap, timeout, redirects checked hop by
hop) and go to the parser; a 304 costs no parse. Whatever goes wrong with one source is
recorded on it (its last error, and a back-off that doubles, capped at a day) and never
stops the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import ColumnElement

from commhub.clock import Clock
from commhub.editions import new_owner
from commhub.feeds.importing import ImportCounts, import_entries
from commhub.feeds.parsing import NotAFeed, parse_feed
from commhub.outbound import Fetched, FetchFailed, FetchPolicy, fetch, guarded_client
from commhub.store import FeedSource, rowcount, session_scope

CLAIM = timedelta(minutes=10)  # longer than any fetch may take (its total timeout)
MAX_BACKOFF = timedelta(days=1)
MAX_ERROR = 1000  # characters of an error kept on the source


@dataclass(frozen=True)
class FetchOutcome:
    """What one source's fetch did, as `feeds fetch` prints it."""

    source_id: int
    url: str
    state: str  # new, updated, unchanged, error, busy
    counts: ImportCounts | None = None
    error: str | None = None
    not_modified: bool = False

    @property
    def failed(self) -> bool:
        return self.state == "error"

    def line(self) -> str:
        head = f"{self.source_id:>4}  {self.url}"
        if self.error is not None:
            return f"{head}: {self.state}: {self.error}"
        if self.not_modified:
            return f"{head}: unchanged (not modified since the last fetch)"
        return f"{head}: {self.state}: {self.counts}"


def due_sources(session: Session, now: datetime, limit: int | None = None) -> list[int]:
    """Sources whose next fetch is due and that nobody is fetching, soonest first."""
    query = (
        select(FeedSource.id)
        .where(FeedSource.next_fetch_at <= now, _unclaimed(now))
        .order_by(FeedSource.next_fetch_at, FeedSource.id)
    )
    return list(session.scalars(query.limit(limit) if limit else query))


class SourceFetcher:
    """Fetches sources through one guarded HTTP client (its connections reused)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        policy: FetchPolicy,
        fetcher: Callable[[str, str | None, str | None], Fetched] | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.owner = new_owner()
        self._client = None if fetcher else guarded_client(policy)
        self._fetch = fetcher or (
            lambda url, etag, modified: fetch(url, policy, etag, modified, self._client)
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def fetch_many(
        self, source_ids: Iterable[int], progress: Callable[[FetchOutcome], None] | None = None
    ) -> list[FetchOutcome]:
        outcomes = []
        for source_id in source_ids:
            outcome = self.fetch(source_id)
            outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
        return outcomes

    def fetch_due(self, limit: int | None = None) -> list[FetchOutcome]:
        with session_scope(self.sessions) as session:
            due = due_sources(session, self.clock.now(), limit)
        return [o for o in self.fetch_many(due) if o.state != "busy"]

    def fetch(self, source_id: int) -> FetchOutcome:
        """Fetch one source now (whether due or not) and import what it holds."""
        with session_scope(self.sessions) as session:
            source = session.get(FeedSource, source_id)
            if source is None:
                return FetchOutcome(source_id, "?", "error", error="no such feed source")
            url, etag, modified = source.url, source.etag, source.last_modified
            if not self._claim(session, source_id):
                return FetchOutcome(source_id, url, "busy", error="being fetched elsewhere")
        try:
            fetched = self._fetch(url, etag, modified)
            if fetched.status == 304:
                self._not_modified(source_id, fetched)
                return FetchOutcome(source_id, url, "unchanged", not_modified=True)
            parsed = parse_feed(fetched.body or b"", fetched.url, fetched.content_type)
        except (FetchFailed, NotAFeed) as failure:
            return self._failed(source_id, url, str(failure))
        except Exception as failure:  # a bug must not stop the other sources
            return self._failed(source_id, url, f"unexpected {type(failure).__name__}: {failure}")
        with session_scope(self.sessions) as session:
            source = session.get(FeedSource, source_id)
            if source is None:  # removed while it was being fetched
                return FetchOutcome(source_id, url, "error", error="removed during the fetch")
            counts = import_entries(session, source, parsed, self.clock.now())
            self._succeeded(source, fetched)
        return FetchOutcome(source_id, url, _state(counts), counts)

    def _claim(self, session: Session, source_id: int) -> bool:
        now = self.clock.now()
        claimed = session.execute(
            update(FeedSource)
            .where(FeedSource.id == source_id, _unclaimed(now))
            .values(lease_owner=self.owner, lease_expires_at=now + CLAIM, last_tried_at=now)
        )
        return rowcount(claimed) == 1

    def _not_modified(self, source_id: int, fetched: Fetched) -> None:
        with session_scope(self.sessions) as session:
            source = session.get(FeedSource, source_id)
            if source is not None:
                self._succeeded(source, fetched)

    def _succeeded(self, source: FeedSource, fetched: Fetched) -> None:
        now = self.clock.now()
        source.etag = fetched.etag or source.etag
        source.last_modified = fetched.last_modified or source.last_modified
        source.last_success_at = now
        source.last_error = None
        source.failures = 0
        source.next_fetch_at = now + timedelta(seconds=source.interval_seconds)
        source.lease_owner = None
        source.lease_expires_at = None

    def _failed(self, source_id: int, url: str, error: str) -> FetchOutcome:
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            source = session.get(FeedSource, source_id)
            if source is not None:
                source.failures += 1
                source.last_error = error[:MAX_ERROR]
                source.next_fetch_at = now + backoff(source.interval_seconds, source.failures)
                source.lease_owner = None
                source.lease_expires_at = None
        return FetchOutcome(source_id, url, "error", error=error)


def backoff(interval_seconds: int, failures: int) -> timedelta:
    """How long a source that failed `failures` times in a row waits: its interval, doubled
    for each failure after the first, at most a day."""
    doubled = interval_seconds * 2 ** min(failures - 1, 20)
    return min(timedelta(seconds=doubled), MAX_BACKOFF)


def _unclaimed(now: datetime) -> ColumnElement[bool]:
    return or_(FeedSource.lease_owner.is_(None), FeedSource.lease_expires_at <= now)


def _state(counts: ImportCounts) -> str:
    if counts.new:
        return "new"
    if counts.updated or counts.waiting:
        return "updated"
    return "unchanged"

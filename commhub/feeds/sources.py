"""Feed sources: the upstream feeds marketing points commhub at, as rows.

Adding one checks everything a person typed (the URL against the address guard's rules,
without connecting; the audiences on file; each keyword rule; the interval) and refuses the
lot with every problem named when anything is wrong. Removing one keeps the items it brought:
they are the library's now.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commhub.errors import Conflict, InvalidInput, NotFound, Problem
from commhub.library import audience_slugs
from commhub.outbound import UnsafeAddress, check_url
from commhub.store import (
    AuditAction,
    ContentItem,
    ContentKind,
    ContentStatus,
    FeedEntryRecord,
    FeedSource,
    record_action,
)

SOURCE = "feed source"
MIN_INTERVAL = timedelta(minutes=5)  # kinder to the publisher than any reader needs
MAX_INTERVAL = timedelta(days=7)
DEFAULT_INTERVAL = timedelta(hours=1)
MAX_URL = 2000  # the column
_RULE = re.compile(r"^\s*keyword\s*=\s*(?P<keyword>[^>]+?)\s*->\s*(?P<audience>\S+)\s*$")
_INTERVAL_PART = re.compile(r"(\d+)\s*([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


@dataclass(frozen=True)
class KeywordRule:
    """An entry whose title, summary or tags hold keyword also goes to audience."""

    keyword: str
    audience: str

    def __str__(self) -> str:
        return f"keyword={self.keyword} -> {self.audience}"


@dataclass(frozen=True)
class NewSource:
    """A feed source as a person asks for it, before it is checked."""

    url: str
    audiences: Sequence[str]
    rules: Sequence[str] = ()
    kind: str | None = None  # None: each entry's own (a video when it carries one)
    publish: bool = False
    every: str = "1h"
    use_audience_keywords: bool = True


def parse_rule(text: str) -> KeywordRule | None:
    """'keyword=api -> development', or None when text is not a rule."""
    found = _RULE.match(text)
    if found is None:
        return None
    return KeywordRule(found["keyword"].strip().lower(), found["audience"])


def parse_interval(text: str) -> timedelta | None:
    """'1h', '30m', '1d', '1h30m' as a timedelta; None when text is not one."""
    compact = text.strip().lower().replace(" ", "")
    if not compact or _INTERVAL_PART.sub("", compact):
        return None
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _INTERVAL_PART.findall(compact))
    return timedelta(seconds=seconds)


def add_source(
    session: Session, wanted: NewSource, now: datetime, allow_private: bool = False
) -> FeedSource:
    """Check and store a feed source, due for its first fetch at once; logged. A URL on a
    private network is refused unless the operator allows them (allow_private)."""
    problems: list[Problem] = []
    url = wanted.url.strip()
    try:
        if len(url) > MAX_URL:
            raise UnsafeAddress(f"longer than {MAX_URL} characters")
        check_url(url, allow_private=allow_private)
    except UnsafeAddress as refused:
        problems.append(Problem(SOURCE, str(refused), "url"))
    known = set(audience_slugs(session))
    audiences = _audiences(wanted.audiences, known, problems)
    rules = _rules(wanted.rules, known, problems)
    kind = _kind(wanted.kind, problems)
    interval = _interval(wanted.every, problems)
    if problems:
        raise InvalidInput(problems)
    existing = session.scalar(select(FeedSource.id).where(FeedSource.url == url))
    if existing is not None:
        raise Conflict(f"{url} is feed source {existing} already")
    source = FeedSource(
        url=url,
        audiences=audiences,
        rules=[str(rule) for rule in rules],
        use_audience_keywords=wanted.use_audience_keywords,
        kind=kind,
        publish=wanted.publish,
        interval_seconds=int(interval.total_seconds()),
        next_fetch_at=now,
        created_at=now,
    )
    session.add(source)
    session.flush()
    record_action(
        session, AuditAction.CREATED, "feed source", str(source.id),
        f"{url} for {', '.join(audiences)}" + (", published at once" if wanted.publish else ""),
        now,
    )  # fmt: skip
    return source


def remove_source(session: Session, source_id: int, now: datetime) -> FeedSource:
    """Stop following a feed source; the items it brought stay in the library."""
    source = get_source(session, source_id)
    session.delete(source)
    record_action(
        session, AuditAction.REMOVED, "feed source", str(source_id), source.url[:500], now
    )
    return source


def get_source(session: Session, source_id: int) -> FeedSource:
    source = session.get(FeedSource, source_id)
    if source is None:
        raise NotFound(f"no feed source {source_id}")
    return source


def list_sources(session: Session) -> list[FeedSource]:
    return list(session.scalars(select(FeedSource).order_by(FeedSource.id)))


@dataclass(frozen=True)
class SourceState:
    """A feed source as its page shows it: the row, and what it brought."""

    source: FeedSource
    items: int
    drafts: int  # items still drafts, for an editor to publish or archive
    waiting: int  # newer versions of published items, kept for an editor


def source_states(session: Session) -> list[SourceState]:
    """Every feed source with the counts of what it brought, in two queries."""
    sources = list_sources(session)
    rows = session.execute(
        select(
            FeedEntryRecord.source_id,
            func.count(ContentItem.id),
            func.count(ContentItem.id).filter(ContentItem.status == ContentStatus.DRAFT),
            func.count(FeedEntryRecord.pending),
        )
        .outerjoin(ContentItem, ContentItem.id == FeedEntryRecord.content_item_id)
        .group_by(FeedEntryRecord.source_id)
    )
    counts = {source_id: (items, drafts, waiting) for source_id, items, drafts, waiting in rows}
    return [SourceState(source, *counts.get(source.id, (0, 0, 0))) for source in sources]


def fetch_soon(session: Session, source_id: int, now: datetime) -> FeedSource:
    """Make a source due now: the scheduler fetches it within a minute (a web request
    fetches nothing itself)."""
    source = get_source(session, source_id)
    source.next_fetch_at = now
    return source


def rules_of(source: FeedSource) -> list[KeywordRule]:
    """The source's rules as stored (each was checked when added)."""
    return [rule for rule in map(parse_rule, source.rules) if rule is not None]


def _audiences(wanted: Sequence[str], known: set[str], problems: list[Problem]) -> list[str]:
    chosen = list(dict.fromkeys(a.strip() for a in wanted if a.strip()))
    if not chosen:
        problems.append(Problem(SOURCE, "name at least one audience", "audiences"))
    for slug in chosen:
        if slug not in known:
            problems.append(
                Problem(SOURCE, f'no audience "{slug}" (on file: {", ".join(sorted(known))})',
                        "audiences")
            )  # fmt: skip
    return chosen


def _rules(texts: Sequence[str], known: set[str], problems: list[Problem]) -> list[KeywordRule]:
    rules = []
    for text in texts:
        rule = parse_rule(text)
        if rule is None:
            problems.append(
                Problem(SOURCE, f'"{text}" is not a rule like "keyword=api -> development"',
                        "rule")
            )  # fmt: skip
        elif rule.audience not in known:
            problems.append(Problem(SOURCE, f'"{text}": no audience "{rule.audience}"', "rule"))
        else:
            rules.append(rule)
    return rules


def _kind(text: str | None, problems: list[Problem]) -> ContentKind | None:
    if text is None or not text.strip():
        return None
    try:
        return ContentKind(text.strip().lower())
    except ValueError:
        kinds = ", ".join(k.value for k in ContentKind)
        problems.append(Problem(SOURCE, f'"{text}" is not a kind ({kinds})', "kind"))
        return None


def _interval(text: str, problems: list[Problem]) -> timedelta:
    interval = parse_interval(text)
    if interval is None:
        problems.append(Problem(SOURCE, f'"{text}" is not an interval like 30m, 1h or 1d', "every"))
        return DEFAULT_INTERVAL
    if not MIN_INTERVAL <= interval <= MAX_INTERVAL:
        problems.append(Problem(SOURCE, f'"{text}": between 5 minutes and 7 days', "every"))
    return interval

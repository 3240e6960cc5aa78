"""What went out and how it did: the started editions a page at a time, and per edition what
came back (unique human opens, clicks, relevance votes), read from the figures tracking keeps
per group of messages, in one query each for a whole page of editions.

Counted as the item report counts them (reports.items): an open once per message and only a
person's (not one flagged as a machine's), a click once per message, and of a contact's votes
on an item in a message only the last.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commhub.editions.lifecycle import EditionSummary, get_edition, list_editions
from commhub.store import (
    Channel,
    Edition,
    EditionState,
    PostFigures,
    SocialPost,
)
from commhub.tracking import totals_per_edition


@dataclass(frozen=True)
class Engagement:
    """What came back from an edition's messages."""

    opens: int = 0  # messages opened by a person (machine opens left out)
    clicks: int = 0  # messages with at least one click
    yes: int = 0  # last votes "yes", one per message and item
    no: int = 0

    @property
    def relevance(self) -> float | None:
        """yes / (yes + no), or None with no votes."""
        votes = self.yes + self.no
        return self.yes / votes if votes else None


@dataclass(frozen=True)
class PostTally:
    """A social edition's posts by state, and the clicks of people on them."""

    states: Counter[str] = field(default_factory=Counter)
    clicks: int = 0

    @property
    def total(self) -> int:
        return sum(self.states.values())


@dataclass(frozen=True)
class EditionRow:
    """One started edition as the editions page lists it (a social edition: its posts)."""

    summary: EditionSummary
    series_name: str
    engagement: Engagement = field(default_factory=Engagement)
    posts: PostTally | None = None


@dataclass(frozen=True)
class EditionTimes:
    """When an edition was planned, started and finished, and its series' own zone."""

    id: int
    series_slug: str
    series_name: str
    timezone: str
    planned_at: datetime
    started_at: datetime | None
    prepared_at: datetime | None
    finished_at: datetime | None
    channel: Channel = Channel.NEWSLETTER


def count_started_editions(session: Session) -> int:
    """How many editions have started (the planned ones are the calendar's)."""
    return (
        session.scalar(
            select(func.count()).select_from(Edition).where(Edition.state != EditionState.PLANNED)
        )
        or 0
    )


def started_editions(session: Session, offset: int = 0, limit: int = 50) -> list[EditionRow]:
    """One page of the started editions, newest first (as list_editions orders them), with
    their message counts and engagement: three queries whatever the page's size."""
    summaries = list_editions(session, limit, offset)
    engagement = engagement_of(session, [summary.id for summary in summaries])
    social = [summary.id for summary in summaries if summary.channel is Channel.SOCIAL]
    posts = posts_of(session, social)
    return [
        EditionRow(
            summary,
            summary.series_name,
            engagement.get(summary.id, Engagement()),
            posts.get(summary.id, PostTally()) if summary.channel is Channel.SOCIAL else None,
        )
        for summary in summaries
    ]


def engagement_of(session: Session, edition_ids: Sequence[int]) -> dict[int, Engagement]:
    """Unique human opens, clicks and last votes of each edition's messages, from the figures
    kept per group of messages (editions without any are left out)."""
    return {
        edition_id: Engagement(t.human_opens, t.clicks, t.yes, t.no)
        for edition_id, t in totals_per_edition(session, edition_ids).items()
        if t.human_opens or t.clicks or t.votes
    }


def posts_of(session: Session, edition_ids: Sequence[int]) -> dict[int, PostTally]:
    """Each social edition's posts by state and their clicks by people, in two queries."""
    ids = list(edition_ids)
    if not ids:
        return {}
    states: dict[int, Counter[str]] = {}
    for edition_id, state, n in session.execute(
        select(SocialPost.edition_id, SocialPost.state, func.count())
        .where(SocialPost.edition_id.in_(ids))
        .group_by(SocialPost.edition_id, SocialPost.state)
    ):
        states.setdefault(edition_id, Counter())[str(state)] = int(n)
    clicks = dict(
        session.execute(
            select(SocialPost.edition_id, func.sum(PostFigures.clicks))
            .join(PostFigures, PostFigures.post_id == SocialPost.id)
            .where(SocialPost.edition_id.in_(ids))
            .group_by(SocialPost.edition_id)
        ).all()
    )
    return {
        edition_id: PostTally(found, int(clicks.get(edition_id) or 0))
        for edition_id, found in states.items()
    }


def edition_times(session: Session, edition_id: int) -> EditionTimes:
    """An edition's times and its series' zone (NotFound for an unknown id)."""
    edition = get_edition(session, edition_id)
    series = edition.series
    return EditionTimes(
        edition.id,
        series.slug,
        series.name,
        series.timezone,
        edition.planned_at,
        edition.started_at,
        edition.prepared_at,
        edition.finished_at,
        series.channel,
    )

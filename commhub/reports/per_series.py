"""Per series over time: each started edition's figures, from recipients to complaints, and
a social edition's posts and the clicks on them.

A handful of queries over the figures tracking keeps per group of messages, whatever the
number of events. Opens count once per message and only human ones (commhub's machine flag
and SendGrid's sg_machine_open both left out); clicks, bounces, unsubscribes and complaints
once per message; votes once per message and item. Delivered is the provider's delivered events
where the back end reports them, else the messages sent (`delivered_from` says which).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from commhub.store import (
    Edition,
    Message,
    MessageStatus,
    PostFigures,
    PostState,
    Series,
    SocialPost,
)
from commhub.tracking import EditionTotals, totals_per_edition

DELIVERED_EVENTS = "delivered events"
SENT = "sent"


@dataclass(frozen=True)
class EditionFigures:
    """What came of one started edition."""

    edition_id: int
    series_slug: str
    series_name: str
    channel: str
    started_at: datetime
    recipients: int = 0  # messages queued for contacts (those skipped left out)
    delivered: int = 0
    delivered_from: str = SENT  # DELIVERED_EVENTS, or SENT when the back end reports none
    human_opens: int = 0  # messages opened by a person
    clicks: int = 0  # messages with a click
    votes: int = 0  # items voted on, once per message
    unsubscribes: int = 0
    bounces: int = 0
    complaints: int = 0
    posts: int = 0  # a social edition's posts that went out
    post_clicks: int = 0  # clicks on them (link previews left out)

    def as_row(self) -> dict[str, object]:
        """One flat row (SERIES_COLUMNS)."""
        return {
            "edition_id": self.edition_id,
            "series": self.series_slug,
            "series_name": self.series_name,
            "channel": self.channel,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "recipients": self.recipients,
            "delivered": self.delivered,
            "delivered_from": self.delivered_from,
            "unique_human_opens": self.human_opens,
            "clicks": self.clicks,
            "votes": self.votes,
            "unsubscribes": self.unsubscribes,
            "bounces": self.bounces,
            "complaints": self.complaints,
            "posts": self.posts,
            "post_clicks": self.post_clicks,
        }


SERIES_COLUMNS: list[str] = list(EditionFigures(0, "", "", "", datetime.min).as_row())


def series_history(
    session: Session, series_slug: str | None = None, limit: int = 12
) -> list[EditionFigures]:
    """Each series' newest `limit` started editions (only series_slug's when given), oldest
    first, with their figures. Six queries, however many editions."""
    editions = _editions(session, series_slug, limit)
    if not editions:
        return []
    ids = [row.id for row in editions]
    recipients = _recipients(session, ids)
    figures = totals_per_edition(session, ids)
    posts, post_clicks = _posts(session, ids), _post_clicks(session, ids)
    found = []
    for row in editions:
        counted = figures.get(row.id, EditionTotals())
        reported = counted.delivered > 0
        found.append(
            EditionFigures(
                edition_id=row.id,
                series_slug=row.slug,
                series_name=row.name,
                channel=str(row.channel),
                started_at=row.started_at,
                recipients=recipients.get(row.id, 0),
                delivered=counted.delivered if reported else counted.sent,
                delivered_from=DELIVERED_EVENTS if reported else SENT,
                human_opens=counted.human_opens,
                clicks=counted.clicks,
                votes=counted.votes,
                unsubscribes=counted.unsubscribes,
                bounces=counted.bounces,
                complaints=counted.complaints,
                posts=posts.get(row.id, 0),
                post_clicks=post_clicks.get(row.id, 0),
            )
        )
    return found


def started_series(session: Session) -> list[tuple[str, str]]:
    """(slug, name) of every series with a started edition, by name."""
    rows = session.execute(
        select(Series.slug, Series.name)
        .where(select(Edition.id).where(Edition.series_id == Series.id, _started()).exists())
        .order_by(Series.name, Series.slug)
    )
    return [(slug, name) for slug, name in rows]


def _started() -> ColumnElement[bool]:
    return Edition.started_at.is_not(None)


def _editions(session: Session, series_slug: str | None, limit: int) -> list[_EditionRow]:
    newest_first = (Edition.started_at.desc(), Edition.id.desc())
    rank = func.row_number().over(partition_by=Edition.series_id, order_by=newest_first)
    query = (
        select(
            Edition.id, Series.slug, Series.name, Series.channel, Edition.started_at,
            rank.label("rank"),
        )
        .join(Series, Series.id == Edition.series_id)
        .where(_started())
    )  # fmt: skip
    if series_slug is not None:
        query = query.where(Series.slug == series_slug)
    ranked = query.subquery()
    rows = session.execute(
        select(ranked).where(ranked.c.rank <= limit).order_by(ranked.c.started_at, ranked.c.id)
    )
    return [_EditionRow(*row[:5]) for row in rows]


@dataclass(frozen=True)
class _EditionRow:
    id: int
    slug: str
    name: str
    channel: str
    started_at: datetime


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _recipients(session: Session, ids: list[int]) -> dict[int, int]:
    """edition id -> its messages not skipped (counted on the messages' own index)."""
    rows = session.execute(
        select(Message.edition_id, func.count())
        .where(Message.edition_id.in_(ids), Message.status != MessageStatus.SKIPPED)
        .group_by(Message.edition_id)
    )
    return {edition: int(n) for edition, n in rows}


def _posts(session: Session, ids: list[int]) -> dict[int, int]:
    """edition id -> its posts that went out."""
    rows = session.execute(
        select(SocialPost.edition_id, func.count())
        .where(SocialPost.edition_id.in_(ids), SocialPost.state == PostState.POSTED)
        .group_by(SocialPost.edition_id)
    )
    return {edition: int(n) for edition, n in rows}


def _post_clicks(session: Session, ids: list[int]) -> dict[int, int]:
    """edition id -> clicks of people on its posts' links (link previews left out)."""
    rows = session.execute(
        select(SocialPost.edition_id, func.sum(PostFigures.clicks))
        .join(PostFigures, PostFigures.post_id == SocialPost.id)
        .where(SocialPost.edition_id.in_(ids))
        .group_by(SocialPost.edition_id)
    )
    return {edition: int(n or 0) for edition, n in rows}

"""The calendar of editions: what goes out when, to whom and how many, as people read it.

Expected recipients are counted as of now (who may be sent to today), once per distinct
audience selection, so that listing a year of thousands of series costs a few queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import Session

from commhub.editions import in_audience, may_be_sent
from commhub.scheduling.cadence import zone_named
from commhub.store import Audience, Contact, Edition, EditionState, Series, series_audiences

# Editions still to act on are listed however overdue they are.
_OPEN = (EditionState.PLANNED, EditionState.HELD, EditionState.SENDING, EditionState.PAUSED)


class CalendarEntry(NamedTuple):
    edition_id: int
    series: str
    series_name: str
    planned_at: datetime  # in the series' zone
    timezone: str
    audiences: tuple[str, ...]  # () for every audience
    expected_recipients: int
    state: EditionState
    state_reason: str | None
    local_time: bool
    channel: str  # the series' channel: newsletter, video_digest...

    def as_json(self) -> dict[str, Any]:
        return {
            "edition_id": self.edition_id,
            "series": self.series,
            "series_name": self.series_name,
            "planned_at": self.planned_at.isoformat(),
            "date": self.planned_at.date().isoformat(),
            "time": self.planned_at.strftime("%H:%M"),
            "timezone": self.timezone,
            "audiences": list(self.audiences) or ["all"],
            "expected_recipients": self.expected_recipients,
            "state": self.state.value,
            "state_reason": self.state_reason,
            "local_time": self.local_time,
            "channel": self.channel,
        }


def calendar(
    session: Session,
    now: datetime,
    months: int = 12,
    series_slugs: Sequence[str] = (),
    since: datetime | None = None,
) -> list[CalendarEntry]:
    """Editions planned from `since` (default: now) to `months` ahead, in time order, and
    any earlier one still waiting for something."""
    start = since or now
    until = now + relativedelta(months=months)
    series_query = select(Series)
    if series_slugs:
        series_query = series_query.where(Series.slug.in_(list(series_slugs)))
    series_by_id = {series.id: series for series in session.scalars(series_query)}
    # Columns, not objects: a year of 10,000 series is 100,000 rows and more.
    rows = session.execute(
        select(
            Edition.id, Edition.series_id, Edition.planned_at, Edition.state,
            Edition.state_reason, Edition.prepared_at, Edition.recipient_count,
        )
        .where(
            Edition.series_id.in_(list(series_by_id)) if series_slugs else true(),
            Edition.planned_at <= until,
            or_(Edition.planned_at >= start, Edition.state.in_(_OPEN)),
        )
        .order_by(Edition.planned_at, Edition.series_id)
    )  # fmt: skip
    audiences = series_audience_slugs(session, set(series_by_id))
    counter = RecipientCounter(session, now)
    facts = {
        series.id: _SeriesFacts(series, audiences, counter) for series in series_by_id.values()
    }
    entries = []
    for edition_id, series_id, planned_at, state, reason, prepared_at, recipients in rows:
        known = facts[series_id]
        entries.append(
            CalendarEntry(
                edition_id, known.slug, known.name, planned_at.astimezone(known.zone),
                known.timezone, known.audiences,
                recipients if prepared_at is not None else known.expected,
                state, reason, known.local_time, known.channel,
            )
        )  # fmt: skip
    return entries


class _SeriesFacts:
    """What every calendar entry of one series shares, worked out once."""

    def __init__(
        self,
        series: Series,
        audiences: dict[int, dict[str, int]],
        counter: RecipientCounter,
    ) -> None:
        self.slug = series.slug
        self.name = series.name
        self.timezone = series.timezone
        self.zone = zone_named(series.timezone)
        self.local_time = series.local_time
        self.channel = series.channel.value
        chosen = {} if series.all_audiences else audiences.get(series.id, {})
        self.audiences = tuple(chosen)
        self.expected = counter.count(tuple(chosen.values()), series)


def series_audience_slugs(session: Session, series_ids: set[int]) -> dict[int, dict[str, int]]:
    """Each series' named audiences, slug -> id, by slug."""
    found: dict[int, dict[str, int]] = {}
    for series_id, slug, audience_id in session.execute(
        select(series_audiences.c.series_id, Audience.slug, Audience.id)
        .join(Audience, Audience.id == series_audiences.c.audience_id)
        .where(series_audiences.c.series_id.in_(series_ids))
        .order_by(Audience.slug)
    ):
        found.setdefault(series_id, {})[slug] = audience_id
    return found


class RecipientCounter:
    """How many contacts an audience selection would reach today, counted once each."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.today = now.date()
        self.known: dict[tuple[Any, ...], int] = {}

    def count(self, audience_ids: tuple[int, ...], series: Series) -> int:
        partner_filter = tuple(sorted((k, tuple(v)) for k, v in series.partner_filter.items()))
        key = (audience_ids, partner_filter, series.channel.value)
        if key not in self.known:
            self.known[key] = self._count(audience_ids, series)
        return self.known[key]

    def _count(self, audience_ids: tuple[int, ...], series: Series) -> int:
        # The editions' own rule of who is in the audience and who may be sent to, so that
        # the count promised is the count queued. No audience named (`audiences: all`): any.
        query = in_audience(
            select(func.count(func.distinct(Contact.id))),
            audience_ids or None,
            series.partner_filter,
        ).where(may_be_sent(series.channel, self.today))
        return int(self.session.scalar(query) or 0)

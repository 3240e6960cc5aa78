"""The calendar of editions: what goes out when, to whom and how many, as people read it.

Expected recipients are counted as of now (who may be sent to today), once per distinct
audience selection, so that listing a year of thousands of series costs a few queries.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from dateutil.relativedelta import relativedelta
from sqlalchemy import case, func, or_, select, true
from sqlalchemy.orm import Session

from commhub.editions import in_audience, may_be_sent, partner_filter_clause
from commhub.scheduling.cadence import zone_named
from commhub.store import (
    Audience,
    Channel,
    Contact,
    Edition,
    EditionState,
    Partner,
    Series,
    contact_roles,
    series_audiences,
)

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
    counter = RecipientCounter(session, now, series_by_id.values())
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
    """How many contacts an audience selection would reach today, counted once each.

    With the series to be asked about given up front, one pass over the contacts counts them
    grouped by what decides it (their roles as a bit set, whether each of those series'
    channels may reach them today, whether their partner passes each partner filter), and
    each series' count is summed from those few groups: one query however many series."""

    def __init__(self, session: Session, now: datetime, series: Iterable[Series] = ()) -> None:
        self.session = session
        self.today = now.date()
        self.known: dict[tuple[Any, ...], int] = {}
        self.series = list(series)
        self.groups: _Groups | None = None

    def count(self, audience_ids: tuple[int, ...], series: Series) -> int:
        partner_filter = tuple(sorted((k, tuple(v)) for k, v in series.partner_filter.items()))
        key = (audience_ids, partner_filter, series.channel.value)
        if key not in self.known:
            if self.groups is None and self.series:
                self.groups = _Groups.of(self.session, self.today, self.series)
            grouped = self.groups.count(audience_ids, series) if self.groups else None
            self.known[key] = grouped if grouped is not None else self._count(audience_ids, series)
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


def _contacts_version(session: Session) -> tuple[object, ...]:
    """What changes whenever a contact or partner does: every write sets updated_at (an
    import, a preference, a suppression, a role), and an erasure changes the count."""
    return tuple(
        session.execute(
            select(
                func.count(Contact.id),
                func.max(Contact.updated_at),
                select(func.max(Partner.updated_at)).scalar_subquery(),
            )
        ).one()
    )


# Counting who a series would reach is a pass over every contact (about 0.1 s at 100,000);
# they change far less often than the calendar and the dashboard are read. Kept per database
# and version of its contacts (a changed contact is a new version), the last few only.
_COUNTED: dict[tuple[object, ...], _Groups] = {}
_KEEP = 16
_COUNTED_LOCK = threading.Lock()  # the web server's threads share it


def _filter_key(series: Series) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(sorted((k, tuple(v)) for k, v in series.partner_filter.items() if v))


@dataclass(frozen=True)
class _Groups:
    """The contacts with a role, counted by (roles bit set, channels that may reach them,
    partner filters their partner passes)."""

    bits: dict[int, int]  # audience id -> its bit
    channels: tuple[Channel, ...]
    filters: tuple[tuple[tuple[str, tuple[str, ...]], ...], ...]
    rows: list[tuple[int, tuple[bool, ...], tuple[bool, ...], int]]

    @classmethod
    def of(cls, session: Session, today: date, series: Sequence[Series]) -> _Groups:
        """The groups for these series: counted again only when the contacts or partners
        have changed since (or the day has: pauses end), else as last counted."""
        channels = tuple(sorted({one.channel for one in series}))
        filters = tuple(sorted({f for one in series if (f := _filter_key(one))}))
        database = str(session.connection().engine.url)
        asked = (database, _contacts_version(session), today, channels, filters)
        found = _COUNTED.get(asked)
        if found is None:
            found = cls.counted(session, today, series)
            with _COUNTED_LOCK:
                _COUNTED[asked] = found
                while len(_COUNTED) > _KEEP:
                    _COUNTED.pop(next(iter(_COUNTED)))
        return found

    @classmethod
    def counted(cls, session: Session, today: date, series: Sequence[Series]) -> _Groups:
        audience_ids = sorted(session.scalars(select(Audience.id)))
        bits = {audience_id: 1 << n for n, audience_id in enumerate(audience_ids)}
        channels = tuple(sorted({one.channel for one in series}))
        filters = tuple(sorted({key for one in series if (key := _filter_key(one))}))
        mask = (
            select(
                contact_roles.c.contact_id,
                func.sum(
                    case(*((contact_roles.c.audience_id == a, b) for a, b in bits.items()), else_=0)
                ).label("mask"),
            )
            .group_by(contact_roles.c.contact_id)
            .subquery()
        )
        flags = [
            *(case((may_be_sent(channel, today), 1), else_=0) for channel in channels),
            *(case((partner_filter_clause(dict(f)), 1), else_=0) for f in filters),
        ]
        each = select(mask.c.mask, *(f.label(f"f{n}") for n, f in enumerate(flags))).join(
            Contact, Contact.id == mask.c.contact_id
        )
        if filters:
            each = each.outerjoin(Partner, Partner.id == Contact.partner_id)
        per_contact = each.subquery()
        # Grouped outside: PostgreSQL would not match the CASEs' bound dates in a GROUP BY.
        columns = [per_contact.c[f"f{n}"] for n in range(len(flags))]
        rows = [
            (
                int(found[0] or 0),
                tuple(bool(v) for v in found[1 : 1 + len(channels)]),
                tuple(bool(v) for v in found[1 + len(channels) : -1]),
                int(found[-1]),
            )
            for found in session.execute(
                select(per_contact.c.mask, *columns, func.count()).group_by(
                    per_contact.c.mask, *columns
                )
            )
        ]
        return cls(bits, channels, filters, rows)

    def count(self, audience_ids: tuple[int, ...], series: Series) -> int | None:
        """The series' count from the groups; None if it was not among those counted."""
        if series.channel not in self.channels or any(a not in self.bits for a in audience_ids):
            return None
        key = _filter_key(series)
        if key and key not in self.filters:
            return None
        wanted = 0
        for audience_id in audience_ids:
            wanted |= self.bits[audience_id]
        channel, passes = (
            self.channels.index(series.channel),
            (self.filters.index(key) if key else None),
        )
        return sum(
            n
            for mask, reachable, partner_ok, n in self.rows
            if (not wanted or mask & wanted)
            and reachable[channel]
            and (passes is None or partner_ok[passes])
        )

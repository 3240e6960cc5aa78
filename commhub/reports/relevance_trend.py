"""Relevance per audience over the last months: per calendar month (in UTC), the yes and no
votes on the items that the editions started that month carried to each audience.

Read from the vote figures tracking keeps per group of messages and item (a message's last
vote per item), joined to what each edition carried to whom: one query, grouped by month in
SQL, whatever the number of votes. A group's votes on an item count for each audience the
edition carried the item to that is in the group's role set, as in the per-item report.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from commhub.reports.partner_trend import month_starts
from commhub.store import Audience, Edition, EditionItem, GroupItemFigures, role_set_includes

MONTHS = 6
RELEVANCE_TREND_COLUMNS = ["audience", "month", "yes", "no", "relevance"]


@dataclass(frozen=True)
class AudienceRelevance:
    """One audience, month by month: the yes and no votes on what was carried to it."""

    slug: str
    name: str
    yes: tuple[int, ...]
    no: tuple[int, ...]

    @property
    def votes(self) -> tuple[int, ...]:
        return tuple(y + n for y, n in zip(self.yes, self.no, strict=True))

    @property
    def relevance(self) -> tuple[float | None, ...]:
        """yes / (yes + no) each month; None in a month with no votes."""
        return tuple(y / v if v else None for y, v in zip(self.yes, self.votes, strict=True))


@dataclass(frozen=True)
class RelevanceTrend:
    """The months' first moments (UTC, oldest first; the last is the month now is in) and
    each audience with a vote in them, by name."""

    months: tuple[datetime, ...]
    audiences: list[AudienceRelevance]

    def rows(self) -> list[dict[str, object]]:
        """One flat row per audience and month (RELEVANCE_TREND_COLUMNS); the relevance blank
        in a month with no votes."""
        return [
            {
                "audience": line.slug,
                "month": f"{start:%Y-%m}",
                "yes": yes,
                "no": no,
                "relevance": None if share is None else round(share, 4),
            }
            for line in self.audiences
            for start, yes, no, share in zip(
                self.months, line.yes, line.no, line.relevance, strict=True
            )
        ]


def relevance_over_time(session: Session, months: int = MONTHS, *, now: datetime) -> RelevanceTrend:
    """Per audience, the votes on items of the editions started in each of the last `months`
    calendar months in UTC (the one `now` is in last). One query."""
    bounds = month_starts(now, months, UTC)
    month = case(*((Edition.started_at < end, n) for n, end in enumerate(bounds[1:])), else_=None)
    carried = (
        select(
            Audience.slug.label("slug"),
            Audience.name.label("name"),
            month.label("month"),
            GroupItemFigures.yes.label("yes"),
            GroupItemFigures.no.label("no"),
        )
        .join(
            EditionItem,
            (EditionItem.edition_id == GroupItemFigures.edition_id)
            & (EditionItem.content_item_id == GroupItemFigures.content_item_id),
        )
        .join(Audience, Audience.id == EditionItem.audience_id)
        .join(Edition, Edition.id == GroupItemFigures.edition_id)
        .where(
            role_set_includes(Audience.slug, GroupItemFigures.role_set),
            Edition.started_at >= bounds[0],
            Edition.started_at < bounds[-1],
        )
        .subquery()
    )
    # Grouped outside the subquery: PostgreSQL would not match the CASE's bound times in a
    # GROUP BY with those in the SELECT.
    c = carried.c
    yes: defaultdict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * months)
    no: defaultdict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * months)
    for slug, name, n, yeses, noes in session.execute(
        select(c.slug, c.name, c.month, func.sum(c.yes), func.sum(c.no)).group_by(
            c.slug, c.name, c.month
        )
    ):
        yes[slug, name][int(n)] += int(yeses or 0)
        no[slug, name][int(n)] += int(noes or 0)
    lines = [
        AudienceRelevance(slug, name, tuple(yes[slug, name]), tuple(no[slug, name]))
        for slug, name in yes
        if sum(yes[slug, name]) + sum(no[slug, name])
    ]
    return RelevanceTrend(
        tuple(bounds[:-1]), sorted(lines, key=lambda line: (line.name, line.slug))
    )

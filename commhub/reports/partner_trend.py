"""One partner over the last months: per calendar month, how many of its contacts saw a key
message in each format, and how many opened or clicked anything.

Three queries however many months, contacts or events, each grouped by month in SQL. A
contact counts once per month and format, however often they were exposed; opens and clicks
a machine made (mail scanners, link previews) are left out, as everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from sqlalchemy import ColumnElement, case, func, literal_column, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from commhub.errors import NotFound
from commhub.store import Contact, Event, EventKind, Exposure, Partner
from commhub.tracking import FORMATS

MONTHS = 6


@dataclass(frozen=True)
class PartnerMonth:
    """One month of a partner: its first moment, the contacts reached per format, and the
    contacts who opened or clicked anything."""

    start: datetime
    reached: dict[str, int] = field(default_factory=dict)  # format -> contacts
    engaged: int = 0

    def in_format(self, fmt: str) -> int:
        return self.reached.get(fmt, 0)


@dataclass(frozen=True)
class PartnerTrend:
    """A partner's months, oldest first (the last is the month now is in, so far)."""

    partner_id: int
    partner: str
    contacts: int
    months: list[PartnerMonth]

    @property
    def anything(self) -> bool:
        """Whether any contact was reached, or opened or clicked, in these months."""
        return any(m.engaged or any(m.reached.values()) for m in self.months)


def month_starts(now: datetime, months: int = MONTHS, zone: tzinfo = UTC) -> list[datetime]:
    """The first moments of the last `months` calendar months in `zone` (the one now is in
    last), then of the month after: months + 1 bounds, oldest first."""
    if months < 1:
        raise ValueError(f"months must be 1 or more, not {months}")
    local = now.astimezone(zone)
    index = local.year * 12 + local.month - 1  # months since year 0
    return [
        datetime(n // 12, n % 12 + 1, 1, tzinfo=zone) for n in range(index - months + 1, index + 2)
    ]


def partner_over_time(
    session: Session,
    partner_id: int,
    months: int = MONTHS,
    *,
    now: datetime,
    zone: tzinfo = UTC,
) -> PartnerTrend:
    """The partner's last `months` calendar months (in `zone`), oldest first. Raises
    NotFound for an unknown partner."""
    bounds = month_starts(now, months, zone)
    found = session.execute(
        select(
            Partner.name,
            select(func.count()).where(Contact.partner_id == Partner.id).scalar_subquery(),
        ).where(Partner.id == partner_id)
    ).first()
    if found is None:
        raise NotFound(f"no partner {partner_id}")
    name, contacts = found
    reached = _contacts_per_month(
        session, partner_id, bounds, Exposure.contact_id, Exposure.occurred_at, Exposure.format
    )
    # Once per contact and month, whether they opened, clicked or both.
    engaged = _contacts_per_month(
        session, partner_id, bounds, Event.contact_id, Event.occurred_at, None,
        Event.kind.in_((EventKind.OPEN, EventKind.CLICK)),
        Event.data["machine"].as_boolean().is_not(True),
        Event.data["sg_machine_open"].as_boolean().is_not(True),
    )  # fmt: skip
    return PartnerTrend(
        partner_id,
        str(name),
        int(contacts or 0),
        [
            PartnerMonth(
                start,
                {str(fmt): reached.get((n, str(fmt)), 0) for fmt in FORMATS},
                engaged.get((n, ""), 0),
            )
            for n, start in enumerate(bounds[:-1])
        ],
    )


def _contacts_per_month(
    session: Session,
    partner_id: int,
    bounds: list[datetime],
    contact_id: InstrumentedAttribute[int] | InstrumentedAttribute[int | None],
    at: InstrumentedAttribute[datetime],
    split_by: InstrumentedAttribute[str] | None,
    *conditions: ColumnElement[bool],
) -> dict[tuple[int, str], int]:
    """(month, split_by's value or "") -> the partner's distinct contacts with a row in that
    month (0 = the oldest) meeting the conditions."""
    month = case(*((at < end, n) for n, end in enumerate(bounds[1:])), else_=None)
    what = split_by if split_by is not None else literal_column("''")
    rows = (
        select(what.label("what"), contact_id.label("contact_id"), month.label("month"))
        .join(Contact, Contact.id == contact_id)
        .where(Contact.partner_id == partner_id, at >= bounds[0], at < bounds[-1], *conditions)
        .subquery()
    )
    # Grouped outside the subquery: PostgreSQL would not match the CASE's bound times in a
    # GROUP BY with those in the SELECT.
    found = session.execute(
        select(rows.c.month, rows.c.what, func.count(rows.c.contact_id.distinct())).group_by(
            rows.c.month, rows.c.what
        )
    )
    return {(int(n), str(w)): int(count) for n, w, count in found}

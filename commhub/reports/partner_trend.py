"""One partner over the last months: per UTC calendar month, how many of its contacts saw a
key message in each format, and how many opened or clicked anything.

Two queries however many months, contacts or events: partner_months is kept as exposures,
opens and clicks come in. A contact counts once per month and format, however often they
were exposed; opens and clicks a machine made (mail scanners, link previews) are left out, as
everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commhub.errors import NotFound
from commhub.store import Contact, Partner, PartnerMonthCount
from commhub.tracking import FORMATS

MONTHS = 6
ENGAGED = "engaged"  # partner_months' mark for a person's open or click


@dataclass(frozen=True)
class PartnerMonth:
    """One UTC month of a partner: its first day (named in the zone asked for), the contacts
    reached per format, and the contacts who opened or clicked anything."""

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
    """The partner's last `months` UTC calendar months, oldest first. The months are UTC
    months whatever the zone: `zone` only names them (each start is the month's first day
    in that zone, so that it reads as the right month there). Raises NotFound for an unknown
    partner."""
    bounds = month_starts(now, months, UTC)
    found = session.execute(
        select(
            Partner.name,
            select(func.count()).where(Contact.partner_id == Partner.id).scalar_subquery(),
        ).where(Partner.id == partner_id)
    ).first()
    if found is None:
        raise NotFound(f"no partner {partner_id}")
    name, contacts = found
    # Kept as marks come in (commhub.contacts.partner_months): a few rows per month.
    held = {
        (month.astimezone(UTC), str(what)): int(count)
        for month, what, count in session.execute(
            select(
                PartnerMonthCount.month, PartnerMonthCount.what, PartnerMonthCount.contacts
            ).where(
                PartnerMonthCount.partner_id == partner_id,
                PartnerMonthCount.month >= bounds[0],
                PartnerMonthCount.month < bounds[-1],
            )
        )
    }
    return PartnerTrend(
        partner_id,
        str(name),
        int(contacts or 0),
        [
            PartnerMonth(
                datetime(start.year, start.month, 1, tzinfo=zone),
                {str(fmt): held.get((start, str(fmt)), 0) for fmt in FORMATS},
                held.get((start, ENGAGED), 0),
            )
            for start in bounds[:-1]
        ],
    )

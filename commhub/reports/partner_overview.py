"""Every partner's heat map at once, for the analytics page: each partner's grid as rows of
coloured cells, its named gaps, its contacts, and three orders (by name, by contacts, coldest
first). Read from the kept cells (partner_reach) and one count of contacts per partner."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commhub.reports.partner_detail import HeatRow, heat_rows
from commhub.reports.partners import PartnerGrid, Roles, Thresholds, heat_map
from commhub.store import Contact
from commhub.tracking import FORMATS

SORTS = ("name", "contacts", "coldness")  # the first is the default
HEAT_MAP_COLUMNS = [
    "partner",
    "role",
    "contacts",
    *(str(fmt) for fmt in FORMATS),
    *(f"{fmt}_colour" for fmt in FORMATS),
]


@dataclass(frozen=True)
class PartnerHeat:
    """One partner as the page shows it: its roles' rows, how many of its cells are red
    (a role without contacts counts red in every format), and its gaps in words. The rows
    and gaps are worked out when read: a page shows 50 partners of thousands."""

    partner_id: int
    partner: str
    contacts: int
    grid: PartnerGrid
    roles: Roles
    thresholds: Thresholds

    @cached_property
    def rows(self) -> list[HeatRow]:
        return heat_rows(self.roles, self.grid, self.thresholds)

    @cached_property
    def gaps(self) -> list[str]:
        """One line per role with a gap."""
        return self.grid.gaps_by_role(self.roles)

    @cached_property
    def red(self) -> int:
        grid, colour = self.grid, self.thresholds.colour
        return sum(
            len(FORMATS)
            if not grid.contacts.get(slug)
            else sum(colour(grid.share(slug, fmt)) == "red" for fmt in FORMATS)
            for slug, _name in self.roles
        )

    @property
    def reached_anyone(self) -> bool:
        return any(self.grid.reached.values())


def every_partner(
    session: Session, thresholds: Thresholds, sort: str = "name"
) -> list[PartnerHeat]:
    """Each partner with contacts in a role, in the order asked for: by name; by contacts,
    most first; or coldest first (most red cells), each then by name."""
    if sort not in SORTS:
        raise ValueError(f"unknown order {sort!r} (known: {', '.join(SORTS)})")
    roles, grids = heat_map(session)
    counts = dict(
        session.execute(
            select(Contact.partner_id, func.count())
            .where(Contact.partner_id.in_([g.partner_id for g in grids]))
            .group_by(Contact.partner_id)
        ).all()
    )
    found = [
        PartnerHeat(
            grid.partner_id,
            grid.partner,
            int(counts.get(grid.partner_id, 0)),
            grid,
            roles,
            thresholds,
        )
        for grid in grids
    ]  # by name already
    if sort == "contacts":
        found.sort(key=lambda p: -p.contacts)
    elif sort == "coldness":
        found.sort(key=lambda p: -p.red)
    return found

"""One partner's heat map: the same grid as the report of every partner (see partners.py),
computed for that partner alone, and its cells as the page draws them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from commhub.reports.partners import (
    CELLS,
    FORMAT_NAMES,
    PartnerGrid,
    Roles,
    Thresholds,
    fill,
    roles_in_order,
)
from commhub.store import Partner, PartnerReach
from commhub.tracking import FORMATS


@dataclass(frozen=True)
class HeatCell:
    """One role × format: the share reached and its colour (green, amber or red)."""

    format: str
    share: float
    colour: str


@dataclass(frozen=True)
class HeatRow:
    """One role of a partner: its contacts and a cell per format."""

    slug: str
    name: str
    contacts: int
    cells: list[HeatCell]


def partner_heat_map(session: Session, partner_id: int) -> tuple[Roles, PartnerGrid]:
    """The roles (slug, name) and one partner's grid, from that partner's rows of
    partner_reach (the grid is empty for a partner without contacts or an unknown id)."""
    roles = roles_in_order(session)
    name = session.scalar(select(Partner.name).where(Partner.id == partner_id)) or ""
    grid = PartnerGrid(name)
    for _partner_id, _name, role, *figures in session.execute(
        CELLS.where(PartnerReach.partner_id == partner_id)
    ):
        fill(grid, role, figures)
    return roles, grid


def heat_rows(roles: Roles, grid: PartnerGrid, thresholds: Thresholds) -> list[HeatRow]:
    """The grid as rows of cells, roles in order, formats in order, each cell coloured."""
    return [
        HeatRow(
            slug,
            name,
            grid.contacts.get(slug, 0),
            [
                HeatCell(fmt, grid.share(slug, fmt), thresholds.colour(grid.share(slug, fmt)))
                for fmt in FORMATS
            ],
        )
        for slug, name in roles
    ]


def format_names() -> dict[str, str]:
    """Each format's name as a person reads it ("the video digest")."""
    return {str(fmt): name for fmt, name in FORMAT_NAMES.items()}

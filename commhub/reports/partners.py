"""Per partner: the five roles × four formats, how much of each role has seen anything in each
format, coloured by thresholds, and the gaps named in words a partner manager acts on.

A cell is the share of the partner's contacts with that role who have at least one exposure
in that format. Green from GREEN, amber from AMBER, red below; a role with no contact at the
partner is a gap of its own ("no executive contact"). The figures are the ones kept as
exposures arrive and contacts change (contacts/partner_reach.py): no request recounts them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from commhub.store import Audience, Format, Partner, PartnerReach
from commhub.tracking import FORMATS

FORMAT_NAMES = {
    Format.EMAIL: "the newsletter",
    Format.VIDEO: "the video digest",
    Format.SOCIAL: "social posts",
    Format.RSS: "the feed",
}
Roles = list[tuple[str, str]]  # (slug, name) of each audience, in order


@dataclass(frozen=True)
class Thresholds:
    green: float = 0.5
    amber: float = 0.2

    def colour(self, share: float) -> str:
        return "green" if share >= self.green else "amber" if share >= self.amber else "red"


@dataclass
class PartnerGrid:
    partner: str
    contacts: dict[str, int] = field(default_factory=dict)  # role -> contacts with it
    # (role, format) -> contacts of that role with an exposure in that format
    reached: dict[tuple[str, str], int] = field(default_factory=dict)
    partner_id: int = 0

    def share(self, role: str, fmt: str) -> float:
        total = self.contacts.get(role, 0)
        return self.reached.get((role, fmt), 0) / total if total else 0.0

    def gaps_by_role(self, roles: Roles) -> list[str]:
        """The gaps, one line per role ("Development: no contact", "Sales: never saw social
        posts or the feed"), for a page that lists many partners."""
        found = []
        for slug, name in roles:
            if not self.contacts.get(slug):
                found.append(f"{name}: no contact")
                continue
            unseen = [FORMAT_NAMES[f] for f in FORMATS if not self.reached.get((slug, f))]
            if unseen:
                listed = (
                    ", ".join(unseen[:-1]) + " or " + unseen[-1] if len(unseen) > 1 else unseen[0]
                )
                found.append(f"{name}: never saw {listed}")
        return found

    def gaps(self, roles: Roles) -> list[str]:
        """What is missing, in words: roles without contacts, formats a role never saw."""
        found = []
        for slug, name in roles:
            if not self.contacts.get(slug):
                found.append(f"no {name.lower()} contact")
                continue
            for fmt in FORMATS:
                if not self.reached.get((slug, fmt)):
                    found.append(f"{name.lower()} contacts never saw {FORMAT_NAMES[fmt]}")
        return found


def heat_map(session: Session) -> tuple[Roles, list[PartnerGrid]]:
    """The roles (slug, name) and each partner's grid, partners by name: read from the
    figures kept per partner and role (partner_reach), never from the exposures."""
    roles = roles_in_order(session)
    grids: dict[int, PartnerGrid] = {}
    for partner_id, partner, role, *figures in session.execute(CELLS):
        grid = grids.setdefault(partner_id, PartnerGrid(partner, partner_id=partner_id))
        fill(grid, role, figures)
    return roles, sorted(grids.values(), key=lambda g: g.partner.casefold())


def roles_in_order(session: Session) -> Roles:
    """The roles (slug, name), by slug."""
    return [(slug, name) for slug, name in session.execute(
        select(Audience.slug, Audience.name).order_by(Audience.slug)
    )]  # fmt: skip


def fill(grid: PartnerGrid, role: str, figures: Sequence[int]) -> None:
    """Put one partner_reach row (contacts, then each format's) in a grid."""
    contacts, *reached = figures
    grid.contacts[role] = contacts
    for fmt, count in zip(FORMATS, reached, strict=True):
        if count:
            grid.reached[role, str(fmt)] = count


# (partner id, partner name, role, contacts, then each format's contacts), rows with contacts.
CELLS = (
    select(
        PartnerReach.partner_id,
        Partner.name,
        Audience.slug,
        PartnerReach.contacts,
        *(getattr(PartnerReach, str(fmt)) for fmt in FORMATS),
    )
    .join(Partner, Partner.id == PartnerReach.partner_id)
    .join(Audience, Audience.id == PartnerReach.audience_id)
    .where(PartnerReach.contacts > 0)
)


def heat_map_rows(
    roles: Roles, grids: list[PartnerGrid], thresholds: Thresholds
) -> list[dict[str, str | int | float]]:
    """One flat row per partner and role: contacts, each format's share and its colour."""
    return [
        {
            "partner": grid.partner,
            "role": slug,
            "contacts": grid.contacts.get(slug, 0),
            **{fmt: round(grid.share(slug, fmt), 4) for fmt in FORMATS},
            **{f"{fmt}_colour": thresholds.colour(grid.share(slug, fmt)) for fmt in FORMATS},
        }
        for grid in grids
        for slug, _name in roles
    ]

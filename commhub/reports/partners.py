"""Per partner: the five roles × four formats, how much of each role has seen anything in each
format, coloured by thresholds, and the gaps named in words a partner manager acts on.

A cell is the share of the partner's contacts with that role who have at least one exposure
in that format. Green from GREEN, amber from AMBER, red below; a role with no contact at the
partner is a gap of its own ("no executive contact").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commhub.store import Audience, Contact, Exposure, Format, Partner, contact_roles
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

    def share(self, role: str, fmt: str) -> float:
        total = self.contacts.get(role, 0)
        return self.reached.get((role, fmt), 0) / total if total else 0.0

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
    """The roles (slug, name) and each partner's grid, partners by name."""
    roles = [(slug, name) for slug, name in session.execute(
        select(Audience.slug, Audience.name).order_by(Audience.slug)
    )]  # fmt: skip
    grids: dict[str, PartnerGrid] = {}
    for partner, role, contacts in session.execute(
        select(Partner.name, Audience.slug, func.count(Contact.id))
        .join(Contact, Contact.partner_id == Partner.id)
        .join(contact_roles, contact_roles.c.contact_id == Contact.id)
        .join(Audience, Audience.id == contact_roles.c.audience_id)
        .group_by(Partner.name, Audience.slug)
    ):
        grids.setdefault(partner, PartnerGrid(partner)).contacts[role] = contacts
    reached: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
    for partner, role, fmt, contacts in session.execute(
        select(Partner.name, Audience.slug, Exposure.format, func.count(func.distinct(Contact.id)))
        .join(Contact, Contact.partner_id == Partner.id)
        .join(contact_roles, contact_roles.c.contact_id == Contact.id)
        .join(Audience, Audience.id == contact_roles.c.audience_id)
        .join(Exposure, Exposure.contact_id == Contact.id)
        .group_by(Partner.name, Audience.slug, Exposure.format)
    ):
        reached[partner][role, fmt] = contacts
    for partner, cells in reached.items():
        grids.setdefault(partner, PartnerGrid(partner)).reached = cells
    return roles, sorted(grids.values(), key=lambda g: g.partner.casefold())


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

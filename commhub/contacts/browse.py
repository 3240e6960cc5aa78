"""Browsing the directory: contacts and partners found by a search and filters, counted in
SQL and read a page at a time, and one partner with its contacts by role.

Every query here stays quick on a large directory (100,000 contacts): the count is one SQL
count, a page is LIMIT/OFFSET in the order of a unique index, and what a page shows beside
its rows (roles, partners, contact counts) is read for that page's rows only, in a fixed
number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload, selectinload

from commhub.errors import NotFound
from commhub.store import Audience, Contact, ContactStatus, Partner, contact_roles, name_key

# A SELECT of contacts (or partners), or of their count: filters narrow either alike.
Q = TypeVar("Q", bound=Select[Any])

# How many contacts of one role the partner page lists before it links to the full list.
PER_ROLE = 25


@dataclass(frozen=True)
class DirectoryChoices:
    """What the filters can be set to: the values partners and audiences hold."""

    types: list[str]
    tiers: list[str]
    regions: list[str]
    roles: list[tuple[str, str]]  # (slug, name) of each audience


@dataclass(frozen=True)
class ContactFilter:
    """Which contacts a list shows; an empty field does not narrow it."""

    search: str = ""  # in the name or the email address, any case
    partner_id: int | None = None
    partner_type: str | None = None
    tier: str | None = None
    region: str | None = None
    role: str | None = None  # an audience slug
    status: ContactStatus | None = None

    @property
    def narrowed(self) -> bool:
        return any(
            (self.search.strip(), self.partner_id, self.partner_type, self.tier, self.region,
             self.role, self.status)
        )  # fmt: skip


@dataclass(frozen=True)
class PartnerFilter:
    """Which partners a list shows; an empty field does not narrow it."""

    search: str = ""  # in the name, any case
    partner_type: str | None = None
    tier: str | None = None
    region: str | None = None

    @property
    def narrowed(self) -> bool:
        return any((self.search.strip(), self.partner_type, self.tier, self.region))


@dataclass(frozen=True)
class ContactSummary:
    """One contact as a list shows it."""

    id: int
    name: str
    email: str
    partner_id: int | None
    partner: str | None
    roles: list[str]  # audience names, by slug
    status: ContactStatus
    timezone: str | None
    consent_at: datetime | None
    consent_source: str | None


@dataclass(frozen=True)
class PartnerSummary:
    """One partner as a list shows it: its facts, how many contacts, and their roles."""

    id: int
    name: str
    type: str | None
    tier: str | None
    region: str | None
    contacts: int
    roles: list[tuple[str, int]]  # (audience name, contacts with it), by slug


@dataclass(frozen=True)
class RoleGroup:
    """A partner's contacts of one role (or of none): how many, and the first of them."""

    slug: str | None  # None: the contacts without a role
    name: str
    total: int
    contacts: list[ContactSummary]

    @property
    def more(self) -> int:
        return self.total - len(self.contacts)


@dataclass(frozen=True)
class PartnerDetail:
    """One partner: its facts, its contacts by status, and its contacts grouped by role."""

    id: int
    name: str
    type: str | None
    tier: str | None
    region: str | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    contacts: int
    by_status: dict[str, int]
    groups: list[RoleGroup] = field(default_factory=list)


def directory_choices(session: Session) -> DirectoryChoices:
    """The partner types, tiers and regions in use, and the audiences (roles), sorted."""

    def distinct(column: InstrumentedAttribute[str | None]) -> list[str]:
        query = select(column).where(column.is_not(None), column != "").distinct()
        return sorted(session.scalars(query), key=str.casefold)

    roles = [
        (slug, name)
        for slug, name in session.execute(
            select(Audience.slug, Audience.name).order_by(Audience.slug)
        )
    ]
    return DirectoryChoices(
        distinct(Partner.type), distinct(Partner.tier), distinct(Partner.region), roles
    )


def partner_name(session: Session, partner_id: int | None) -> str | None:
    """The name of the partner with this id, or None (no id, or no such partner)."""
    if partner_id is None:
        return None
    return session.scalar(select(Partner.name).where(Partner.id == partner_id))


def count_matching_contacts(session: Session, where: ContactFilter) -> int:
    """How many contacts the filter lets through (one SQL count)."""
    query = _contacts_where(select(func.count()).select_from(Contact), where)
    return session.scalar(query) or 0


def find_contacts(
    session: Session, where: ContactFilter, offset: int, limit: int
) -> list[ContactSummary]:
    """One page of the contacts the filter lets through, by email address."""
    query = (
        _contacts_where(select(Contact), where)
        .options(joinedload(Contact.partner), selectinload(Contact.roles))
        .order_by(Contact.email_key)
        .offset(offset)
        .limit(limit)
    )
    return [contact_summary(contact) for contact in session.scalars(query).unique()]


def count_matching_partners(session: Session, where: PartnerFilter) -> int:
    """How many partners the filter lets through (one SQL count)."""
    query = _partners_where(select(func.count()).select_from(Partner), where)
    return session.scalar(query) or 0


def find_partners(
    session: Session, where: PartnerFilter, offset: int, limit: int
) -> list[PartnerSummary]:
    """One page of the partners the filter lets through, by name, each with its number of
    contacts and the roles they hold (counted for this page's partners only)."""
    partners = list(
        session.scalars(
            _partners_where(select(Partner), where)
            .order_by(Partner.name_key, Partner.id)
            .offset(offset)
            .limit(limit)
        )
    )
    ids = [partner.id for partner in partners]
    totals: dict[int, int] = {}
    roles: dict[int, list[tuple[str, int]]] = defaultdict(list)
    if ids:
        totals = {
            partner_id: count
            for partner_id, count in session.execute(
                select(Contact.partner_id, func.count())
                .where(Contact.partner_id.in_(ids))
                .group_by(Contact.partner_id)
            )
            if partner_id is not None
        }
        for partner_id, name, count in session.execute(
            select(Contact.partner_id, Audience.name, func.count())
            .join(contact_roles, contact_roles.c.contact_id == Contact.id)
            .join(Audience, Audience.id == contact_roles.c.audience_id)
            .where(Contact.partner_id.in_(ids))
            .group_by(Contact.partner_id, Audience.slug, Audience.name)
            .order_by(Contact.partner_id, Audience.slug)
        ):
            if partner_id is not None:
                roles[partner_id].append((name, count))
    return [
        PartnerSummary(
            p.id, p.name, p.type, p.tier, p.region, totals.get(p.id, 0), roles.get(p.id, [])
        )
        for p in partners
    ]


def partner_detail(session: Session, partner_id: int, per_role: int = PER_ROLE) -> PartnerDetail:
    """A partner's facts and its contacts grouped by role: every audience is a group (an empty
    one is a gap), then the contacts without a role if there are any. Each group lists its
    first `per_role` contacts by email address and says how many it has.

    Raises NotFound for an unknown id.
    """
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound(f"no partner {partner_id}")
    by_status = {
        str(status): count
        for status, count in session.execute(
            select(Contact.status, func.count())
            .where(Contact.partner_id == partner_id)
            .group_by(Contact.status)
        )
    }
    audiences = list(session.execute(select(Audience.id, Audience.slug, Audience.name)))
    audiences.sort(key=lambda row: row.slug)
    role_totals: dict[int, int] = dict(
        session.execute(
            select(contact_roles.c.audience_id, func.count())
            .join(Contact, Contact.id == contact_roles.c.contact_id)
            .where(Contact.partner_id == partner_id)
            .group_by(contact_roles.c.audience_id)
        ).all()
    )
    # The first per_role contacts of each role, in one query (a window per role).
    rank = (
        func.row_number()
        .over(partition_by=contact_roles.c.audience_id, order_by=Contact.email_key)
        .label("rank")
    )
    ranked = (
        select(contact_roles.c.audience_id, Contact.id.label("contact_id"), rank)
        .join(contact_roles, contact_roles.c.contact_id == Contact.id)
        .where(Contact.partner_id == partner_id)
        .subquery()
    )
    listed: dict[int, list[int]] = defaultdict(list)
    for audience_id, contact_id in session.execute(
        select(ranked.c.audience_id, ranked.c.contact_id)
        .where(ranked.c.rank <= per_role)
        .order_by(ranked.c.audience_id, ranked.c.rank)
    ):
        listed[audience_id].append(contact_id)
    without_role = ~exists().where(contact_roles.c.contact_id == Contact.id)
    roleless_total = (
        session.scalar(select(func.count()).where(Contact.partner_id == partner_id, without_role))
        or 0
    )
    roleless = list(
        session.scalars(
            select(Contact.id)
            .where(Contact.partner_id == partner_id, without_role)
            .order_by(Contact.email_key)
            .limit(per_role)
        )
    )
    contacts = _summaries_by_id(
        session, {i for ids in listed.values() for i in ids} | set(roleless)
    )
    groups = [
        RoleGroup(
            slug, name, role_totals.get(audience_id, 0), [contacts[i] for i in listed[audience_id]]
        )
        for audience_id, slug, name in audiences
    ]
    if roleless_total:
        groups.append(RoleGroup(None, "No role", roleless_total, [contacts[i] for i in roleless]))
    return PartnerDetail(
        partner.id,
        partner.name,
        partner.type,
        partner.tier,
        partner.region,
        list(partner.tags or []),
        partner.created_at,
        partner.updated_at,
        sum(by_status.values()),
        by_status,
        groups,
    )


def _summaries_by_id(session: Session, ids: set[int]) -> dict[int, ContactSummary]:
    if not ids:
        return {}
    query = (
        select(Contact)
        .where(Contact.id.in_(sorted(ids)))
        .options(joinedload(Contact.partner), selectinload(Contact.roles))
    )
    return {contact.id: contact_summary(contact) for contact in session.scalars(query).unique()}


def contact_summary(contact: Contact) -> ContactSummary:
    """The contact as a list shows them (their partner and roles loaded)."""
    partner = contact.partner
    return ContactSummary(
        id=contact.id,
        name=" ".join(part for part in (contact.first_name, contact.last_name) if part),
        email=contact.email,
        partner_id=contact.partner_id,
        partner=partner.name if partner is not None else None,
        roles=[role.name for role in contact.roles],
        status=contact.status,
        timezone=contact.timezone,
        consent_at=contact.consent_at,
        consent_source=contact.consent_source,
    )


def _contacts_where(query: Q, where: ContactFilter) -> Q:
    conditions: list[ColumnElement[bool]] = []
    term = where.search.strip()
    if term:
        full_name = Contact.first_name + " " + Contact.last_name
        conditions.append(
            full_name.icontains(term, autoescape=True)
            | Contact.email_key.contains(term.lower(), autoescape=True)
        )
    if where.partner_id is not None:
        conditions.append(Contact.partner_id == where.partner_id)
    partner_facts = _partner_conditions(where.partner_type, where.tier, where.region)
    if partner_facts:
        conditions.append(Contact.partner_id.in_(select(Partner.id).where(*partner_facts)))
    if where.role:
        audience = select(Audience.id).where(Audience.slug == where.role).scalar_subquery()
        conditions.append(
            exists().where(
                contact_roles.c.contact_id == Contact.id, contact_roles.c.audience_id == audience
            )
        )
    if where.status is not None:
        conditions.append(Contact.status == where.status)
    return query.where(*conditions) if conditions else query


def _partners_where(query: Q, where: PartnerFilter) -> Q:
    conditions = _partner_conditions(where.partner_type, where.tier, where.region)
    term = name_key(where.search)
    if term:
        conditions.append(Partner.name_key.contains(term, autoescape=True))
    return query.where(*conditions) if conditions else query


def _partner_conditions(
    partner_type: str | None, tier: str | None, region: str | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for column, value in ((Partner.type, partner_type), (Partner.tier, tier),
                          (Partner.region, region)):  # fmt: skip
        if value:
            conditions.append(column == value)
    return conditions

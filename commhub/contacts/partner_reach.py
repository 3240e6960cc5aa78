"""The partner heat map kept as things happen: per partner and role, the contacts with that
role and, per format, those of them with at least one exposure in it (partner_reach); and per
contact the formats they have seen (contact_formats), so that only a contact's first exposure
in a format bumps the partner's cells.

Exposures bump the cells through record_formats_seen. A contact who comes, goes, changes
partner or roles moves its whole contribution: it is subtracted as it was and added as it is,
so the cost follows the contacts changed, never a partner's size. The import and its batches
call move_contacts; contacts written through the ORM (one by one, an erasure's delete) are
moved by a flush hook, so no path around it leaves the table behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, case, delete, event, func, inspect, select, true
from sqlalchemy.orm import Session, UOWTransaction

from commhub.contacts.partner_months import months_of, move_months
from commhub.store import (
    BulkInsert,
    Contact,
    ContactFormat,
    Exposure,
    Format,
    PartnerReach,
    contact_roles,
)

FORMATS: tuple[str, ...] = tuple(str(fmt) for fmt in Format)
FIGURES = ("contacts", *FORMATS)
REACH = cast(Table, PartnerReach.__table__)
CONTACT_FORMATS = cast(Table, ContactFormat.__table__)
Key = tuple[object, ...]
Figures = tuple[int, ...]
Cells = dict[tuple[int, int], list[int]]  # (partner id, audience id) -> FIGURES
_CHUNK = 1000  # ids per IN (...)

_FIRSTS = BulkInsert(
    CONTACT_FORMATS,
    ("contact_id", "format", "first_at"),
    "ON CONFLICT (contact_id, format) DO NOTHING",
    returning=("contact_id", "format"),
    order_by=("contact_id", "format"),
)
_ADD = BulkInsert(
    REACH,
    ("partner_id", "audience_id", *FIGURES),
    "ON CONFLICT (partner_id, audience_id) DO UPDATE SET "
    + ", ".join(f"{name} = {REACH.name}.{name} + excluded.{name}" for name in FIGURES),
    order_by=("partner_id", "audience_id"),
)


def record_formats_seen(session: Session, seen: Sequence[tuple[int, str]], now: datetime) -> None:
    """Note the formats these contacts have now been exposed in; each contact's first in a
    format bumps that format's cell of their partner, once per role. A few statements
    whatever their number, rows in key order (two writers cannot deadlock)."""
    pairs = sorted({(contact_id, str(fmt)) for contact_id, fmt in seen})
    unknown = {fmt for _contact, fmt in pairs} - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown format {sorted(unknown)[0]!r} (known: {', '.join(FORMATS)})")
    if not pairs:
        return
    firsts = _FIRSTS(session, [(contact_id, fmt, now) for contact_id, fmt in pairs])
    if not firsts:
        return
    formats_of: dict[int, list[str]] = {}
    for contact_id, fmt in firsts:
        formats_of.setdefault(int(contact_id), []).append(str(fmt))
    cells: Cells = {}
    for contact_id, partner_id, audience_id in _roles_of(session.connection(), formats_of):
        figures = cells.setdefault((partner_id, audience_id), [0] * len(FIGURES))
        for fmt in formats_of[contact_id]:
            figures[FIGURES.index(fmt)] += 1
    _add(session, cells)


def _roles_of(connection: Connection, contact_ids: Iterable[int]) -> list[tuple[int, int, int]]:
    """(contact id, partner id, audience id) of these contacts' roles at a partner."""
    ids = sorted(contact_ids)
    found: list[tuple[int, int, int]] = []
    for start in range(0, len(ids), _CHUNK):
        found += [
            (int(c), int(p), int(a))
            for c, p, a in connection.execute(
                select(Contact.id, Contact.partner_id, contact_roles.c.audience_id)
                .join(contact_roles, contact_roles.c.contact_id == Contact.id)
                .where(Contact.id.in_(ids[start : start + _CHUNK]), Contact.partner_id.is_not(None))
            )
        ]
    return found


def contributions(connection: Connection, contact_ids: Iterable[int]) -> Cells:
    """What these contacts, as they are now, count for in partner_reach."""
    ids = sorted(set(contact_ids))
    cells: Cells = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        seen = (
            select(ContactFormat.contact_id, ContactFormat.format)
            .where(ContactFormat.contact_id.in_(chunk))
            .subquery()
        )
        for partner_id, audience_id, *figures in connection.execute(
            _grouped(Contact.id.in_(chunk), seen)
        ):
            _plus(cells, (int(partner_id), int(audience_id)), [int(n) for n in figures])
    return cells


def _grouped(condition: Any, seen: Any) -> Any:
    """Per partner and role, of the contacts meeting the condition: how many, and how many
    of them appear in `seen` (contact_id, format) with each format."""
    return (
        select(
            Contact.partner_id,
            contact_roles.c.audience_id,
            func.count(Contact.id.distinct()),
            *(
                func.count(case((seen.c.format == fmt, Contact.id), else_=None).distinct())
                for fmt in FORMATS
            ),
        )
        .join(contact_roles, contact_roles.c.contact_id == Contact.id)
        .outerjoin(seen, seen.c.contact_id == Contact.id)
        .where(condition, Contact.partner_id.is_not(None))
        .group_by(Contact.partner_id, contact_roles.c.audience_id)
    )


def _plus(cells: Cells, key: tuple[int, int], figures: Sequence[int], sign: int = 1) -> None:
    held = cells.setdefault(key, [0] * len(FIGURES))
    for n, value in enumerate(figures):
        held[n] += sign * value


def move(session: Session, before: Cells, after: Cells) -> None:
    """Replace these contacts' old contribution (before) by their new one (after)."""
    cells: Cells = {}
    for key, figures in after.items():
        _plus(cells, key, figures)
    for key, figures in before.items():
        _plus(cells, key, figures, -1)
    _add(session, {key: figures for key, figures in cells.items() if any(figures)})


def _add(session: Session, cells: Mapping[tuple[int, int], Sequence[int]]) -> None:
    if not cells:
        return
    _ADD(session, [(*key, *cells[key]) for key in sorted(cells)])
    if all(n >= 0 for figures in cells.values() for n in figures):
        return  # only added to: no row fell to zeros (an exposure's path, the common one)
    # A partner left without contacts in a role keeps no row of zeros.
    partners = sorted({partner_id for partner_id, _audience in cells})
    session.connection().execute(
        delete(PartnerReach).where(
            PartnerReach.partner_id.in_(partners), *(REACH.c[n] == 0 for n in FIGURES)
        )
    )


# Contacts written through the ORM: their contribution before the flush, keyed by session.
_MOVED = "partner_reach.before"
_MOVES = ("partner", "partner_id", "roles")


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    leaving = [c.id for c in session.deleted if isinstance(c, Contact)]
    moving = [
        c.id
        for c in session.dirty
        if isinstance(c, Contact)
        and any(inspect(c).attrs[name].history.has_changes() for name in _MOVES)
    ]
    coming = [c for c in session.new if isinstance(c, Contact)]
    if not (leaving or moving or coming):
        return
    before = contributions(session.connection(), leaving + moving) if leaving or moving else {}
    # partner_months: a new contact has no marks yet; a leaving one's go with it.
    months = months_of(session.connection(), leaving + moving)
    session.info[_MOVED] = (before, moving, coming, months)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    pending = session.info.pop(_MOVED, None)
    if pending is None:
        return
    before, moving, coming, months = pending
    ids = [*moving, *(c.id for c in coming if c.id is not None)]
    move(session, before, contributions(session.connection(), ids) if ids else {})
    move_months(session, months, months_of(session.connection(), moving))


class PartnerReachAggregate:
    """partner_reach: per (partner id, audience id), FIGURES."""

    @property
    def name(self) -> str:
        return "contacts reached per partner and role"

    @property
    def columns(self) -> tuple[str, ...]:
        return FIGURES

    def held(self, session: Session) -> dict[Key, Figures]:
        return {
            (int(row[0]), int(row[1])): tuple(int(n) for n in row[2:])
            for row in session.execute(
                select(REACH.c.partner_id, REACH.c.audience_id, *(REACH.c[n] for n in FIGURES))
            )
        }

    def recomputed(self, session: Session) -> dict[Key, Figures]:
        seen = select(Exposure.contact_id, Exposure.format).distinct().subquery()
        return {
            (int(partner_id), int(audience_id)): tuple(int(n) for n in figures)
            for partner_id, audience_id, *figures in session.execute(_grouped(true(), seen))
        }

    def replace(self, session: Session, rows: Mapping[Key, Figures]) -> None:
        session.execute(delete(PartnerReach))
        kept = {
            (cast(int, key[0]), cast(int, key[1])): figures
            for key, figures in rows.items()
            if any(figures)
        }
        if kept:
            _ADD(session, [(*key, *kept[key]) for key in sorted(kept)])


class ContactFormatsAggregate:
    """contact_formats: per (contact id, format), (1,) for a format the contact has seen."""

    @property
    def name(self) -> str:
        return "formats each contact has seen"

    @property
    def columns(self) -> tuple[str, ...]:
        return ("seen",)

    def held(self, session: Session) -> dict[Key, Figures]:
        return {
            (int(contact_id), str(fmt)): (1,)
            for contact_id, fmt in session.execute(
                select(ContactFormat.contact_id, ContactFormat.format)
            )
        }

    def recomputed(self, session: Session) -> dict[Key, Figures]:
        return {
            (int(contact_id), str(fmt)): (1,)
            for contact_id, fmt in session.execute(
                select(Exposure.contact_id, Exposure.format).distinct()
            )
        }

    def replace(self, session: Session, rows: Mapping[Key, Figures]) -> None:
        """Each format seen, from the contact's first exposure in it (now unknown: none)."""
        firsts = {
            (int(contact_id), str(fmt)): first_at
            for contact_id, fmt, first_at in session.execute(
                select(
                    Exposure.contact_id, Exposure.format, func.min(Exposure.occurred_at)
                ).group_by(Exposure.contact_id, Exposure.format)
            )
        }
        session.execute(delete(ContactFormat))
        wanted = sorted(
            (cast(int, key[0]), cast(str, key[1])) for key, figures in rows.items() if any(figures)
        )
        _FIRSTS(session, [(*key, firsts[key]) for key in wanted if key in firsts])


PARTNER_AGGREGATES = (ContactFormatsAggregate(), PartnerReachAggregate())

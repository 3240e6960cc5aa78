"""A partner's months kept as they happen: per contact, a mark for each UTC calendar month in
which they were exposed in a format, or opened or clicked something as a person ("engaged")
(contact_months); and per partner, month and format (or "engaged"), how many of its contacts
have that mark (partner_months), so that a partner's trend reads a few small rows.

Only a new mark bumps its partner's row: marks go in ON CONFLICT DO NOTHING RETURNING. A
contact who changes partner carries their marks along (subtracted from the old partner,
added to the new); an erased contact's marks are subtracted, and cascade away with them.
partner_reach's flush hooks and the import's batches call months_of and move_months.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    String,
    Table,
    delete,
    func,
    literal,
    select,
    union,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from commhub.store import (
    BulkInsert,
    Contact,
    ContactMonth,
    Event,
    EventKind,
    Exposure,
    Format,
    PartnerMonthCount,
)

ENGAGED = "engaged"
WHATS: tuple[str, ...] = (*(str(fmt) for fmt in Format), ENGAGED)
MARKS = cast(Table, ContactMonth.__table__)
MONTHS = cast(Table, PartnerMonthCount.__table__)
Key = tuple[object, ...]
Figures = tuple[int, ...]
Counts = dict[tuple[int, datetime, str], int]  # (partner id, month, what) -> contacts
_CHUNK = 1000  # ids per IN (...)

_MARK = BulkInsert(
    MARKS,
    ("contact_id", "month", "what"),
    "ON CONFLICT (contact_id, month, what) DO NOTHING",
    returning=("contact_id", "month", "what"),
    order_by=("contact_id", "month", "what"),
)
_ADD = BulkInsert(
    MONTHS,
    ("partner_id", "month", "what", "contacts"),
    "ON CONFLICT (partner_id, month, what) DO UPDATE SET "
    f"contacts = {MONTHS.name}.contacts + excluded.contacts",
    order_by=("partner_id", "month", "what"),
)


def month_of(moment: datetime) -> datetime:
    """The first moment of the UTC calendar month the moment is in."""
    utc = moment.astimezone(UTC)
    return datetime(utc.year, utc.month, 1, tzinfo=UTC)


def record_months(session: Session, marks: Iterable[tuple[int, str, datetime]]) -> None:
    """Mark (contact id, what, when): a format the contact was exposed in, or ENGAGED for a
    person's open or click. Each new mark bumps the contact's partner's row for that month.
    A few statements whatever their number, rows in key order (two writers cannot
    deadlock)."""
    rows = sorted({(int(contact_id), month_of(at), str(what)) for contact_id, what, at in marks})
    unknown = {what for _contact, _month, what in rows} - set(WHATS)
    if unknown:
        raise ValueError(f"unknown mark {sorted(unknown)[0]!r} (known: {', '.join(WHATS)})")
    new = _MARK(session, rows)
    if not new:
        return
    read = _reader(session)
    partner_of = _partners_of(session.connection(), {int(contact_id) for contact_id, *_ in new})
    counts: Counts = {}
    for contact_id, month, what in new:
        partner_id = partner_of.get(int(contact_id))
        if partner_id is not None:
            key = (partner_id, read(month), str(what))
            counts[key] = counts.get(key, 0) + 1
    _add(session, counts)


def record_engaged(session: Session, acted: Iterable[tuple[int, datetime]]) -> None:
    """A person's opens or clicks: (contact id, when)."""
    record_months(session, [(contact_id, ENGAGED, at) for contact_id, at in acted])


def _reader(session: Session) -> Callable[[Any], datetime]:
    """Turns a raw RETURNING month (SQLite's text) into a UTC datetime."""
    dialect = session.get_bind().dialect
    process = MARKS.c.month.type.dialect_impl(dialect).result_processor(dialect, None)
    return cast(Callable[[Any], datetime], process or (lambda value: value))


def _partners_of(connection: Connection, contact_ids: Iterable[int]) -> dict[int, int]:
    ids = sorted(contact_ids)
    found: dict[int, int] = {}
    for start in range(0, len(ids), _CHUNK):
        for contact_id, partner_id in connection.execute(
            select(Contact.id, Contact.partner_id).where(
                Contact.id.in_(ids[start : start + _CHUNK]), Contact.partner_id.is_not(None)
            )
        ):
            found[int(contact_id)] = int(cast(int, partner_id))
    return found


def months_of(connection: Connection, contact_ids: Iterable[int]) -> Counts:
    """What these contacts, as they are now, count for in partner_months."""
    ids = sorted(set(contact_ids))
    counts: Counts = {}
    for start in range(0, len(ids), _CHUNK):
        for partner_id, month, what, contacts in connection.execute(
            select(Contact.partner_id, ContactMonth.month, ContactMonth.what, func.count())
            .join(Contact, Contact.id == ContactMonth.contact_id)
            .where(
                ContactMonth.contact_id.in_(ids[start : start + _CHUNK]),
                Contact.partner_id.is_not(None),
            )
            .group_by(Contact.partner_id, ContactMonth.month, ContactMonth.what)
        ):
            key = (int(cast(int, partner_id)), month, str(what))
            counts[key] = counts.get(key, 0) + int(contacts)
    return counts


def move_months(session: Session, before: Counts, after: Counts) -> None:
    """Replace these contacts' old counts (before) by their new ones (after)."""
    counts = dict(after)
    for key, contacts in before.items():
        counts[key] = counts.get(key, 0) - contacts
    _add(session, {key: n for key, n in counts.items() if n})


def _add(session: Session, counts: Mapping[tuple[int, datetime, str], int]) -> None:
    if not counts:
        return
    _ADD(session, [(*key, counts[key]) for key in sorted(counts)])
    if any(n < 0 for n in counts.values()):
        # A partner's month left without contacts keeps no row of zeros.
        partners = sorted({partner_id for partner_id, _month, _what in counts})
        session.connection().execute(
            delete(PartnerMonthCount).where(
                PartnerMonthCount.partner_id.in_(partners), PartnerMonthCount.contacts == 0
            )
        )


def _month_text(session: Session, moment: Any) -> ColumnElement[str]:
    """SQL: "YYYY-MM", the UTC month of a stored time (SQLite keeps UTC text)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", moment), "YYYY-MM", type_=String())
    return func.substr(moment, 1, 7, type_=String())


def _marks(session: Session) -> Any:
    """SQL: the distinct (contact_id, month "YYYY-MM", what) the exposures and events say."""
    exposed = select(
        Exposure.contact_id.label("contact_id"),
        _month_text(session, Exposure.occurred_at).label("month"),
        Exposure.format.label("what"),
    )
    engaged = select(
        Event.contact_id.label("contact_id"),
        _month_text(session, Event.occurred_at).label("month"),
        literal(ENGAGED, String()).label("what"),
    ).where(
        Event.contact_id.is_not(None),
        Event.kind.in_((EventKind.OPEN, EventKind.CLICK)),
        Event.data["machine"].as_boolean().is_not(True),
        Event.data["sg_machine_open"].as_boolean().is_not(True),
    )
    return union(exposed, engaged).subquery()  # UNION: distinct rows


def _month(text: str) -> datetime:
    year, month = text.split("-")
    return datetime(int(year), int(month), 1, tzinfo=UTC)


class ContactMonthsAggregate:
    """contact_months: per (contact id, month, what), (1,) for a mark the contact has."""

    @property
    def name(self) -> str:
        return "months each contact was reached or engaged in"

    @property
    def columns(self) -> tuple[str, ...]:
        return ("marked",)

    def held(self, session: Session) -> dict[Key, Figures]:
        return {
            (int(contact_id), month, str(what)): (1,)
            for contact_id, month, what in session.execute(
                select(ContactMonth.contact_id, ContactMonth.month, ContactMonth.what)
            )
        }

    def recomputed(self, session: Session) -> dict[Key, Figures]:
        marks = _marks(session)
        return {
            (int(contact_id), _month(month), str(what)): (1,)
            for contact_id, month, what in session.execute(
                select(marks.c.contact_id, marks.c.month, marks.c.what).join(
                    Contact, Contact.id == marks.c.contact_id
                )
            )
        }

    def replace(self, session: Session, rows: Mapping[Key, Figures]) -> None:
        session.execute(delete(ContactMonth))
        _MARK(
            session,
            sorted(cast(tuple[int, datetime, str], key) for key, f in rows.items() if any(f)),
        )


class PartnerMonthsAggregate:
    """partner_months: per (partner id, month, what), (contacts,)."""

    @property
    def name(self) -> str:
        return "contacts reached or engaged per partner and month"

    @property
    def columns(self) -> tuple[str, ...]:
        return ("contacts",)

    def held(self, session: Session) -> dict[Key, Figures]:
        return {
            (int(partner_id), month, str(what)): (int(contacts),)
            for partner_id, month, what, contacts in session.execute(
                select(
                    PartnerMonthCount.partner_id,
                    PartnerMonthCount.month,
                    PartnerMonthCount.what,
                    PartnerMonthCount.contacts,
                )
            )
        }

    def recomputed(self, session: Session) -> dict[Key, Figures]:
        marks = _marks(session)
        return {
            (int(partner_id), _month(month), str(what)): (int(contacts),)
            for partner_id, month, what, contacts in session.execute(
                select(Contact.partner_id, marks.c.month, marks.c.what, func.count())
                .join(Contact, Contact.id == marks.c.contact_id)
                .where(Contact.partner_id.is_not(None))
                .group_by(Contact.partner_id, marks.c.month, marks.c.what)
            )
        }

    def replace(self, session: Session, rows: Mapping[Key, Figures]) -> None:
        session.execute(delete(PartnerMonthCount))
        kept = sorted(
            (*cast(tuple[int, datetime, str], key), figures[0])
            for key, figures in rows.items()
            if any(figures)
        )
        _ADD(session, kept)


PARTNER_MONTH_AGGREGATES = (ContactMonthsAggregate(), PartnerMonthsAggregate())

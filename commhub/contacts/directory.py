"""Partners and contacts in the database: batched upsert by email, streaming export."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO, cast

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.orm import Session

from commhub.contacts.csv_format import ContactRow, ContactsFile, PartnerFields, read_contacts_csv
from commhub.contacts.erasure import suppressed_keys
from commhub.contacts.partner_months import months_of, move_months
from commhub.contacts.partner_reach import contributions, move
from commhub.errors import ContactImportError, Problem
from commhub.library import audience_slugs
from commhub.store import (
    AuditAction,
    Contact,
    ContactStatus,
    Partner,
    contact_roles,
    name_key,
    record_action,
)

BATCH_SIZE = 5000
CONTACTS_TABLE = cast(Table, Contact.__table__)
IMPORT_CONSENT_SOURCE = "import"


@dataclass
class ContactImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    partners_created: list[str] = field(default_factory=list)
    # Addresses erased at their owner's request: never stored again.
    erased: int = 0

    def summary(self) -> str:
        erased = f"; {self.erased} skipped (erased at their request)" if self.erased else ""
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged; "
            f"{len(self.partners_created)} new partners{erased}"
        )


def import_contacts(
    session: Session,
    rows: Sequence[ContactRow],
    now: datetime,
    progress: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> ContactImportReport:
    """Create or update contacts (by email, case-insensitively) and their partners.

    Rows must come from read_contacts_csv (validated). An import never reactivates a contact
    who unsubscribed, bounced or complained. The caller owns the transaction, so a failure
    anywhere leaves the database as it was.
    """
    report = ContactImportReport()
    role_ids = audience_slugs(session)
    partner_ids = _ensure_partners(session, [r.partner for r in rows], report)
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        _upsert_batch(session, batch, now, role_ids, partner_ids, report)
        if progress is not None:
            progress(len(batch))
    return report


def _ensure_partners(
    session: Session, partners: list[PartnerFields], report: ContactImportReport
) -> dict[str, int]:
    wanted: dict[str, PartnerFields] = {}
    for fields in partners:
        key = name_key(fields.name)
        wanted[key] = wanted[key].filled_from(fields) if key in wanted else fields
    existing: dict[str, Partner] = {}
    keys = list(wanted)
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        existing.update(
            (p.name_key, p)
            for p in session.scalars(select(Partner).where(Partner.name_key.in_(chunk)))
        )
    for key, fields in wanted.items():
        partner = existing.get(key)
        if partner is None:
            partner = Partner(name=fields.name, tags=[])
            session.add(partner)
            existing[key] = partner
            report.partners_created.append(fields.name)
        for attribute in ("type", "tier", "region"):
            value = getattr(fields, attribute)
            if value and getattr(partner, attribute) != value:
                setattr(partner, attribute, value)
    session.flush()
    return {key: partner.id for key, partner in existing.items()}


def _upsert_batch(
    session: Session,
    batch: Sequence[ContactRow],
    now: datetime,
    role_ids: dict[str, int],
    partner_ids: dict[str, int],
    report: ContactImportReport,
) -> None:
    erased = suppressed_keys(session, [row.key for row in batch])
    if erased:
        report.erased += sum(1 for row in batch if row.key in erased)
        batch = [row for row in batch if row.key not in erased]
    keys = [row.key for row in batch]
    existing = {
        found.email_key: found
        for found in session.execute(
            select(
                Contact.id,
                Contact.email_key,
                Contact.email,
                Contact.first_name,
                Contact.last_name,
                Contact.partner_id,
                Contact.timezone,
                Contact.status,
                Contact.consent_at,
                Contact.consent_source,
                Contact.consent_wording,
            ).where(Contact.email_key.in_(keys))
        )
    }
    existing_roles: dict[int, set[int]] = defaultdict(set)
    if existing:
        ids = [found.id for found in existing.values()]
        for contact_id, audience_id in session.execute(
            select(contact_roles.c.contact_id, contact_roles.c.audience_id).where(
                contact_roles.c.contact_id.in_(ids)
            )
        ):
            existing_roles[contact_id].add(audience_id)

    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    role_rows: list[dict[str, int]] = []
    replaced_roles: list[int] = []
    new_roles: dict[str, set[int]] = {}
    moved: list[int] = []  # existing contacts whose partner or roles change
    for row in batch:
        wanted_roles = {role_ids[slug] for slug in row.roles}
        values = {
            "email": row.email,
            "first_name": row.first_name,
            "last_name": row.last_name,
            "partner_id": partner_ids[name_key(row.partner.name)],
            "timezone": row.timezone,
        }
        found = existing.get(row.key)
        if found is None:
            values |= _new_contact_state(row, now)
            inserts.append({"email_key": row.key, **values})
            new_roles[row.key] = wanted_roles
            continue
        values |= _changed_state(row, found, now)
        changed = {k: v for k, v in values.items() if getattr(found, k, v) != v}
        roles_changed = existing_roles[found.id] != wanted_roles
        if roles_changed or "partner_id" in changed:
            moved.append(found.id)
        if roles_changed:
            replaced_roles.append(found.id)
            role_rows += [{"contact_id": found.id, "audience_id": a} for a in wanted_roles]
        if changed or roles_changed:
            updates.append({"id": found.id, **changed, "updated_at": now})
            report.updated += 1
        else:
            report.unchanged += 1

    # The heat map's cells: the moved contacts' old contribution out, theirs and the new
    # contacts' in, in the same transaction (the cost follows the batch, not the partners).
    before = contributions(session.connection(), moved) if moved else {}
    months_before = months_of(session.connection(), moved)  # new contacts have no marks yet
    arrived: list[int] = []
    if inserts:
        # Core executemany, then one indexed lookup for the new ids: the ORM's RETURNING path
        # re-splices its results for every small SQLite batch and grows quadratically.
        session.execute(
            insert(CONTACTS_TABLE),
            [{**values, "created_at": now, "updated_at": now} for values in inserts],
        )
        created = session.execute(
            select(Contact.id, Contact.email_key).where(Contact.email_key.in_(new_roles))
        )
        for contact_id, key in created:
            arrived.append(contact_id)
            role_rows += [{"contact_id": contact_id, "audience_id": a} for a in new_roles[key]]
        report.created += len(inserts)
    if updates:
        session.execute(update(Contact), updates)
    if replaced_roles:
        session.execute(delete(contact_roles).where(contact_roles.c.contact_id.in_(replaced_roles)))
    if role_rows:
        session.execute(insert(contact_roles), role_rows)
    if moved or arrived:
        move(session, before, contributions(session.connection(), moved + arrived))
        move_months(session, months_before, months_of(session.connection(), moved))


def _new_contact_state(row: ContactRow, now: datetime) -> dict[str, Any]:
    consent_given = row.consent is None or row.consent.given
    consent_at = (
        (row.consent.at if row.consent and row.consent.at else now) if consent_given else None
    )
    return {
        "status": row.status or ContactStatus.ACTIVE,
        "consent_at": consent_at,
        "consent_source": IMPORT_CONSENT_SOURCE if consent_given else None,
        "consent_wording": None,
        "opted_out_channels": [],
    }


def _changed_state(row: ContactRow, found: Any, now: datetime) -> dict[str, Any]:
    """Status and consent changes an import may make to an existing contact."""
    values: dict[str, Any] = {}
    # Suppression only ever tightens: a file cannot resubscribe someone who left.
    if row.status not in (None, ContactStatus.ACTIVE) and found.status is ContactStatus.ACTIVE:
        values["status"] = row.status
    if row.consent is not None:
        # The source and wording describe the latest change, so both move with it.
        if not row.consent.given and found.consent_at is not None:
            values |= {
                "consent_at": None,
                "consent_source": IMPORT_CONSENT_SOURCE,
                "consent_wording": None,
            }
        elif row.consent.given and found.consent_at is None:
            values |= {
                "consent_at": row.consent.at or now,
                "consent_source": IMPORT_CONSENT_SOURCE,
                "consent_wording": None,
            }
    return values


def export_contacts(session: Session, batch_size: int = BATCH_SIZE) -> Iterator[dict[str, str]]:
    """Every contact as a CSV record (csv_format.EXPORT_COLUMNS), in id order, streamed."""
    slugs = {audience_id: slug for slug, audience_id in audience_slugs(session).items()}
    partners = {p.id: p for p in session.scalars(select(Partner))}
    after = 0
    while True:
        contacts = session.execute(
            select(CONTACTS_TABLE).where(Contact.id > after).order_by(Contact.id).limit(batch_size)
        ).all()
        if not contacts:
            return
        roles: dict[int, list[str]] = defaultdict(list)
        for contact_id, audience_id in session.execute(
            select(contact_roles.c.contact_id, contact_roles.c.audience_id).where(
                contact_roles.c.contact_id.in_([c.id for c in contacts])
            )
        ):
            roles[contact_id].append(slugs[audience_id])
        for contact in contacts:
            partner = partners.get(contact.partner_id) if contact.partner_id else None
            yield _record(contact, partner, sorted(roles[contact.id]))
        after = contacts[-1].id


def _record(contact: Any, partner: Partner | None, roles: list[str]) -> dict[str, str]:
    consent_at = contact.consent_at
    return {
        "email": contact.email,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "partner": partner.name if partner else "",
        "roles": ";".join(roles),
        "timezone": contact.timezone or "",
        "consent": _iso(consent_at) if consent_at is not None else "no",
        "status": str(contact.status),
        "partner_type": (partner.type or "") if partner else "",
        "partner_tier": (partner.tier or "") if partner else "",
        "partner_region": (partner.region or "") if partner else "",
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def count_contacts(session: Session) -> int:
    """How many contacts there are."""
    return session.scalar(select(func.count()).select_from(Contact)) or 0


@dataclass
class ContactsFileImport:
    """The outcome of importing a contacts file: the writes, and the rows left out."""

    report: ContactImportReport
    rows_read: int
    skipped: list[Problem]


def read_contacts_text(session: Session, stream: TextIO, source: str) -> ContactsFile:
    """The rows and problems of a contacts CSV, checked against the audiences on file; a
    file that is not UTF-8 is one problem, named so that a spreadsheet user can fix it."""
    try:
        return read_contacts_csv(stream, source, audience_slugs(session))
    except UnicodeDecodeError as exc:
        raise ContactImportError(
            [Problem(source, f"not UTF-8 text (byte {exc.start}): save the file as CSV UTF-8")]
        ) from None


def import_contacts_file(
    session: Session,
    stream: TextIO,
    source: str,
    now: datetime,
    *,
    skip_invalid: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ContactsFileImport:
    """Read a contacts CSV and upsert its rows.

    All or nothing unless skip_invalid: any bad row raises ContactImportError listing every
    problem, and nothing is written. With skip_invalid the good rows land and the problems
    come back in `skipped`.
    """
    read = read_contacts_text(session, stream, source)
    if read.problems and (not skip_invalid or read.rows_read == 0):
        raise ContactImportError(read.problems)
    report = import_contacts(session, read.rows, now, progress)
    record_action(session, AuditAction.IMPORTED, "contacts", source, report.summary(), now)
    return ContactsFileImport(report, read.rows_read, read.problems)

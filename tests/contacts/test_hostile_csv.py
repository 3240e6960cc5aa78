"""Hostile contacts CSVs: a line or a cell past the limits is one line with file and line, the
read stays bounded, and nothing is imported; any file the reader accepts round-trips."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from commhub.contacts.csv_format import (
    EXPORT_COLUMNS,
    ContactRow,
    ContactsFile,
    read_contacts_csv,
    write_contacts_csv,
)
from commhub.contacts.directory import import_contacts_file
from commhub.errors import ContactImportError
from commhub.store.db import session_scope
from commhub.store.models import Contact
from commhub.wiring import Runtime

ROLES = {"sales", "technical", "marketing", "development", "executive"}
HEADER = "email,first_name,last_name,partner,roles,timezone\n"
GOOD_ROW = "ana@example.com,Ana,Silva,Acme,sales,Europe/Lisbon\n"
MEGABYTE = 1_000_000


def read(text: str) -> ContactsFile:
    return read_contacts_csv(io.StringIO(text, newline=""), "contacts.csv", ROLES)


def the_one_problem(result: ContactsFile) -> str:
    assert result.rows == [], "rows before the unreadable line were kept"
    [problem] = result.problems
    text = str(problem)
    assert "\n" not in text
    assert len(text) < 200, text[:300]
    return text


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param(HEADER + GOOD_ROW + f'b@example.com,"{"x" * MEGABYTE}",B,Acme,sales,\n', 3,
                     id="1MB-cell-quoted"),
        pytest.param(HEADER + GOOD_ROW + f'b@example.com,{"x" * MEGABYTE},B,Acme,sales,\n', 3,
                     id="1MB-cell-bare"),
        pytest.param(HEADER + GOOD_ROW + "a," * (5 * MEGABYTE) + "\n", 3, id="10MB-line-of-commas"),
        pytest.param("e" * (10 * MEGABYTE) + "\n" + GOOD_ROW, 1, id="10MB-header"),
        pytest.param(HEADER + GOOD_ROW * 3 + "x" * (10 * MEGABYTE), 5, id="10MB-last-line"),
    ],
)  # fmt: skip
def test_a_line_too_long_is_one_line_naming_it(text: str, line: int) -> None:
    started = time.monotonic()
    problem = the_one_problem(read(text))
    assert time.monotonic() - started < 2
    assert problem.startswith(f"contacts.csv:{line}: a line longer than 65,536 characters")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param(
            HEADER + GOOD_ROW + 'b@example.com,"' + ("y" * 999 + "\n") * 1000 + '",B,Acme,sales\n',
            3, id="1MB-cell-over-many-lines"),
        pytest.param(HEADER + GOOD_ROW * 2 + 'c@example.com,"never closed,B,Acme,sales,\n'
                     + GOOD_ROW.replace("ana", "bob") * 200_000, 4, id="quote-never-closed"),
        pytest.param('"' + "h\n" * 200_000, 1, id="header-quote-never-closed"),
    ],
)  # fmt: skip
def test_a_cell_past_the_csv_field_limit_is_one_line_naming_where_it_starts(
    text: str, line: int
) -> None:
    problem = the_one_problem(read(text))
    assert problem.startswith(f"contacts.csv:{line}: a cell longer than 131,072 characters")
    assert "quote" in problem


def test_a_cell_within_the_limits_is_still_read() -> None:
    result = read(HEADER + 'b@example.com,"' + "a\n" * 30_000 + '",B,Acme,sales,\n')
    assert [p.field for p in result.problems] == ["first_name"]  # longer than 100 characters


def test_skip_invalid_imports_nothing_from_a_file_it_cannot_read_to_the_end(
    runtime: Runtime,
) -> None:
    text = HEADER + GOOD_ROW + f'b@example.com,"{"x" * MEGABYTE}",B,Acme,sales,\n'
    with pytest.raises(ContactImportError) as caught, session_scope(runtime.sessions) as session:
        import_contacts_file(
            session,
            io.StringIO(text, newline=""),
            "contacts.csv",
            datetime(2026, 1, 1, tzinfo=UTC),
            skip_invalid=True,
        )
    assert str(caught.value).startswith("contacts.csv:3: a line longer than")
    with session_scope(runtime.sessions) as session:
        assert session.scalar(select(func.count(Contact.id))) == 0


# --- any file the reader accepts round-trips through the exporter ------------------------


def record_of(row: ContactRow) -> dict[str, str]:
    """A read row as export_contacts writes it."""
    consent = ""
    if row.consent is not None:
        consent = row.consent.at.isoformat() if row.consent.at else str(row.consent.given).lower()
    return {
        "email": row.email,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "partner": row.partner.name,
        "roles": ";".join(row.roles),
        "timezone": row.timezone or "",
        "consent": consent,
        "status": row.status.value if row.status else "",
        "partner_type": row.partner.type or "",
        "partner_tier": row.partner.tier or "",
        "partner_region": row.partner.region or "",
    }


cells = st.text(st.characters(codec="utf-8"), max_size=30)
rows = st.fixed_dictionaries(
    {
        "email": st.sampled_from(["a@example.com", "B@Example.org", "x", "", "c@example.net"]),
        "first_name": cells,
        "last_name": cells,
        "partner": cells,
        "roles": st.sampled_from(["sales", "sales; technical", "", "wizards", "EXECUTIVE"]),
        "timezone": st.sampled_from(["", "Europe/Paris", "Mars/Olympus"]),
        "consent": st.sampled_from(["", "yes", "no", "2026-01-02T03:04:05+01:00", "maybe"]),
        "status": st.sampled_from(["", "active", "unsubscribed", "gone"]),
        "partner_type": cells,
        "partner_tier": st.sampled_from(["", "gold", "Gold"]),
        "partner_region": cells,
    }
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rows, max_size=6))
def test_any_file_the_reader_accepts_round_trips_through_the_exporter(
    records: list[dict[str, str]],
) -> None:
    original = io.StringIO(newline="")
    writer = csv.writer(original)
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows([[record[column] for column in EXPORT_COLUMNS] for record in records])
    first = read(original.getvalue())
    if first.problems:
        return
    exported = io.StringIO(newline="")
    write_contacts_csv(exported, [record_of(row) for row in first.rows])
    again = read(exported.getvalue())
    assert again.problems == []
    assert [record_of(r) for r in again.rows] == [record_of(r) for r in first.rows]
    assert [r.consent for r in again.rows] == [r.consent for r in first.rows]

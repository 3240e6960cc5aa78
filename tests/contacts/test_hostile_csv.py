"""Hostile contacts CSVs: a line or a cell past the limits is one line with file and line, the
read stays bounded, and nothing is imported; any file the reader accepts round-trips."""

from __future__ import annotations

import csv
import io
import re
import time
import unicodedata
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


# --- class 3: control characters and Unicode normalisation in every text cell -------------

ROW_COLUMNS = (
    "email,first_name,last_name,partner,roles,timezone,consent,status,"
    "partner_type,partner_tier,partner_region\n"
)
FULL_ROW = {
    "email": "bo@example.com",
    "first_name": "Bo",
    "last_name": "Berg",
    "partner": "Acme",
    "roles": "sales",
    "timezone": "Europe/Paris",
    "consent": "yes",
    "status": "active",
    "partner_type": "msp",
    "partner_tier": "gold",
    "partner_region": "EMEA",
}
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def file_with(column: str, value: str) -> str:
    """A header, a good row (line 2), and a row (line 3) whose column holds value."""
    cells = io.StringIO(newline="")
    writer = csv.writer(cells, lineterminator="\n")
    writer.writerow(
        [{**FULL_ROW, "email": "ana@example.com", "partner": "Other"}[c] for c in EXPORT_COLUMNS]
    )
    writer.writerow([{**FULL_ROW, column: value}[c] for c in EXPORT_COLUMNS])
    return ROW_COLUMNS + cells.getvalue()


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [
        pytest.param("first_name", "Bo\x00", "U+0000 (NUL)", id="NUL-first_name"),
        pytest.param("last_name", "Berg\x1b[2J", "U+001B (ESC)", id="ESC-last_name"),
        pytest.param("partner", "Ac\x7fme", "U+007F (DEL)", id="DEL-partner"),
        pytest.param("partner_region", "EM\x85EA", "U+0085 (NEL)", id="C1-NEL-partner_region"),
        pytest.param("roles", "sales\u2028technical", "U+2028 (LINE SEPARATOR)", id="LS-roles"),
        pytest.param("timezone", "Europe/Paris\x0b", "U+000B (VT)", id="VT-timezone"),
        pytest.param("email", "bo\x1b@example.com", "U+001B (ESC)", id="ESC-email"),
        pytest.param("partner_type", "\x9bmsp", "U+009B", id="C1-CSI-partner_type"),
        pytest.param("consent", "yes\x00", "U+0000 (NUL)", id="NUL-consent"),
        pytest.param("status", "active\u2029", "U+2029 (PARAGRAPH SEPARATOR)", id="PS-status"),
        pytest.param("partner_tier", "gold\x0c", "U+000C (FF)", id="FF-partner_tier"),
    ],
)
def test_a_control_character_in_any_cell_is_refused_with_line_and_column(
    column: str, value: str, shown: str
) -> None:
    result = read(file_with(column, value))
    assert [row.email for row in result.rows] == ["ana@example.com"]
    [problem] = result.problems
    assert (problem.line, problem.field) == (3, column)
    assert problem.message.startswith(f"control character {shown} at character ")
    assert problem.message.endswith(": refused")
    assert CONTROL.search(str(problem)) is None


def test_a_control_character_is_one_problem_per_cell_and_no_echo() -> None:
    text = ROW_COLUMNS + "bo\x00@example.com,B\x1bo,Berg,Acme,sales,,,,,,\n"
    result = read(text)
    assert result.rows == []
    assert sorted((p.line, p.field) for p in result.problems) == [
        (2, "email"),
        (2, "first_name"),
    ]


@pytest.mark.parametrize(
    ("column", "value", "landed"),
    [
        pytest.param("first_name", "Jose\u0301", "Jos\u00e9", id="decomposed-name"),
        pytest.param("partner", "Caf\u0065\u0301 Ltd", "Caf\u00e9 Ltd", id="decomposed-partner"),
        pytest.param("partner_region", "I\u0302le", "\u00cele", id="decomposed-region"),
        pytest.param("first_name", "Bo\tAnn", "Bo Ann", id="tab-inside-a-name"),
        pytest.param("last_name", "\tBerg\r\n  Lund\t", "Berg Lund", id="tabs-and-breaks"),
        pytest.param("partner", "Acme\tCloud", "Acme Cloud", id="tab-in-partner"),
        pytest.param("email", "\tbo@example.com\t", "bo@example.com", id="tabs-around-address"),
    ],
)
def test_cells_land_in_nfc_with_tabs_and_line_breaks_as_spaces(
    column: str, value: str, landed: str
) -> None:
    result = read(file_with(column, value))
    assert result.problems == []
    row = result.rows[1]
    values = {
        "first_name": row.first_name,
        "last_name": row.last_name,
        "partner": row.partner.name,
        "partner_region": row.partner.region,
        "email": row.email,
    }
    assert values[column] == landed


def test_a_tab_inside_an_address_is_refused_as_an_invalid_address() -> None:
    [problem] = read(file_with("email", "bo\t@example.com")).problems
    assert (problem.line, problem.field) == (3, "email")
    assert "\t" not in str(problem)


def test_a_control_character_in_a_header_is_named_escaped() -> None:
    result = read("email,first_name,last_name,partner,roles,ro\x1bles\n")
    [problem] = result.problems
    assert problem.field == "ro\\x1bles"
    assert problem.message.startswith("unknown column")


def test_control_characters_never_land_in_the_database(runtime: Runtime) -> None:
    text = (
        HEADER
        + 'ana@example.com,"Ana\tMaria",Sa\u0301,"Acme\r\n Cloud",sales,\n'
        + "esc@example.com,Eve\x1b,Smith,Acme Cloud,sales,\n"
    )
    with session_scope(runtime.sessions) as session:
        result = import_contacts_file(
            session,
            io.StringIO(text, newline=""),
            "contacts.csv",
            datetime(2026, 1, 1, tzinfo=UTC),
            skip_invalid=True,
        )
    assert [str(p) for p in result.skipped] == [
        # line 4: the quoted partner cell of the row before runs over two lines
        "contacts.csv:4:first_name: control character U+001B (ESC) at character 4: refused"
    ]
    with session_scope(runtime.sessions) as session:
        [contact] = session.scalars(select(Contact))
        assert (contact.first_name, contact.last_name) == ("Ana Maria", "S\u00e1")
        assert contact.partner is None or contact.partner.name == "Acme Cloud"


names = st.text(
    st.one_of(
        st.sampled_from(list("aeiouAZ -'.\t\r\n\x00\x1b\x7f\x85\x9b\u2028\u2029\u0301\u0308")),
        st.characters(codec="utf-8"),
    ),
    max_size=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            dict.fromkeys(
                ("first_name", "last_name", "partner", "partner_type", "partner_region"), names
            )
        ),
        max_size=4,
    )
)
def test_any_text_cell_that_lands_is_nfc_and_free_of_control_characters(
    texts: list[dict[str, str]],
) -> None:
    original = io.StringIO(newline="")
    writer = csv.writer(original)
    writer.writerow(EXPORT_COLUMNS)
    for index, cells in enumerate(texts):
        record = {**FULL_ROW, "email": f"p{index}@example.com", "partner": "", **cells}
        record["partner"] = record["partner"] or "Acme"
        writer.writerow([record[c] for c in EXPORT_COLUMNS])
    result = read(original.getvalue())
    for row in result.rows:
        landed = [row.email, row.first_name, row.last_name, row.partner.name, *row.roles]
        landed += [row.timezone or "", row.partner.type or "", row.partner.region or ""]
        landed += [row.partner.tier or ""]
        for value in landed:
            assert CONTROL.search(value) is None, value
            assert unicodedata.normalize("NFC", value) == value


# --- class 7: an encoding error and an unclosed quote name their line ---------------------


def bytes_read(raw: bytes) -> ContactsFile:
    stream = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig", newline="")
    return read_contacts_csv(stream, "contacts.csv", ROLES)


@pytest.mark.parametrize(
    ("raw", "line", "byte"),
    [
        pytest.param((HEADER + GOOD_ROW).encode() + "b@example.com,Jos\u00e9,B,Acme,sales,\n"
                     .encode("latin-1"), 3, "0xE9", id="latin-1-on-line-3"),
        pytest.param(HEADER.encode() + GOOD_ROW.encode() * 400
                     + b"b@example.com,Zo\xeb,B,Acme,sales,\n", 402, "0xEB",
                     id="latin-1-past-the-first-8KB"),
        pytest.param((HEADER + GOOD_ROW * 2).encode() + b"c@example.com,\x93Q\x94,B,A,sales,",
                     4, "0x93", id="cp1252-quote-last-line-no-newline"),
        pytest.param(b"email,first_\xff,last_name,partner,roles\n", 1, "0xFF", id="in-the-header"),
    ],
)  # fmt: skip
def test_a_byte_that_is_not_utf8_names_its_line_and_the_byte(
    raw: bytes, line: int, byte: str
) -> None:
    problem = the_one_problem(bytes_read(raw))
    assert problem.startswith(f"contacts.csv:{line}: not UTF-8 text (byte {byte}, character ")
    assert problem.endswith("save the file as CSV UTF-8")


def test_skip_invalid_imports_nothing_from_a_file_that_is_not_utf8(runtime: Runtime) -> None:
    raw = (HEADER + GOOD_ROW).encode() + "b@example.com,Jos\u00e9,B,Acme,sales,\n".encode("cp1252")
    stream = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig", newline="")
    with pytest.raises(ContactImportError) as caught, session_scope(runtime.sessions) as session:
        import_contacts_file(
            session, stream, "contacts.csv", datetime(2026, 1, 1, tzinfo=UTC), skip_invalid=True
        )
    assert str(caught.value).startswith("contacts.csv:3: not UTF-8 text (byte 0xE9, character 18")
    with session_scope(runtime.sessions) as session:
        assert session.scalar(select(func.count(Contact.id))) == 0


FIVE_LINES = [
    HEADER,
    'b@example.com,"Bo,Berg,Acme,sales,\n',
    "c@example.com,Cy,Cole,Acme,sales,\n",
    "d@example.com,Di,Dahl,Acme,sales,\n",
    "e@example.com,Ed,Eng,Acme,sales,\n",
]


@pytest.mark.parametrize(
    ("text", "opened"),
    [
        pytest.param("".join(FIVE_LINES), 2, id="line-2-of-5"),
        pytest.param("".join(FIVE_LINES).rstrip("\n"), 2, id="line-2-of-5-no-final-newline"),
        pytest.param("".join(FIVE_LINES).replace("\n", "\r\n"), 2, id="line-2-of-5-crlf"),
        pytest.param(HEADER + GOOD_ROW + 'b@example.com,"Bo\nAnn",Berg,"Acme,sales,\n'
                     + GOOD_ROW.replace("ana", "cy"), 4, id="opened-inside-a-multiline-record"),
        pytest.param(HEADER + GOOD_ROW * 3 + 'z@example.com,Zed,Zorn,Acme,"sales', 5,
                     id="last-line"),
        pytest.param('email,"first_name,last_name,partner,roles\n' + GOOD_ROW, 1, id="header"),
    ],
)  # fmt: skip
def test_an_unclosed_quote_is_named_with_the_line_it_opened_on(text: str, opened: int) -> None:
    problem = the_one_problem(read(text))
    assert problem.startswith(f"contacts.csv:{opened}: a quote opened on line {opened} is not")
    assert "cells" not in problem


def test_a_quote_that_closes_lines_later_hints_at_the_quote() -> None:
    text = HEADER + 'b@example.com,"Bo,Berg,Acme,sales,\nc@example.com,Cy",Cole,Acme,sales,UTC,\n'
    [problem] = read(text).problems
    assert problem.line == 2
    assert "runs on to line 3" in problem.message
    assert "quote" in problem.message

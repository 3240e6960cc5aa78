"""The contacts CSV format: read and validate every row, write rows back.

    email,first_name,last_name,partner,roles,timezone[,consent,status,
    partner_type,partner_tier,partner_region]

Reading never touches the database: it is given the known audience slugs and returns
validated rows plus every problem, each located by its line in the file (the header is
line 1).

Every cell is normalised to Unicode NFC. Control characters are refused, never guessed at:
a cell holding a C0 control (NUL, ESC, ...), DEL, a C1 control (NEL, ...) or U+2028/U+2029
makes the row a Problem naming its line and column. Tab, carriage return and line feed are the
exception, treated as spaces (a spreadsheet's line break in a cell, a pasted tab): trimmed at
the ends of every cell, and in names, partner names and the partner's type, tier and region
collapsed with any run of spaces into one. Inside an address, role, zone, consent or status a
space is invalid anyway, and is refused there with the value quoted.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any, TextIO
from zoneinfo import available_timezones

from commhub.addresses import InvalidAddress, normalise_address
from commhub.contacts.spreadsheet_cells import neutralise, restore
from commhub.errors import Problem
from commhub.library import excerpt
from commhub.store import ContactStatus, email_key, name_key
from commhub.text import REFUSED_CHARACTERS, describe_character

REQUIRED_COLUMNS = ("email", "first_name", "last_name", "partner", "roles")
OPTIONAL_COLUMNS = (
    "timezone", "consent", "status", "partner_type", "partner_tier", "partner_region",
)  # fmt: skip
EXPORT_COLUMNS = (
    "email", "first_name", "last_name", "partner", "roles", "timezone", "consent", "status",
    "partner_type", "partner_tier", "partner_region",
)  # fmt: skip
PARTNER_COLUMNS = {"partner_type": "type", "partner_tier": "tier", "partner_region": "region"}
YES = frozenset({"yes", "y", "true", "1"})
NO = frozenset({"no", "n", "false", "0"})
MAX_NAME = 100
# A row of eleven cells of names, addresses and zones is a few hundred characters; a line far
# past that is not a contacts row, and reading it whole would cost memory for nothing.
MAX_LINE = 64 * 1024
_SPACING = re.compile("[\t\r\n]")
_LINE_BREAK = re.compile("\r\n|\r|\n")
# A byte that is not UTF-8, as the surrogateescape error handler decodes it (U+DC80-U+DCFF),
# or any other lone surrogate (text that no database can store).
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Consent:
    """What a row says about consent: given (at a time, or now) or withdrawn."""

    given: bool
    at: datetime | None = None


@dataclass(frozen=True)
class PartnerFields:
    name: str
    type: str | None = None
    tier: str | None = None
    region: str | None = None

    def filled_from(self, other: PartnerFields) -> PartnerFields:
        """These fields, with the ones left empty here taken from other (a later row)."""
        return PartnerFields(
            name=self.name,
            type=self.type or other.type,
            tier=self.tier or other.tier,
            region=self.region or other.region,
        )


@dataclass(frozen=True)
class ContactRow:
    """One valid row of a contacts file."""

    line: int
    email: str
    first_name: str
    last_name: str
    partner: PartnerFields
    roles: tuple[str, ...]
    timezone: str | None
    # None: the file says nothing, so the importer vouches for a new contact's consent.
    consent: Consent | None
    # None: the file says nothing; a status never reactivates a suppressed contact.
    status: ContactStatus | None
    # The unique form of the address, computed once: the import uses it several times a row.
    key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", email_key(self.email))


@dataclass
class ContactsFile:
    """A read contacts file: the valid rows, and every problem with the others."""

    rows: list[ContactRow]
    problems: list[Problem]
    rows_read: int


@cache
def _known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def read_contacts_csv(stream: TextIO, source: str, known_roles: Collection[str]) -> ContactsFile:
    """Read and validate a contacts CSV; nothing is dropped without a Problem saying why.

    A file the csv parser cannot read to its end (a line or a cell past the limits, a quote
    never closed, bytes that are not UTF-8) gives one Problem and no rows at all: the rows after
    that point were never read, so landing the ones before it would import half a file even
    with --skip-invalid.

    A text stream that decodes bytes (open(..., encoding="utf-8-sig")) is switched to the
    surrogateescape error handler, so that a byte that is not UTF-8 is found on its own line
    (a strict decoder fails a whole 8 KB chunk ahead of the line that holds it).
    """
    lines = _BoundedLines(stream)
    try:
        return _read(_Records(csv.reader(lines), lines), source, known_roles)
    except _Unreadable as exc:
        return ContactsFile([], [Problem(source, exc.message, line=exc.line)], 0)


class _LineTooLong(Exception):  # noqa: N818 - internal, turned into _Unreadable
    """A physical line of the file is longer than MAX_LINE."""


class _NotText(Exception):  # noqa: N818 - internal, turned into _Unreadable
    """A physical line holds a byte that is not UTF-8 (or a lone surrogate)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Unreadable(Exception):  # noqa: N818 - internal, caught in read_contacts_csv
    """The csv parser cannot go on: why (never quoting the cell, which may be megabytes), and
    the line of the record it stopped in."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message, self.line = message, line


class _BoundedLines:
    """The stream's lines for csv.reader, each at most MAX_LINE characters.

    A 10 MB line of commas would otherwise become millions of cells in memory before any
    check could see it; csv's own field limit covers one cell, not a row.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.line = 0
        # The last line read, and whether the stream has ended: a record that csv.reader hands
        # back only once the lines ran out is one whose quote was never closed.
        self.text = ""
        self.ended = False
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "encoding", None):
            reconfigure(errors="surrogateescape")

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        text = self.stream.readline(MAX_LINE + 1)
        if not text:
            self.ended = True
            raise StopIteration
        self.line += 1
        if len(text) > MAX_LINE:
            raise _LineTooLong
        if (found := _SURROGATE.search(text)) is not None:
            raise _NotText(_not_utf8(found.group(), found.start() + 1))
        self.text = text
        return text


def _not_utf8(character: str, column: int) -> str:
    code = ord(character)
    if 0xDC80 <= code <= 0xDCFF:
        what = f"byte 0x{code - 0xDC00:02X}"
    else:
        what = f"a lone surrogate U+{code:04X}"
    return f"not UTF-8 text ({what}, character {column} of the line): save the file as CSV UTF-8"


class _Records:
    """csv.reader's records, each with the line it starts on; _Unreadable when it fails."""

    def __init__(self, reader: Any, lines: _BoundedLines) -> None:
        self.reader, self.lines = reader, lines

    def next(self) -> tuple[int, list[str]] | None:
        """The next record (blank ones too) and its first line, or None at the end."""
        start = self.reader.line_num + 1
        try:
            record: list[str] = next(self.reader)
        except StopIteration:
            return None
        except _NotText as exc:
            raise _Unreadable(exc.message, self.lines.line) from None
        except _LineTooLong:
            raise _Unreadable(
                f"a line longer than {MAX_LINE:,} characters: refused (is this a contacts CSV?)",
                self.lines.line,
            ) from None
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                message = (
                    f"a cell longer than {csv.field_size_limit():,} characters: refused "
                    "(a quote that is never closed makes the rest of the file one cell)"
                )
            else:
                message = f"not readable as CSV: {excerpt(exc)}"
            raise _Unreadable(message, start) from None
        if self.lines.ended and record:
            # csv.reader gives a record after the lines ran out only when a quoted cell was
            # still open: its last cell is everything from that quote to the end of the file.
            opened = self._line_of_unclosed_quote(record[-1], start)
            raise _Unreadable(
                f"a quote opened on line {opened} is not closed "
                "(it runs to the end of the file): nothing imported",
                opened,
            )
        return start, record

    def _line_of_unclosed_quote(self, cell: str, start: int) -> int:
        breaks = len(_LINE_BREAK.findall(cell))
        last_line_ends = self.lines.text.endswith(("\n", "\r"))
        return max(start, self.lines.line - breaks + (1 if last_line_ends else 0))

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        """Each non-blank record with the file line it starts on (a quoted cell may span lines)."""
        while (record := self.next()) is not None:
            if any(c.strip() for c in record[1]):
                yield record


def _read(records: _Records, source: str, known_roles: Collection[str]) -> ContactsFile:
    problems: list[Problem] = []
    first = records.next()
    header = first[1] if first is not None else None
    if header is None:
        return ContactsFile([], [Problem(source, "empty file: expected a header line", line=1)], 0)
    columns = [restore(c).strip().lower() for c in header]
    header_problems = _check_header(columns, source)
    if header_problems:
        return ContactsFile([], header_problems, 0)

    roles = frozenset(known_roles)
    rows: list[ContactRow] = []
    first_line_of: dict[str, int] = {}
    partners: dict[str, tuple[int, PartnerFields]] = {}
    rows_read = 0
    for line, cells in records:
        rows_read += 1
        if len(cells) != len(columns):
            message = f"expected {len(columns)} cells, found {len(cells)}"
            last_line = records.reader.line_num
            if last_line > line:
                message += (
                    f" (a quoted cell runs on to line {last_line}: is a quote missing or extra?)"
                )
            problems.append(Problem(source, message, line=line))
            continue
        values = {column: restore(cell) for column, cell in zip(columns, cells, strict=True)}
        row = _RowReader(source, line, values, roles, problems).row()
        if row is None:
            continue
        earlier = first_line_of.get(row.key)
        if earlier is not None:
            problems.append(
                Problem(source, f"repeats the address on line {earlier}", "email", line)
            )
            continue
        if not _partner_agrees(row, partners, source, problems):
            continue
        first_line_of[row.key] = line
        rows.append(row)
    return ContactsFile(rows, problems, rows_read)


def _check_header(columns: list[str], source: str) -> list[Problem]:
    problems = [
        Problem(source, "missing column", column, line=1)
        for column in REQUIRED_COLUMNS
        if column not in columns
    ]
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    problems += [
        Problem(
            source,
            f"unknown column (known: {', '.join(EXPORT_COLUMNS)})",
            excerpt(column) or '""',
            1,
        )
        for column in columns
        if column not in known
    ]
    duplicates = {c for c in columns if columns.count(c) > 1}
    problems += [Problem(source, "column appears twice", c, line=1) for c in sorted(duplicates)]
    return problems


def _partner_agrees(
    row: ContactRow,
    partners: dict[str, tuple[int, PartnerFields]],
    source: str,
    problems: list[Problem],
) -> bool:
    """One file gives one partner one type, tier and region."""
    key = name_key(row.partner.name)
    first = partners.get(key)
    if first is None:
        partners[key] = (row.line, row.partner)
        return True
    first_line, known = first
    agrees = True
    for column, attribute in PARTNER_COLUMNS.items():
        mine, theirs = getattr(row.partner, attribute), getattr(known, attribute)
        if mine and theirs and mine != theirs:
            problems.append(
                Problem(
                    source,
                    f'"{mine}" contradicts "{theirs}" for {known.name} on line {first_line}',
                    column,
                    row.line,
                )
            )
            agrees = False
    if agrees:
        partners[key] = (first_line, known.filled_from(row.partner))
    return agrees


class _RowReader:
    """Reads one row's cells (formula guards removed), recording a Problem per bad cell."""

    def __init__(
        self,
        source: str,
        line: int,
        cells: dict[str, str],
        roles: frozenset[str],
        problems: list[Problem],
    ) -> None:
        self.source, self.line = source, line
        self.roles, self.problems = roles, problems
        self.failed = False
        # Cells refused for a control character read as empty to the checks below, which
        # stay silent about them: one Problem per cell.
        self.refused: set[str] = set()
        self.values = {column: self.clean(column, cell) for column, cell in cells.items()}

    def clean(self, column: str, cell: str) -> str:
        """The cell in NFC, tabs and line breaks as spaces, trimmed; "" if refused."""
        found = REFUSED_CHARACTERS.search(cell)
        if found is not None:
            self.problem(
                column,
                f"control character {describe_character(found.group())} "
                f"at character {found.start() + 1}: refused",
            )
            self.refused.add(column)
            return ""
        return _SPACING.sub(" ", unicodedata.normalize("NFC", cell)).strip()

    def problem(self, field: str, message: str) -> None:
        self.problems.append(Problem(self.source, message, field, self.line))
        self.failed = True

    def row(self) -> ContactRow | None:
        email = self.email()
        partner = self.partner()
        row = ContactRow(
            line=self.line,
            email=email,
            first_name=self.name("first_name"),
            last_name=self.name("last_name"),
            partner=partner,
            roles=self.role_list(),
            timezone=self.timezone(),
            consent=self.consent(),
            status=self.status(),
        )
        return None if self.failed else row

    def email(self) -> str:
        raw = self.values["email"]
        if "email" in self.refused:
            return ""
        if not raw:
            self.problem("email", "required")
            return ""
        try:
            return normalise_address(raw)
        except InvalidAddress as exc:
            self.problem("email", f'"{excerpt(raw)}" is not a valid address: {exc}')
            return raw

    def name(self, field: str) -> str:
        value = " ".join(self.values[field].split())
        if len(value) > MAX_NAME:
            self.problem(field, f"longer than {MAX_NAME} characters")
        return value

    def partner(self) -> PartnerFields:
        name = " ".join(self.values["partner"].split())
        if not name and "partner" not in self.refused:
            self.problem("partner", "required: the partner organisation's name")
        elif len(name) > 200:
            self.problem("partner", "longer than 200 characters")
        extra = {
            attribute: " ".join((self.values.get(column) or "").split()) or None
            for column, attribute in PARTNER_COLUMNS.items()
        }
        # Type and tier are vocabularies (msp, gold); region keeps its case (EMEA, DACH).
        for attribute in ("type", "tier"):
            value = extra[attribute]
            if value:
                extra[attribute] = value.lower()
        return PartnerFields(name=name, **extra)

    def role_list(self) -> tuple[str, ...]:
        slugs = [r.strip().lower() for r in self.values["roles"].split(";") if r.strip()]
        if "roles" in self.refused:
            return ()
        if not slugs:
            self.problem("roles", "required: audience slugs separated by ;")
        unknown = [s for s in slugs if s not in self.roles]
        for slug in unknown:
            known = ", ".join(sorted(self.roles))
            self.problem("roles", f'unknown role "{excerpt(slug)}" (known: {known})')
        return tuple(sorted(set(slugs)))

    def timezone(self) -> str | None:
        value = self.values.get("timezone") or ""
        if not value:
            return None
        if value not in _known_timezones():
            self.problem(
                "timezone", f'"{excerpt(value)}" is not an IANA time zone such as Europe/Paris'
            )
        return value

    def consent(self) -> Consent | None:
        value = (self.values.get("consent") or "").strip()
        lowered = value.lower()
        if not value:
            return None
        if lowered in YES:
            return Consent(given=True)
        if lowered in NO:
            return Consent(given=False)
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.problem(
                "consent", f'"{excerpt(value)}" is not yes, no or an ISO 8601 date and time'
            )
            return None
        return Consent(given=True, at=moment if moment.tzinfo else moment.replace(tzinfo=UTC))

    def status(self) -> ContactStatus | None:
        value = (self.values.get("status") or "").strip().lower()
        if not value:
            return None
        try:
            return ContactStatus(value)
        except ValueError:
            allowed = ", ".join(s.value for s in ContactStatus)
            self.problem("status", f'"{excerpt(value)}" is not one of: {allowed}')
            return None


def write_contacts_csv(stream: TextIO, records: Iterable[dict[str, str]]) -> int:
    """Write contact records (EXPORT_COLUMNS keys) as CSV, neutralising formula cells."""
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for record in records:
        writer.writerow([neutralise(record.get(column, "")) for column in EXPORT_COLUMNS])
        count += 1
    return count

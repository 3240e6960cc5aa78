"""Contacts files through the browser: an upload checked, previewed and kept until confirmed,
and the export streamed.

The import from the browser is the command line's, split in two: the file is read and
checked by the same reader (read_contacts_csv), nothing is written while a person looks at
what it would do, and the confirmation imports the kept copy with import_contacts_file, all or
nothing. Between the two the file lies under `<data dir>/uploads/` with a random name, and the
confirm form names it by a signed ticket that expires: the browser never says which file on
the server to read.
"""

from __future__ import annotations

import csv
import io
import os
import re
import secrets
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commhub.contacts.csv_format import EXPORT_COLUMNS, ContactRow
from commhub.contacts.directory import (
    ContactsFileImport,
    export_contacts,
    import_contacts_file,
    read_contacts_text,
)
from commhub.contacts.erasure import suppressed_keys
from commhub.contacts.spreadsheet_cells import neutralise
from commhub.errors import ContactImportError, InvalidInput, Problem
from commhub.store import Contact, Partner, name_key

# A browser upload rides in one request (the app refuses bodies over 4 MB): 2 MiB holds some
# 10,000 contacts; a bigger file goes through `commhub contacts import`, with its progress bar.
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
# How long a checked file waits for its confirmation; the ticket expires with it.
KEPT_FOR = timedelta(hours=1)
UPLOADS_DIR = "uploads"
MAX_SOURCE = 100
# The kept file's own name: what keep_upload makes, and all that a ticket may name.
_KEPT_NAME = re.compile(r"[A-Za-z0-9_-]{22}\.csv")
_CLAIMED = ".importing"
_LOOKUP_CHUNK = 1000
_ROWS_PER_CHUNK = 500


@dataclass(frozen=True)
class ImportPreview:
    """What importing a checked file would do, counted without writing anything."""

    source: str
    rows_read: int
    new_contacts: int
    # On file already: updated where the file differs, left as they are otherwise.
    known_contacts: int
    # Erased at their request: the import skips them.
    erased: int
    new_partners: list[str] = field(default_factory=list)
    first_rows: list[ContactRow] = field(default_factory=list)


@dataclass(frozen=True)
class KeptUpload:
    """A checked upload waiting for its confirmation: its name under uploads/ and the name
    the browser gave the file (shown, and the audit log's object)."""

    name: str
    source: str


def upload_source(filename: str | None) -> str:
    """The browser's name for a file, fit to show and log: its last path part, no control
    characters, at most MAX_SOURCE characters (the problems and the audit log name it)."""
    base = re.split(r"[\\/]", filename or "")[-1]
    cleaned = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    return cleaned[:MAX_SOURCE] or "upload.csv"


def read_upload(stream: IO[bytes]) -> bytes:
    """The upload's bytes; InvalidInput past MAX_UPLOAD_BYTES (read no further than that)."""
    data = stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(
            [
                Problem(
                    "upload",
                    f"larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: import it with "
                    "`commhub contacts import FILE` instead",
                    "file",
                )
            ]
        )
    return data


def preview_contacts_file(
    session: Session, data: bytes, source: str, sample: int = 5
) -> ImportPreview:
    """Check an uploaded contacts file as `contacts import` would, and count what it would do.

    Raises ContactImportError listing every problem (the import is all or nothing, so any
    problem means nothing would be imported). Reads the database only.
    """
    # The command line opens its file so: a spreadsheet's byte-order mark is no cell.
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    read = read_contacts_text(session, stream, source)
    if read.problems:
        raise ContactImportError(read.problems)
    if not read.rows:
        raise ContactImportError([Problem(source, "no contacts: the file has only its header")])
    keys = [row.key for row in read.rows]
    erased: set[str] = set()
    known: set[str] = set()
    for chunk in _chunks(keys):
        erased |= suppressed_keys(session, chunk)
        known.update(session.scalars(select(Contact.email_key).where(Contact.email_key.in_(chunk))))
    partners: dict[str, str] = {}
    for row in read.rows:
        partners.setdefault(name_key(row.partner.name), row.partner.name)
    existing: set[str] = set()
    for chunk in _chunks(list(partners)):
        existing.update(
            session.scalars(select(Partner.name_key).where(Partner.name_key.in_(chunk)))
        )
    known -= erased
    return ImportPreview(
        source=source,
        rows_read=read.rows_read,
        new_contacts=len(keys) - len(known) - len(erased),
        known_contacts=len(known),
        erased=len(erased),
        new_partners=[name for key, name in partners.items() if key not in existing],
        first_rows=read.rows[:sample],
    )


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _LOOKUP_CHUNK):
        yield values[start : start + _LOOKUP_CHUNK]


def keep_upload(data_dir: Path, data: bytes, now: datetime) -> str:
    """Keep a checked upload until it is confirmed; its random name under uploads/.

    Uploads left unconfirmed longer than KEPT_FOR are deleted on the way: their tickets
    have expired, so nothing could import them any more.
    """
    folder = data_dir / UPLOADS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    _prune(folder, now)
    name = f"{secrets.token_urlsafe(16)}.csv"
    # Only this process's user may read the contacts it holds.
    descriptor = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as kept:
        kept.write(data)
    return name


def _prune(folder: Path, now: datetime) -> None:
    oldest = (now - KEPT_FOR).timestamp()
    for kept in folder.iterdir():
        try:
            if kept.is_file() and kept.stat().st_mtime < oldest:
                kept.unlink()
        except FileNotFoundError:  # another request pruned it first
            continue


def claim_upload(data_dir: Path, name: str) -> Path | None:
    """Take a kept upload for its import, or None if it is gone (imported, cancelled or
    pruned). The rename is atomic, so a confirmation sent twice imports the file once."""
    if not _KEPT_NAME.fullmatch(name):
        return None
    kept = data_dir / UPLOADS_DIR / name
    claimed = kept.with_name(name + _CLAIMED)
    try:
        kept.rename(claimed)
    except FileNotFoundError:
        return None
    return claimed


def discard_upload(data_dir: Path, name: str) -> bool:
    """Delete a kept upload (cancelled); whether it was still there."""
    claimed = claim_upload(data_dir, name)
    if claimed is None:
        return False
    claimed.unlink(missing_ok=True)
    return True


class ImportTickets:
    """Signed, expiring names of kept uploads, for the confirm form.

    A ticket names the file and the user who uploaded it: another user, an altered ticket or
    one older than KEPT_FOR reads as None. Signed with the installation's keys (the first
    signs, every one verifies, so a key rotation keeps the tickets of the last hour).
    """

    def __init__(self, secret_keys: Sequence[str]) -> None:
        if not secret_keys:
            raise ValueError("at least one secret key is needed")
        self._serializer = URLSafeSerializer(
            list(reversed(secret_keys)), salt="commhub.contacts-import.v1"
        )

    def sign(self, upload: KeptUpload, user_id: int, now: datetime) -> str:
        payload = {
            "file": upload.name,
            "source": upload.source,
            "user": user_id,
            "at": int(now.timestamp()),
        }
        return str(self._serializer.dumps(payload))

    def read(self, ticket: str, user_id: int, now: datetime) -> KeptUpload | None:
        """The upload a genuine, fresh ticket of this user names, or None."""
        if len(ticket) > 2048:
            return None
        try:
            payload = self._serializer.loads(ticket)
        except BadData:
            return None
        if not isinstance(payload, dict):
            return None
        name, source, owner, at = (payload.get(k) for k in ("file", "source", "user", "at"))
        if not (isinstance(name, str) and isinstance(source, str) and isinstance(at, int)):
            return None
        age = now.timestamp() - at
        if owner != user_id or not -60 <= age <= KEPT_FOR.total_seconds():
            return None
        if not _KEPT_NAME.fullmatch(name):
            return None
        return KeptUpload(name, source)


def contacts_csv_chunks(sessions: sessionmaker[Session]) -> Iterator[str]:
    """Every contact as `contacts export` writes the file (write_contacts_csv: its columns,
    its line ends, formula cells neutralised), a few hundred rows a piece.

    A generator on its own session, for a streamed answer: the contacts are read in batches
    and never held all at once, and the session closes when the answer is done or dropped.
    """
    with sessions() as session:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(EXPORT_COLUMNS)
        for count, record in enumerate(export_contacts(session), start=1):
            writer.writerow([neutralise(record.get(column, "")) for column in EXPORT_COLUMNS])
            if count % _ROWS_PER_CHUNK == 0:
                yield _drain(buffer)
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def import_kept_upload(
    session: Session, data_dir: Path, upload: KeptUpload, now: datetime
) -> ContactsFileImport | None:
    """Import a kept upload as `contacts import` imports its file, all or nothing (the domain
    call writes the audit log), and delete it; None if it is gone (imported already,
    cancelled or expired). The caller commits.

    The file goes whatever happens: a file with problems now (an audience removed since the
    preview, say) is uploaded again once mended.
    """
    claimed = claim_upload(data_dir, upload.name)
    if claimed is None:
        return None
    try:
        # Opened as the command line opens its file: a spreadsheet's byte-order mark is no cell.
        with claimed.open(encoding="utf-8-sig", newline="") as stream:
            return import_contacts_file(session, stream, upload.source, now)
    finally:
        claimed.unlink(missing_ok=True)

"""Reading the outbox back: which messages it holds, a page at a time, and one message as
its contact would see it.

The files lie where the outbox back end writes them, <outbox>/<edition id>/<message id>.eml
(OutboxBackend.path_for; only the composition root may import a concrete back end, so the
layout is repeated here and a test holds the two together). Only those names are read:
directories and files named by ASCII digits, regular files, no symbolic links, inside the
outbox. Headers are read from the first HEAD_BYTES of a file; a whole message only up to
MAX_MESSAGE_BYTES.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser, BytesParser
from pathlib import Path

from commhub.errors import NotFound

HEAD_BYTES = 64 * 1024
MAX_MESSAGE_BYTES = 10 * 1024 * 1024
MAX_PART_CHARS = 2 * 1024 * 1024
MAX_ID = 2**63 - 1
SHOWN_HEADERS = ("From", "To", "Reply-To", "Subject", "Date", "List-Unsubscribe")


@dataclass(frozen=True)
class OutboxEntry:
    """One message file, as the outbox list shows it."""

    edition_id: int
    message_id: int
    recipient: str
    subject: str
    written_at: datetime


@dataclass(frozen=True)
class OutboxMessage:
    """One message as its contact sees it: the headers, the HTML part and the text part."""

    edition_id: int
    message_id: int
    headers: list[tuple[str, str]]
    html: str | None
    text: str | None
    written_at: datetime
    size: int
    truncated: bool = False


def message_path(directory: Path, edition_id: int, message_id: int) -> Path:
    """Where the outbox keeps a message's file (as OutboxBackend.path_for says)."""
    return directory / str(edition_id) / f"{message_id}.eml"


def _numbered(directory: Path, suffix: str = "") -> Iterator[tuple[int, os.DirEntry[str]]]:
    """(number, entry) of the entries named by ASCII digits (and suffix), links left out."""
    try:
        entries = os.scandir(directory)
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return
    with entries:
        for entry in entries:
            stem = entry.name.removesuffix(suffix) if suffix else entry.name
            if (
                (not suffix or entry.name.endswith(suffix))
                and stem.isascii()
                and stem.isdigit()
                and len(stem) < 19
                and not entry.is_symlink()
            ):
                yield int(stem), entry


def _edition_dirs(directory: Path, edition_id: int | None) -> list[tuple[int, Path]]:
    """The outbox's edition directories, newest (highest id) first."""
    found = [
        (number, Path(entry.path))
        for number, entry in _numbered(directory)
        if entry.is_dir(follow_symlinks=False) and (edition_id is None or number == edition_id)
    ]
    return sorted(found, reverse=True)


def _message_ids(edition_dir: Path) -> list[int]:
    """The message ids an edition's directory holds, newest (highest id) first."""
    return sorted(
        (
            number
            for number, entry in _numbered(edition_dir, ".eml")
            if entry.is_file(follow_symlinks=False)
        ),
        reverse=True,
    )


def count_outbox(directory: Path, edition_id: int | None = None) -> int:
    """How many message files the outbox holds (of one edition, if given): names only, no
    file is opened."""
    return sum(len(_message_ids(path)) for _number, path in _edition_dirs(directory, edition_id))


def outbox_editions(directory: Path) -> list[int]:
    """The editions the outbox holds messages of, newest first."""
    return [number for number, _path in _edition_dirs(directory, None)]


def outbox_page(
    directory: Path, offset: int = 0, limit: int = 50, edition_id: int | None = None
) -> list[OutboxEntry]:
    """One page of the outbox: newest editions first, each edition's newest messages first.
    Only the page's files are opened, and only their headers read."""
    page: list[OutboxEntry] = []
    skip = offset
    for number, path in _edition_dirs(directory, edition_id):
        ids = _message_ids(path)
        if skip >= len(ids):
            skip -= len(ids)
            continue
        for message_id in ids[skip : skip + limit - len(page)]:
            entry = _entry(path / f"{message_id}.eml", number, message_id)
            if entry is not None:
                page.append(entry)
        skip = 0
        if len(page) >= limit:
            break
    return page


def _entry(path: Path, edition_id: int, message_id: int) -> OutboxEntry | None:
    try:
        with path.open("rb") as file:
            written = os.fstat(file.fileno()).st_mtime
            head = file.read(HEAD_BYTES)
    except OSError:
        return None  # removed since the directory was listed (an erasure)
    headers = BytesHeaderParser(policy=policy.default).parsebytes(head)
    return OutboxEntry(
        edition_id,
        message_id,
        _header(headers, "To"),
        _header(headers, "Subject"),
        datetime.fromtimestamp(written, UTC),
    )


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, TypeError, IndexError):  # a malformed header: shown as nothing
        return ""
    return str(value or "")


def has_message(directory: Path, edition_id: int, message_id: int) -> bool:
    """Whether the outbox holds this message's file."""
    if not (0 < edition_id <= MAX_ID and 0 < message_id <= MAX_ID):
        return False
    try:
        mode = message_path(directory, edition_id, message_id).lstat().st_mode
    except OSError:
        return False
    return stat.S_ISREG(mode)


def read_message(directory: Path, edition_id: int, message_id: int) -> OutboxMessage:
    """The message's headers and parts (NotFound if the outbox does not hold it). A message
    over MAX_MESSAGE_BYTES is shown by its headers alone; a part over MAX_PART_CHARS is cut."""
    if not has_message(directory, edition_id, message_id):
        raise _missing(edition_id, message_id)
    path = message_path(directory, edition_id, message_id)
    try:
        with path.open("rb") as file:
            info = os.fstat(file.fileno())
            too_big = info.st_size > MAX_MESSAGE_BYTES
            raw = file.read(HEAD_BYTES if too_big else MAX_MESSAGE_BYTES)
    except OSError:
        raise NotFound(
            f"the outbox holds no message {message_id} of edition {edition_id}"
        ) from None
    written_at = datetime.fromtimestamp(info.st_mtime, UTC)
    if too_big:
        headers = BytesHeaderParser(policy=policy.default).parsebytes(raw)
        return OutboxMessage(
            edition_id, message_id, _shown(headers), None, None, written_at, info.st_size, True
        )
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)  # policy.default makes EmailMessage objects
    html, cut_html = _part(message, "html")
    text, cut_text = _part(message, "plain")
    return OutboxMessage(
        edition_id,
        message_id,
        _shown(message),
        html,
        text,
        written_at,
        info.st_size,
        cut_html or cut_text,
    )


def _missing(edition_id: int, message_id: int) -> NotFound:
    return NotFound(f"the outbox holds no message {message_id} of edition {edition_id}")


def _shown(message: Message) -> list[tuple[str, str]]:
    return [(name, value) for name in SHOWN_HEADERS if (value := _header(message, name))]


def _part(message: EmailMessage, kind: str) -> tuple[str | None, bool]:
    """The message's body of this kind ("html" or "plain"), decoded, and whether it was cut."""
    try:
        part = message.get_body(preferencelist=(kind,))
        if part is None or part.get_content_subtype() != kind:
            return None, False
        content = part.get_content()
    except (LookupError, ValueError, TypeError, KeyError, AssertionError):
        return None, False  # an unknown charset or a broken part: not shown
    if not isinstance(content, str):
        return None, False
    if len(content) > MAX_PART_CHARS:
        return content[:MAX_PART_CHARS], True
    return content, False

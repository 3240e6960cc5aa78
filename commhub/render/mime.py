"""RFC 5322 bytes for one contact, from a body encoded once per role set.

The email package would build and encode each message afresh: a multipart message of
tens of kilobytes, quoted-printable encoded per contact. Instead the static text between
placeholders is encoded once (MimeBody), and per contact only the values are encoded and
spliced in between soft line breaks, which quoted-printable decoders drop. Headers are
written here too, with the stdlib's encoders for names and subjects.
"""

from __future__ import annotations

import binascii
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, formataddr
from functools import lru_cache
from typing import NamedTuple

from commhub.render.placeholders import Personalisable
from commhub.text import without_controls

CRLF = b"\r\n"
SOFT_BREAK = b"=\r\n"
MAX_QP_LINE = 76


@dataclass(frozen=True)
class Mailbox:
    """A name and an address, as a From or Reply-To names them."""

    name: str
    address: str

    @property
    def header(self) -> str:
        """The header value, with a non-ASCII name encoded."""
        return formatted_sender(self.name, self.address)


@dataclass(frozen=True)
class Envelope:
    """What every message of an edition shares: sender, replies, the Message-ID domain."""

    sender: Mailbox
    reply_to: Mailbox | None
    message_id_domain: str
    # Tells this installation's Message-IDs from another's with the same domain.
    installation: str
    unsubscribe_mailto: str | None = None

    @property
    def from_address(self) -> str:
        return self.sender.address

    @property
    def from_header(self) -> str:
        return self.sender.header


class Recipient(NamedTuple):
    """The per-contact part of a message's headers."""

    message_id: int
    edition_id: int
    address: str
    name: str
    unsubscribe_url: str
    token: str


def message_id_header(envelope: Envelope, recipient: Recipient) -> str:
    """The Message-ID: unique per message, carrying our message id, stable across resends."""
    return (
        f"<m{recipient.message_id}.e{recipient.edition_id}.{envelope.installation}"
        f"@{envelope.message_id_domain}>"
    )


# RFC 8058: with this header, mailbox providers unsubscribe with one POST to the URL.
LIST_UNSUBSCRIBE_POST = "List-Unsubscribe=One-Click"


def list_unsubscribe(envelope: Envelope, recipient: Recipient) -> str:
    """The List-Unsubscribe header: the one-click URL, and a mailto when one is configured."""
    unsubscribe = f"<{recipient.unsubscribe_url}>"
    if envelope.unsubscribe_mailto:
        unsubscribe += (
            f", <mailto:{envelope.unsubscribe_mailto}?subject=unsubscribe%20{recipient.token}>"
        )
    return unsubscribe


def build_message(
    envelope: Envelope,
    recipient: Recipient,
    subject: str,
    body: MimeBody,
    tags: Mapping[str, str],
    date: datetime,
) -> bytes:
    """The whole message, headers and body, with CRLF line endings."""
    unsubscribe = list_unsubscribe(envelope, recipient)
    headers = [
        f"From: {envelope.from_header}",
        f"To: {_address_header(recipient.name, recipient.address)}",
        f"Subject: {_subject_header(subject)}",
        f"Date: {_date_header(date)}",
        f"Message-ID: {message_id_header(envelope, recipient)}",
    ]
    if envelope.reply_to:
        headers.append(f"Reply-To: {envelope.reply_to.header}")
    headers += [
        f"List-Unsubscribe: {unsubscribe}",
        f"List-Unsubscribe-Post: {LIST_UNSUBSCRIBE_POST}",
    ]
    head = "\r\n".join(headers).encode("utf-8") + CRLF
    return head + body.fill(tags)


class MimeBody:
    """A multipart/alternative body (text, then HTML), quoted-printable, encoded once."""

    def __init__(self, text: Personalisable, html: Personalisable) -> None:
        self.boundary = f"=_commhub_{secrets.token_hex(8)}"
        self._text = _EncodedPart(text)
        self._html = _EncodedPart(html)
        self._head = (
            "MIME-Version: 1.0\r\n"
            f'Content-Type: multipart/alternative; boundary="{self.boundary}"\r\n'
            "\r\n"
        ).encode("ascii")
        part_head = (
            '--{b}\r\nContent-Type: {t}; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        )
        self._text_head = part_head.format(b=self.boundary, t="text/plain").encode("ascii")
        self._html_head = CRLF + part_head.format(b=self.boundary, t="text/html").encode("ascii")
        self._tail = f"\r\n--{self.boundary}--\r\n".encode("ascii")

    def fill(self, tags: Mapping[str, str]) -> bytes:
        """The encoded body with every placeholder replaced by its value in tags."""
        encoded: dict[str, bytes] = {}
        return b"".join(
            (
                self._head,
                self._text_head,
                self._text.fill(tags, encoded),
                self._html_head,
                self._html.fill(tags, encoded),
                self._tail,
            )
        )


class _EncodedPart:
    """One part's static chunks, each quoted-printable encoded and ending in a soft break."""

    def __init__(self, source: Personalisable) -> None:
        self.tags = source.tags
        chunks = [_normalise_newlines(chunk) for chunk in source.chunks]
        self.chunks = [_encode_chunk(chunk) for chunk in chunks]

    def fill(self, tags: Mapping[str, str], encoded: dict[str, bytes]) -> bytes:
        parts = [self.chunks[0]]
        for tag, chunk in zip(self.tags, self.chunks[1:], strict=True):
            value = encoded.get(tag)
            if value is None:
                value = encoded[tag] = _encode_chunk(_normalise_newlines(tags[tag]))
            parts.append(value)
            parts.append(chunk)
        return b"".join(parts)


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def _encode_chunk(text: str) -> bytes:
    """Quoted-printable text that can be followed by anything: it ends in a line break."""
    if not text:
        return b""
    encoded: bytes = binascii.b2a_qp(text.encode("utf-8"), quotetabs=False, istext=True)
    # b2a_qp breaks soft lines with the line ending it sees first, "\n" when it sees none,
    # and lets a line ending in encoded white space run to 78 characters: both are fixed.
    lines = encoded.replace(b"\r\n", b"\n").split(b"\n")
    ends_line = lines[-1] == b""
    if ends_line:
        lines.pop()
    folded = [part for line in lines[:-1] for part in _fold(line, MAX_QP_LINE)]
    # The last line goes on with what follows, after a soft break: one character less.
    folded += _fold(lines[-1], MAX_QP_LINE if ends_line else MAX_QP_LINE - 1)
    return CRLF.join(folded) + (CRLF if ends_line else SOFT_BREAK)


def _fold(line: bytes, limit: int) -> list[bytes]:
    """One encoded line as lines of at most limit characters, soft breaks between.

    No line starts with a dot (it is written =2E), so SMTP never needs to dot-stuff the
    body: the relay gets the bytes as they are, without a scan of every message.
    """
    parts = []
    while True:
        if line.startswith(b"."):
            line = b"=2E" + line[1:]
        if len(line) <= limit:
            parts.append(line)
            return parts
        cut = limit - 1  # room for the "=" of the soft break
        while b"=" in line[cut - 2 : cut]:  # never split an =XX escape
            cut -= 1
        parts.append(line[:cut] + b"=")
        line = line[cut:]


def _address_header(name: str, address: str) -> str:
    clean = " ".join(without_controls(name).split())
    if not clean:
        return address
    if clean.isascii():
        return formataddr((clean, address))
    # Header folds a long name into several encoded words of at most 75 characters each.
    return f"{Header(clean, 'utf-8').encode(linesep=chr(13) + chr(10))} <{address}>"


@lru_cache(maxsize=4096)
def _subject_header(subject: str) -> str:
    # Subjects repeat across contacts (most carry no name), so encoding is cached.
    clean = " ".join(without_controls(subject).split())
    if clean.isascii() and len(clean) <= 68:
        return clean
    charset = "us-ascii" if clean.isascii() else "utf-8"
    return Header(clean, charset, header_name="Subject").encode(linesep="\r\n")


@lru_cache(maxsize=64)
def _date_header(date: datetime) -> str:
    return format_datetime(date.replace(microsecond=0))


def formatted_sender(name: str | None, address: str) -> str:
    """A From or Reply-To header value, with a non-ASCII name encoded."""
    return _address_header(name or "", address)

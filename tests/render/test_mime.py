"""RFC 5322 messages built from a body encoded once: the stdlib parser must read back exactly
what each contact should see, whatever their name holds."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import EmailMessage
from typing import cast

from hypothesis import given, settings
from hypothesis import strategies as st

from commhub.render.mime import Envelope, Mailbox, MimeBody, Recipient, build_message
from commhub.render.placeholders import ContactValues, Personalisable

ENVELOPE = Envelope(
    sender=Mailbox("Partner Team", "team@vendor.example"),
    reply_to=Mailbox("", "help@vendor.example"),
    message_id_domain="vendor.example",
    installation="abc123",
    unsubscribe_mailto="unsubscribe@vendor.example",
)
DATE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TEXT = "Hi %%first_name.raw%%,\n\n" + "A long line of news. " * 12 + "\n.leading dot\nTail =3D "
HTML = (
    "<p>Hi %%first_name%% from %%partner%%</p>\n" + "<td>é " * 40 + "\n<a href='/u/%%token%%'>x</a>"
)


def build(values: ContactValues, subject: str = "News for %%first_name.raw%%") -> bytes:
    body = MimeBody(Personalisable.parse(TEXT, html=False), Personalisable.parse(HTML, html=True))
    recipient = Recipient(7, 3, values.email, f"{values.first_name} {values.last_name}".strip(),
                          "https://hub.example/u/TOKEN", "TOKEN")  # fmt: skip
    tags = values.tags()
    return build_message(
        ENVELOPE, recipient, Personalisable.parse(subject, html=False).fill(tags), body, tags, DATE
    )


def parse(raw: bytes) -> EmailMessage:
    return cast(EmailMessage, email.message_from_bytes(raw, policy=email.policy.default))


def test_the_headers_mailbox_providers_require() -> None:
    message = parse(build(ContactValues("Ana", "Silva", "ana@p.example", "Acme", "TOKEN")))
    assert message["From"] == "Partner Team <team@vendor.example>"
    assert message["To"] == "Ana Silva <ana@p.example>"
    assert message["Reply-To"] == "help@vendor.example"
    assert message["Subject"] == "News for Ana"
    assert message["Message-ID"] == "<m7.e3.abc123@vendor.example>"
    assert message["List-Unsubscribe"] == (
        "<https://hub.example/u/TOKEN>, "
        "<mailto:unsubscribe@vendor.example?subject=unsubscribe%20TOKEN>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Date"] == "Mon, 23 Nov 2026 09:00:00 +0000"
    assert message.get_content_type() == "multipart/alternative"


def test_every_line_fits_and_ends_in_crlf() -> None:
    raw = build(ContactValues("Ana" * 40, "X", "ana@p.example", "Acme" * 30, "TOKEN"))
    lines = raw.split(b"\r\n")
    assert b"\n" not in b"".join(lines)
    body = raw.split(b"\r\n\r\n", 1)[1]
    assert max(len(line) for line in body.split(b"\r\n")) <= 76


@given(st.text(alphabet=" \tab=é\n", max_size=300))
def test_encoded_lines_never_exceed_76_characters(text: str) -> None:
    body = MimeBody(Personalisable.parse(text, html=False), Personalisable.parse("", html=True))
    raw = body.fill({})
    assert max(len(line) for line in raw.split(b"\r\n")) <= 76
    assert b"\r\n." not in raw
    part = parse(b"Content-Type: text/plain\r\n" + raw.split(b"\r\n\r\n", 1)[1])
    assert part is not None


def test_no_body_line_starts_with_a_dot_so_smtp_needs_no_stuffing() -> None:
    raw = build(ContactValues(".dot", "", "d@p.example", ".P", "T"))
    assert b"\r\n." not in raw
    assert ".leading dot" in _lines(parse(raw).get_body(("plain",)).get_content())  # type: ignore[union-attr]


def test_a_long_non_ascii_name_is_folded_into_short_encoded_words() -> None:
    raw = build(ContactValues("Zoë" * 30, "Ørsted", "z@p.example", "P", "T"))
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 998
    to_lines = head.split(b"To: ", 1)[1].split(b"\r\nSubject:")[0].split(b"\r\n")
    assert all(len(line) <= 78 for line in to_lines)
    # RFC 2047 readers join adjacent encoded words (the stdlib's newer parser adds spaces).
    decoded = str(make_header(decode_header(email.message_from_bytes(raw)["To"])))
    assert decoded == f"{'Zoë' * 30} Ørsted <z@p.example>"


def test_a_name_with_a_line_break_cannot_add_a_header() -> None:
    raw = build(ContactValues("Eve\r\nBcc: victim@x.example", "", "eve@p.example", "", "T"),
                subject="Hi %%first_name.raw%%")  # fmt: skip
    message = parse(raw)
    assert message["Bcc"] is None
    assert "victim" in str(message["To"])
    assert "\n" not in str(message["To"])
    assert "\n" not in str(message["Subject"])


names = st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), min_size=0, max_size=40)


@settings(max_examples=150, deadline=None)
@given(first=names, partner=names)
def test_what_a_contact_reads_is_exactly_the_filled_text(first: str, partner: str) -> None:
    values = ContactValues(first, "Lee", "x@p.example", partner, "TOKEN")
    message = parse(build(values))
    tags = values.tags()
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    # The parser keeps the CRLF of the wire; mail programs show them as line breaks.
    assert _lines(text.get_content()) == _lines(Personalisable.parse(TEXT, html=False).fill(tags))
    assert _lines(html.get_content()) == _lines(Personalisable.parse(HTML, html=True).fill(tags))
    assert message["Subject"] == " ".join(f"News for {first}".split())


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n")


def test_smtp_dot_stuffs_whatever_starts_a_line_with_a_dot() -> None:
    from commhub.delivery.smtp import _dot_stuffed

    assert _dot_stuffed(b"a\r\n.b\r\n.\r\n") == b"a\r\n..b\r\n..\r\n"
    assert _dot_stuffed(b".x\r\n") == b"..x\r\n"
    clean = b"a\r\nb.\r\n"
    assert _dot_stuffed(clean) is clean


CONTROLS = st.text(
    st.characters(categories=["Cc", "Zl", "Zp"], codec="utf-8"), min_size=1, max_size=5
)


@settings(max_examples=150)
@given(
    first=st.text(max_size=30), hostile=CONTROLS, last=st.text(max_size=30), at=st.integers(0, 30)
)
def test_no_header_carries_a_control_character_whatever_the_name(
    first: str, hostile: str, last: str, at: int
) -> None:
    raw_first = first[:at] + hostile + first[at:]
    values = ContactValues.of(raw_first, last + hostile, "ana@partner.example", "Acme\x1b", "T")
    assert not any(c in CONTROL_SET for v in values[:4] for c in v)
    # Even built from values that never went through ContactValues.of, headers stay clean.
    unclean = ContactValues(raw_first, last, "ana@partner.example", "Acme\x00", "T")
    head = build(unclean).split(b"\r\n\r\n", 1)[0].decode("utf-8")
    for line in head.split("\r\n"):
        assert not any(c in CONTROL_SET for c in line), repr(line)


CONTROL_SET = {chr(c) for c in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]}

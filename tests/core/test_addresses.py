from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from commhub.addresses import InvalidAddress, normalise_address, parse_mailbox

LOCAL = st.text(alphabet=st.sampled_from("aZ09.!#$%&'*+/=?^_`{|}~-\"@ é"), min_size=0, max_size=70)
DOMAIN = st.sampled_from(
    ["example.com", "EXAMPLE.com", "partner.example", "bücher.example", "-bad.example", "x", "a..b",
     "localhost", "sub.domain.co.uk", "d.test", "1.2.3.4", "[127.0.0.1]", ""]
)  # fmt: skip


def reference(address: str) -> str | None:
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def ours(address: str) -> str | None:
    try:
        return normalise_address(address)
    except InvalidAddress:
        return None


@settings(max_examples=600)
@given(LOCAL, DOMAIN)
@example("a" * 64, "example.com")
@example("a" * 65, "example.com")
@example("a.b", "example.com")
@example(".a", "example.com")
@example("a..b", "example.com")
def test_agrees_with_email_validator(local: str, domain: str) -> None:
    address = f"{local}@{domain}"
    assert ours(address) == reference(address)


def test_reasons_are_kept() -> None:
    with pytest.raises(InvalidAddress, match="@"):
        normalise_address("no-at-sign")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a@x.example, b@y.example", "2 addresses"),
        ("a@x.example; b@y.example", "addresses|control|nothing after"),
        ("Team\r\nBcc: victim@example.net <team@vendor.example>", "control character"),
        ("Team\nBcc: victim@example.net <team@vendor.example>", "control character"),
        ("Team\x00 <team@vendor.example>", "control character"),
        ("Team <team@vendor.example> extra", "addresses|nothing after"),
        ("team@vendor.example (the team)", "nothing after"),
        ("Team <>", "0 addresses"),
        ("", "0 addresses"),
        ("Team <not an address>", "addresses|not valid|must have|@"),
    ],
)
def test_a_mailbox_is_exactly_one_address_parsed_strictly(text: str, reason: str) -> None:
    with pytest.raises(InvalidAddress, match=reason):
        parse_mailbox(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("team@vendor.example", ("", "team@vendor.example")),
        ("Partner Team <team@Vendor.example>", ("Partner Team", "team@vendor.example")),
        ('"Team, Inc." <team@vendor.example>', ("Team, Inc.", "team@vendor.example")),
        ("<team@vendor.example>", ("", "team@vendor.example")),
    ],
)
def test_a_mailbox_reads_a_name_and_an_address(text: str, expected: tuple[str, str]) -> None:
    assert parse_mailbox(text) == expected

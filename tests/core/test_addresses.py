from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from commhub.addresses import InvalidAddress, normalise_address

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

"""Email address validation (email-validator, no DNS), fast for large imports.

email-validator stays the authority. Its costly part, the domain, is validated once per
domain (a 100,000-row file has a few thousand partner domains). A local part that is a plain
ASCII dot-atom, which email-validator always accepts unchanged, skips the rest; anything
else (quoted, Unicode, odd dots) goes through the full validation.
"""

from __future__ import annotations

import re
from email.utils import getaddresses
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from commhub.text import has_controls

MAX_ADDRESS = 254
MAX_LOCAL_PART = 64
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*\Z")


class InvalidAddress(ValueError):  # noqa: N818 - reads as what it is at the raise site
    """The text is not a deliverable-looking email address."""


def normalise_address(address: str) -> str:
    """The address as email-validator normalises it; raises InvalidAddress with the reason."""
    local, at, domain = address.rpartition("@")
    if (
        at
        and len(address) <= MAX_ADDRESS
        and len(local) <= MAX_LOCAL_PART
        and _DOT_ATOM.match(local)
    ):
        return f"{local}@{_normalise_domain(domain)}"
    return _validate(address)


@lru_cache(maxsize=65536)
def _normalise_domain(domain: str) -> str:
    return _validate(f"postmaster@{domain}").rpartition("@")[2]


def _validate(address: str) -> str:
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from None


def parse_mailbox(text: str) -> tuple[str, str]:
    """Exactly one `address` or `Name <address>`, parsed strictly: (name, normalised address).

    parseaddr alone takes the first of `a@x, b@y` and makes `Team\\r\\nBcc: v@x <t@y>` the
    address v@x; here either is refused with InvalidAddress, and so is anything after the
    address's closing bracket.
    """
    if has_controls(text):
        raise InvalidAddress("it holds a control character (a line break, say)")
    found = [(name, address) for name, address in getaddresses([text]) if address]
    if len(found) != 1:
        raise InvalidAddress(f"it names {len(found)} addresses; give exactly one")
    name, address = found[0]
    stripped = text.strip()
    if stripped != address and not stripped.endswith(f"<{address}>"):
        raise InvalidAddress("write it as address or as Name <address>, nothing after it")
    return name, normalise_address(address)

"""What a message's role_set and variant columns hold, and the SQL that matches them.

A RoleSet is the audiences a message was made for; the message stores it as its key, the
slugs comma-joined. A variant names the items left out of that role set's content ("" for
none). Editions write these keys; exposures and reports read them back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Self

from sqlalchemy import ColumnElement, String, func, literal_column
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import InstrumentedAttribute

from commhub.store.models import Message


class RoleSet(tuple[str, ...]):
    """The audiences a message is made for: their slugs, sorted, each once."""

    __slots__ = ()

    def __new__(cls, slugs: Iterable[str] = ()) -> Self:
        return super().__new__(cls, sorted(set(slugs)))

    @classmethod
    def parse(cls, key: str) -> Self:
        """The role set a message's stored key names ("sales,technical")."""
        return cls(key.split(",") if key else ())

    @property
    def key(self) -> str:
        """How a message stores it: the slugs, comma-joined."""
        return ",".join(self)


def role_set_includes(
    audience_slug: ColumnElement[str] | InstrumentedAttribute[str],
    role_set: ColumnElement[str] | InstrumentedAttribute[str] = Message.role_set,
) -> ColumnElement[bool]:
    """SQL: the message's role set (or another column holding a role set's key) holds this
    slug (a LIKE over its key, the one place the key's form is matched in SQL)."""
    return (literal_column("','") + role_set + literal_column("','")).like(
        literal_column("'%,'") + audience_slug + literal_column("',%'")
    )


FULL = ""  # the variant of a message carrying its role set's whole content
_WITHOUT = "without:"


VARIANT_LENGTH = 200  # the variant columns' size


def variant_without(item_ids: Iterable[int]) -> str:
    """The variant of a message that leaves these items out of its role set's content: a
    readable, stable key (the same items give the same key, whatever their order), or, for
    a list too long for the column, its count and digest."""
    ids = sorted(set(item_ids))
    if not ids:
        return FULL
    readable = _WITHOUT + ",".join(map(str, ids))
    if len(readable) <= VARIANT_LENGTH:
        return readable
    return f"{_WITHOUT}{len(ids)} items #{hashlib.sha256(readable.encode()).hexdigest()[:32]}"


def variant_leaves_out(
    item_id: ColumnElement[int] | InstrumentedAttribute[int],
    variant: ColumnElement[str] | InstrumentedAttribute[str] = Message.variant,
) -> ColumnElement[bool]:
    """SQL: the message's variant (or another column holding one) left this item out of its
    role set's content (as far as its key tells: one too long to list its items tells
    nothing)."""
    listed: ColumnElement[str] = (
        literal_column("','")
        + func.replace(variant, _WITHOUT, "", type_=String)
        + literal_column("','")
    )
    return listed.like(literal_column("'%,'") + sql_cast(item_id, String) + literal_column("',%'"))

"""What a message's role_set and variant columns hold, and the SQL that matches them.

A role set is the audience slugs a message was made for, comma-separated; a variant names
the items left out of that role set's content ("" for none). Editions write these keys;
exposures and reports read them back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import ColumnElement, String, func, literal_column
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import InstrumentedAttribute

from commhub.store.models import Message


def role_set_includes(
    audience_slug: ColumnElement[str] | InstrumentedAttribute[str],
) -> ColumnElement[bool]:
    """SQL: the message's role set (audience slugs, comma-separated) holds this slug."""
    return (literal_column("','") + Message.role_set + literal_column("','")).like(
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
) -> ColumnElement[bool]:
    """SQL: the message's variant left this item out of its role set's content (as far as
    its key tells: one too long to list its items tells nothing)."""
    listed: ColumnElement[str] = (
        literal_column("','")
        + func.replace(Message.variant, _WITHOUT, "", type_=String)
        + literal_column("','")
    )
    return listed.like(literal_column("'%,'") + sql_cast(item_id, String) + literal_column("',%'"))

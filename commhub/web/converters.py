"""URL parts the app accepts, no more: ids are ASCII digits, within their column's range.

werkzeug's `int` converter matches any Unicode digit ("١" is 1) and any size; an id in a
link is neither, so anything else is simply no route (a 404), never a database error.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter, PathConverter, ValidationError

from commhub.library import PAGE_SUFFIXES
from commhub.store import MAX_ID

LINK_ID_MAX = 2**31 - 1  # an edition's links are numbered from 1
ROW_ID_MAX = 2**31 - 1  # an INTEGER primary key (editions, partners)


class LinkIdConverter(IntegerConverter):
    regex = r"[0-9]{1,10}"

    def __init__(self, map: object) -> None:
        super().__init__(map, min=1, max=LINK_ID_MAX)  # type: ignore[arg-type]


class RowIdConverter(IntegerConverter):
    """The id of a row with an INTEGER key."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map: object) -> None:
        super().__init__(map, min=1, max=ROW_ID_MAX)  # type: ignore[arg-type]


class BigIdConverter(IntegerConverter):
    """The id of a row with a BIGINT key (messages, contacts)."""

    regex = r"[0-9]{1,19}"

    def __init__(self, map: object) -> None:
        super().__init__(map, min=1, max=MAX_ID)  # type: ignore[arg-type]


class ItemSlugConverter(PathConverter):
    """A content item's slug in /content/<slug>: never one ending in the name of an item's
    own page or button (the library refuses such slugs), so that a GET of a button's
    address (/content/<slug>/status) is no item page but a 405, as for every button."""

    def to_python(self, value: str) -> str:
        if value.rsplit("/", 1)[-1] in PAGE_SUFFIXES:
            raise ValidationError
        return value


def init_app(app: Flask) -> None:
    app.url_map.converters["item_slug"] = ItemSlugConverter
    app.url_map.converters["link_id"] = LinkIdConverter
    app.url_map.converters["row_id"] = RowIdConverter
    app.url_map.converters["big_id"] = BigIdConverter

"""URL parts the public endpoints accept, no more: a link id is ASCII digits, small.

werkzeug's `int` converter matches any Unicode digit ("١" is 1) and any size; a link id
from a message is neither, so anything else is simply no route (a 404).
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

LINK_ID_MAX = 2**31 - 1  # an edition's links are numbered from 1


class LinkIdConverter(IntegerConverter):
    regex = r"[0-9]{1,10}"

    def __init__(self, map: object) -> None:
        super().__init__(map, min=1, max=LINK_ID_MAX)  # type: ignore[arg-type]


def init_app(app: Flask) -> None:
    app.url_map.converters["link_id"] = LinkIdConverter

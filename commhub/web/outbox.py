"""/outbox: the messages the outbox back end wrote, as the contact sees them."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from commhub.delivery import count_outbox, outbox_editions, outbox_page, read_message
from commhub.web.auth import staff_only
from commhub.web.paging import Pager
from commhub.web.runtime import runtime
from commhub.wiring import OUTBOX_DIR

# Put at the top of a copy's HTML so that viewing it changes nothing: its open pixel is not
# loaded (nor any other image the staff pages' policy would let through) and its links do
# not open (a new window is not allowed in the sandbox), so no open or click is recorded.
INERT = (
    '<meta http-equiv="Content-Security-Policy" content="img-src data:; form-action \'none\'">'
    '<base target="_blank">'
)
_HEAD = re.compile(r"<head(?:\s[^>]*)?>", re.IGNORECASE)

blueprint = Blueprint("outbox", __name__)
staff_only(blueprint)


def outbox_dir() -> Path:
    """Where the outbox back end writes (whatever back end sends today)."""
    return runtime().settings.data_dir / OUTBOX_DIR


@blueprint.get("/outbox")
def index() -> ResponseReturnValue:
    directory = outbox_dir()
    edition = _edition(request.args.get("edition"))
    pager = Pager.from_request(count_outbox(directory, edition))
    return render_template(
        "outbox/index.html",
        entries=outbox_page(directory, pager.offset, pager.per_page, edition),
        pager=pager,
        edition=edition,
        editions=outbox_editions(directory),
        delivery=runtime().settings.delivery,
    )


@blueprint.get("/outbox/<row_id:edition_id>/<big_id:message_id>")
def message(edition_id: int, message_id: int) -> ResponseReturnValue:
    found = read_message(outbox_dir(), edition_id, message_id)
    return render_template(
        "outbox/message.html",
        message=found,
        frame=None if found.html is None else inert(found.html),
    )


def inert(html: str) -> str:
    """A message's HTML that shows as it is, but loads no pixel and follows no link."""
    head = _HEAD.search(html, 0, 4096)
    at = head.end() if head else 0
    return html[:at] + INERT + html[at:]


def _edition(value: str | None) -> int | None:
    """?edition=12: one edition's messages; anything else is no filter."""
    if value and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None

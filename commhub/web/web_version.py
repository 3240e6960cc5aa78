"""/w/<token>: the message as its contact received it, in the browser."""

from __future__ import annotations

from flask import Blueprint, abort
from flask.typing import ResponseReturnValue

from commhub.tracking import web_version
from commhub.web.public import LINK_NOT_VALID, owner_or_404, protect_token_pages
from commhub.web.runtime import db_session

blueprint = Blueprint("web_version", __name__)
protect_token_pages(blueprint)

# The message is our own template's output with sanitised content; the policy still
# forbids scripts, frames and form posts, whatever a template or an item might carry.
POLICY = (
    "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@blueprint.get("/w/<token>")
def show(token: str) -> ResponseReturnValue:
    owner = owner_or_404(token)
    html = web_version(db_session(), owner, token)
    if html is None:
        abort(404, description=LINK_NOT_VALID)
    return (
        html,
        200,
        {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": POLICY},
    )

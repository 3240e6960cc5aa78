"""/feeds/c/<token>.atom, a contact's own feed, and /feeds/c/<token>/<item>, a click in it.

Authorised by the signed token alone (no sign-in, no CSRF: a GET that a feed reader makes).
Everything that is not a live feed of a contact who may have it answers the same 404, so a
URL tells nothing about why. A click goes only to the item's stored URL.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect
from flask.typing import ResponseReturnValue

from commhub.feeds import FeedReader, open_personal_feed, personal_feed, record_feed_click
from commhub.render import personal_feed_tokens
from commhub.web.runtime import db_session, runtime

blueprint = Blueprint("personal_feeds", __name__)
NOT_VALID = "This feed link is not valid, or it was turned off."


@blueprint.get("/feeds/c/<token>.atom")
def feed(token: str) -> ResponseReturnValue:
    reader = _reader(token)
    rt = runtime()
    body = personal_feed(db_session(), reader, token, rt.settings, rt.clock.now())
    response = Response(body, mimetype="application/atom+xml")
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@blueprint.get("/feeds/c/<token>/<row_id:item_id>")
def click(token: str, item_id: int) -> ResponseReturnValue:
    reader = _reader(token)
    session = db_session()
    target = record_feed_click(session, reader, item_id, runtime().clock.now())
    if target is None:
        abort(404, description=NOT_VALID)
    session.commit()
    response = redirect(target, 302)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _reader(token: str) -> FeedReader:
    rt = runtime()
    tokens = personal_feed_tokens(rt.settings.secret_keys)
    reader = open_personal_feed(db_session(), tokens, token, rt.clock.now())
    if reader is None:
        abort(404, description=NOT_VALID)
    return reader

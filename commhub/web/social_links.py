"""/s/<token>: a social post's short link. It stores the click (for the item, the network and
the account; and for a person only through the attribution cookie, see
commhub.tracking.social_clicks) and goes to the item's own URL, never one from the request.
"""

from __future__ import annotations

from functools import lru_cache

from flask import Blueprint, abort, request
from flask.typing import ResponseReturnValue

from commhub.render import Tokens, attribution_tokens, post_tokens
from commhub.store import quick_write
from commhub.tracking import ATTRIBUTION_COOKIE, record_post_click
from commhub.web.public import LINK_NOT_VALID, protect_token_pages
from commhub.web.runtime import db_session, runtime
from commhub.web.tracking import redirect_to

blueprint = Blueprint("social_links", __name__)
protect_token_pages(blueprint)
COOKIE_PATH = "/s/"  # the cookie goes nowhere but back to the short links


@lru_cache(maxsize=4)
def _tokens(secret_keys: tuple[str, ...]) -> tuple[Tokens, Tokens]:
    return post_tokens(secret_keys), attribution_tokens(secret_keys)


@blueprint.get("/s/<token>")
def post_link(token: str) -> ResponseReturnValue:
    posts, people = _tokens(runtime().settings.secret_keys)
    post_id = posts.read(token)
    if post_id is None:
        abort(404, description=LINK_NOT_VALID)
    cookie = request.cookies.get(ATTRIBUTION_COOKIE)
    contact_id = people.read(cookie) if cookie else None
    # A HEAD is a fetcher checking the link, never a person.
    agent = request.headers.get("User-Agent") if request.method == "GET" else None
    session = db_session()
    with quick_write(session, durable=False):
        click = record_post_click(session, post_id, contact_id, agent, runtime().clock.now())
        session.commit()
    if click is None:
        abort(404, description=LINK_NOT_VALID)
    response = redirect_to(click.target)
    if click.forget_cookie or (cookie and contact_id is None):
        response.delete_cookie(ATTRIBUTION_COOKIE, path=COOKIE_PATH)
    return response

"""/t/: the open pixel, click redirects and relevance votes behind a message's links.

Each records what it saw (commhub.tracking.signals): the pixel is a GIF that stores an open; a click
stores itself and goes only to the URL stored for that link of that edition; a vote is cast
by a button (a POST), never by a link scanner's GET, which only shows the button.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.urls import iri_to_uri

from commhub.render import attribution_tokens
from commhub.store import quick_write
from commhub.tracking import (
    ATTRIBUTION_COOKIE,
    ATTRIBUTION_LIFETIME,
    DEFAULT_PROXIES,
    MailProxies,
    link_target,
    may_attribute,
    record_click,
    record_open,
    record_vote,
)
from commhub.web.public import LINK_NOT_VALID, owner_or_404, protect_token_pages
from commhub.web.runtime import db_session, runtime

blueprint = Blueprint("tracking", __name__)
protect_token_pages(blueprint)

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@blueprint.get("/t/o/<token>.gif")
def open_pixel(token: str) -> ResponseReturnValue:
    owner = owner_or_404(token)
    session = db_session()
    with quick_write(session, durable=False):
        record_open(
            session, owner, runtime().clock.now(), request.remote_addr,
            request.headers.get("User-Agent"), mail_proxies(),
        )  # fmt: skip
        session.commit()
    return PIXEL, 200, {"Content-Type": "image/gif"}


@blueprint.get("/t/c/<token>/<link_id:link_id>")
def click(token: str, link_id: int) -> ResponseReturnValue:
    owner = owner_or_404(token)
    session = db_session()
    link = link_target(session, owner, link_id)
    if link is None or not link.url:
        abort(404, description=LINK_NOT_VALID)
    # The target comes from the edition's link table, never from the request.
    with quick_write(session, durable=False):
        location = record_click(session, owner, link_id, link, runtime().clock.now())
        attribute = may_attribute(session, owner.contact_id)
        session.commit()
    response = redirect_to(location)
    if attribute:
        _remember(response, owner.contact_id)
    return response


def _remember(response: Response, contact_id: int) -> None:
    """The attribution cookie: this browser is this consented contact's, so that a click on
    a social post from it counts for them. Sent back only to /s/, never to script."""
    settings = runtime().settings
    response.set_cookie(
        ATTRIBUTION_COOKIE,
        attribution_tokens(settings.secret_keys).sign(contact_id),
        max_age=int(ATTRIBUTION_LIFETIME.total_seconds()),
        path="/s/",
        secure=settings.base_url.startswith("https://"),
        httponly=True,
        samesite="Lax",
    )


def redirect_to(location: str) -> Response:
    """A 302 to the stored URL as it is, byte for byte (werkzeug's redirect would re-encode
    it); only a URL with characters a header cannot carry is converted to a URI."""
    if not location.isascii() or not location.isprintable():
        location = iri_to_uri(location)
    response = Response(status=302)
    response.headers["Location"] = location
    return response


@blueprint.route("/t/v/<token>/<link_id:link_id>/<any(yes, no):answer>", methods=["GET", "POST"])
def vote(token: str, link_id: int, answer: str) -> ResponseReturnValue:
    owner = owner_or_404(token)
    session = db_session()
    link = link_target(session, owner, link_id)
    if link is None:
        abort(404, description=LINK_NOT_VALID)
    if request.method == "POST":
        with quick_write(session):  # a person's answer: kept however the server ends
            record_vote(session, owner, link_id, link, answer, runtime().clock.now())
            session.commit()
    return render_template(
        "public/vote.html",
        owner=owner,
        title=link.title,
        answer=answer,
        token=token,
        link_id=link_id,
        confirmed=request.method == "POST",
    )


def mail_proxies() -> MailProxies:
    """The proxies' ranges: the file COMMHUB_MAIL_PROXY_RANGES names, read once, or the
    dated list commhub ships."""
    path = runtime().settings.mail_proxy_ranges
    if path is None:
        return DEFAULT_PROXIES
    return _proxies_from(path)


@lru_cache(maxsize=4)
def _proxies_from(path: Path) -> MailProxies:
    return MailProxies.from_file(path)

"""/t/: the open pixel, click redirects and relevance votes behind a message's links.

Recording what these see comes with the tracking work; here they already answer as they
will: the pixel is a GIF, a click goes only to the URL stored for that link of that
edition, and a vote is cast by a button (a POST), never by a link scanner's GET.
"""

from __future__ import annotations

import base64

from flask import Blueprint, abort, redirect, render_template, request
from flask.typing import ResponseReturnValue

from commhub.subscriptions import link_target
from commhub.web.public import LINK_NOT_VALID, owner_or_404, protect_token_pages
from commhub.web.runtime import db_session

blueprint = Blueprint("tracking", __name__)
protect_token_pages(blueprint)

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@blueprint.get("/t/o/<token>.gif")
def open_pixel(token: str) -> ResponseReturnValue:
    owner_or_404(token)
    return PIXEL, 200, {"Content-Type": "image/gif"}


@blueprint.get("/t/c/<token>/<int:link_id>")
def click(token: str, link_id: int) -> ResponseReturnValue:
    owner = owner_or_404(token)
    target = link_target(db_session(), owner, link_id)
    if target is None or not target[0]:
        abort(404, description=LINK_NOT_VALID)
    # The target comes from the edition's link table, never from the request.
    return redirect(target[0], code=302)


@blueprint.route("/t/v/<token>/<int:link_id>/<any(yes, no):answer>", methods=["GET", "POST"])
def vote(token: str, link_id: int, answer: str) -> ResponseReturnValue:
    owner = owner_or_404(token)
    target = link_target(db_session(), owner, link_id)
    if target is None:
        abort(404, description=LINK_NOT_VALID)
    return render_template(
        "public/vote.html",
        owner=owner,
        title=target[1],
        answer=answer,
        token=token,
        link_id=link_id,
        confirmed=request.method == "POST",
    )

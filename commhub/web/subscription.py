"""/u/ and /p/: one-click unsubscribe (RFC 8058) and the preference centre.

A POST to /u/<token> unsubscribes at once, without cookies, and answers 200: that is what
mailbox providers send for List-Unsubscribe-Post. A GET only shows a page with one button,
so a link scanner that follows the link unsubscribes nobody.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from commhub.subscriptions import contact_roles_of, masked, unsubscribe
from commhub.web.public import owner_or_404, protect_token_pages
from commhub.web.runtime import db_session, runtime

blueprint = Blueprint("subscription", __name__)
protect_token_pages(blueprint)


@blueprint.get("/u/<token>")
def unsubscribe_page(token: str) -> ResponseReturnValue:
    return _unsubscribe_page(token, done=False)


@blueprint.post("/u/<token>")
def unsubscribe_now(token: str) -> ResponseReturnValue:
    owner = owner_or_404(token)
    session = db_session()
    unsubscribe(session, owner, runtime().clock.now(), via="one-click")
    session.commit()
    return _unsubscribe_page(token, done=True)


def _unsubscribe_page(token: str, done: bool) -> ResponseReturnValue:
    owner = owner_or_404(token)
    return render_template(
        "public/unsubscribe.html", owner=owner, address=masked(owner.email), token=token,
        org=runtime().settings.org_name, done=done,
    )  # fmt: skip


@blueprint.get("/p/<token>")
def preferences(token: str) -> ResponseReturnValue:
    owner = owner_or_404(token)
    return render_template(
        "public/preferences.html", owner=owner, address=masked(owner.email), token=token,
        roles=contact_roles_of(db_session(), owner.contact_id), org=runtime().settings.org_name,
    )  # fmt: skip

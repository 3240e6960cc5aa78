"""/u/ and /p/: one-click unsubscribe (RFC 8058) and the preference centre.

A POST to /u/<token> unsubscribes at once, without cookies, and answers 200: that is what
mailbox providers send for List-Unsubscribe-Post. A GET only shows a page with one button,
so a link scanner that follows the link unsubscribes nobody.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from commhub.feeds import live_personal_feed, personal_feed_of, personal_feed_path
from commhub.render import personal_feed_tokens
from commhub.tracking import (
    CHANNEL_CHOICES,
    PAUSES,
    PreferencesError,
    current_preferences,
    masked,
    not_sent_to,
    role_choices,
    save_preferences,
    unsubscribe,
)
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


@blueprint.route("/p/<token>", methods=["GET", "POST"])
def preferences(token: str) -> ResponseReturnValue:
    """The preference centre: the POST is authorised by the token in its URL alone."""
    owner = owner_or_404(token)
    session = db_session()
    problem, saved = not_sent_to(owner), False
    if request.method == "POST":
        form = request.form
        try:
            pause = int(form.get("pause", "0"))
            save_preferences(
                session, owner, form.getlist("roles"), form.getlist("formats"), pause,
                runtime().clock.now(),
            )  # fmt: skip
            session.commit()
            saved = True
        except (PreferencesError, ValueError) as exc:
            session.rollback()
            problem = str(exc) if isinstance(exc, PreferencesError) else "choose a pause offered"
    status = 400 if problem and request.method == "POST" else 200
    return render_template(
        "public/preferences.html", owner=owner, address=masked(owner.email), token=token,
        org=runtime().settings.org_name, chosen=current_preferences(session, owner.contact_id),
        roles=role_choices(session), formats=CHANNEL_CHOICES, pauses=PAUSES, saved=saved,
        problem=problem, feed_url=_feed_url(owner.contact_id),
    ), status  # fmt: skip


@blueprint.post("/p/<token>/feed")
def personal_feed(token: str) -> ResponseReturnValue:
    """Make the contact's personal feed (a POST: no GET makes anything), then show it."""
    owner = owner_or_404(token)
    session = db_session()
    personal_feed_of(session, owner.email, runtime().clock.now())
    session.commit()
    return redirect(url_for("subscription.preferences", token=token, _anchor="feed"), 303)


def _feed_url(contact_id: int) -> str | None:
    """The contact's personal feed URL, if they have one."""
    feed = live_personal_feed(db_session(), contact_id)
    if feed is None:
        return None
    settings = runtime().settings
    tokens = personal_feed_tokens(settings.secret_keys)
    return settings.base_url.rstrip("/") + personal_feed_path(tokens, feed)

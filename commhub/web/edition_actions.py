"""Acting on editions from the browser, for editors and admins: approve, pause, release,
cancel, resend the messages in doubt, settle a social post in doubt or failed, and send a
series' next edition now.

Each is a POST from a button (CSRF-checked) calling the same domain function as the CLI,
which writes the audit log. The web process prepares and sends nothing itself: an approved,
released or resent edition is left to the scheduler's next sweep (as `approve --no-send`),
and "send now" makes the series' next edition due now. A refusal (a rule the action would
break) is said on the page it came from, never as an error page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from commhub.actions import Action
from commhub.editions import (
    approve_edition,
    cancel_edition,
    pause_edition,
    prepare_resend_unknown,
    reject_edition,
    release_edition,
    settle_post,
)
from commhub.errors import Conflict, InvalidInput
from commhub.scheduling import send_next_soon
from commhub.store import EditionState, SocialPost, User
from commhub.web.auth import EDITORS, roles_required, safe_next, signed_in_user, staff_only
from commhub.web.editions_pages import is_web_url
from commhub.web.runtime import db_session, runtime

blueprint = Blueprint("edition_actions", __name__)
staff_only(blueprint)
SOON = "the scheduler takes it up within a minute"
MAX_URL = 2000  # the longest URL a post keeps (social_posts.url)


@blueprint.post("/editions/<row_id:edition_id>/approve")
@roles_required(*EDITORS)
def approve(edition_id: int) -> ResponseReturnValue:
    def act(session: Session) -> str:
        user = signed_in_user()
        approver = session.get(User, user.id) if user else None
        edition = approve_edition(session, edition_id, _now(), approver)
        if edition.state is EditionState.PLANNED:
            return f"Edition {edition_id} approved: it goes out on its date without being held."
        return f"Edition {edition_id} approved: {SOON}."

    return _act(edition_id, act)


@blueprint.post("/editions/<row_id:edition_id>/reject")
@roles_required(*EDITORS)
def reject(edition_id: int) -> ResponseReturnValue:
    def act(session: Session) -> str:
        reject_edition(session, edition_id, _now(), request.form.get("comment", "")[:2000])
        return f"Edition {edition_id} sent back: it stays held, and nothing goes out."

    return _act(edition_id, act)


@blueprint.post("/editions/<row_id:edition_id>/pause")
@roles_required(*EDITORS)
def pause(edition_id: int) -> ResponseReturnValue:
    def act(session: Session) -> str:
        edition = pause_edition(session, edition_id, _now())
        if edition.started_at is None:
            return f"Edition {edition_id} paused: it will not go out until released."
        return f"Edition {edition_id} paused: it stops after the batch in flight."

    return _act(edition_id, act)


@blueprint.post("/editions/<row_id:edition_id>/release")
@roles_required(*EDITORS)
def release(edition_id: int) -> ResponseReturnValue:
    def act(session: Session) -> str:
        edition = release_edition(session, edition_id, _now())
        if edition.state is EditionState.PLANNED and edition.due_at > _now():
            return f"Edition {edition_id} released: it goes out on its date."
        return f"Edition {edition_id} released: {SOON}."

    return _act(edition_id, act)


@blueprint.post("/editions/<row_id:edition_id>/cancel")
@roles_required(*EDITORS)
def cancel(edition_id: int) -> ResponseReturnValue:
    def act(session: Session) -> str:
        skipped = cancel_edition(session, edition_id, _now())
        return f"Edition {edition_id} cancelled; {skipped:,} unsent messages skipped."

    return _act(edition_id, act)


@blueprint.post("/editions/<row_id:edition_id>/resend-unknown")
@roles_required(*EDITORS)
def resend_unknown(edition_id: int) -> ResponseReturnValue:
    def act(session: Session) -> str:
        count = prepare_resend_unknown(session, edition_id, _now())
        return f"Edition {edition_id}: {count:,} messages in doubt queued again; {SOON}."

    return _act(edition_id, act)


@blueprint.post("/editions/<row_id:edition_id>/posts/<row_id:post_id>/settle")
@roles_required(*EDITORS)
def settle(edition_id: int, post_id: int) -> ResponseReturnValue:
    """A person's word on a post in doubt or failed: outcome=posted (it is live, at the
    optional url) or outcome=again (post it again at the scheduler's next sweep)."""
    session = db_session()
    post = session.get(SocialPost, post_id)
    if post is None or post.edition_id != edition_id:
        abort(404)
    back = url_for("editions_pages.detail", edition_id=edition_id, _anchor=f"post-{post_id}")
    outcome = request.form.get("outcome")
    url = request.form.get("url", "").strip()
    if outcome not in ("posted", "again"):
        flash("Nothing changed: say whether the post is live or is to be posted again.", "error")
        return redirect(back, 303)
    if outcome == "posted" and url and (len(url) > MAX_URL or not is_web_url(url)):
        flash(
            f"Nothing changed: where post {post_id} is live must be an address starting with "
            "https:// or http:// (or left blank).",
            "error",
        )
        return redirect(back, 303)
    user = signed_in_user()
    by = user.email if user else "the web"
    posted = outcome == "posted"
    now = _now()
    try:
        settle_post(session, post_id, posted, by, now, (url or None) if posted else None)
    except ValueError as refused:
        session.rollback()
        flash(f"Nothing changed: {refused}.", "error")
        return redirect(back, 303)
    where = f" at {url}" if posted and url else ""
    session.commit()
    if posted:
        flash(f"Post {post_id} marked as live{where}.")
    else:
        flash(f"Post {post_id} is to be posted again: {SOON}.")
    return redirect(back, 303)


@blueprint.post("/series/<path:slug>/send-now")
@roles_required(*EDITORS)
def send_now(slug: str) -> ResponseReturnValue:
    again = request.form.get("again") == "yes"
    session = db_session()
    back = safe_next(request.form.get("next")) if request.form.get("next") else None
    try:
        edition = send_next_soon(session, slug, _now(), again=again)
    except Conflict as refused:
        session.rollback()
        repeat = any(step.action is Action.SEND_AGAIN for step in refused.next_steps)
        flash(f"Not sent: {refused}.", "error")
        target = url_for("series_pages.detail", slug=slug, confirm="again" if repeat else None)
        return redirect(back or target, 303)
    session.commit()
    flash(f"Edition {edition.id} of {slug} is due now: {SOON}.")
    return redirect(back or url_for("editions_pages.detail", edition_id=edition.id), 303)


def _act(edition_id: int, action: Callable[[Session], str]) -> ResponseReturnValue:
    """Run action in one transaction; say what happened (or why not) on the next page."""
    session = db_session()
    try:
        said = action(session)
    except (Conflict, InvalidInput) as refused:
        session.rollback()
        flash(f"Nothing changed: {refused}.", "error")
    else:
        session.commit()
        flash(said)
    back = request.form.get("next")
    target = safe_next(back) if back else url_for("editions_pages.detail", edition_id=edition_id)
    return redirect(target, 303)


def _now() -> datetime:
    return runtime().clock.now()

"""/series, /series/<slug>: the series and their schedules."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from commhub.addresses import InvalidAddress, normalise_address
from commhub.delivery import Outcome, send_test
from commhub.editions import (
    PostPreview,
    Preview,
    accounts_of,
    audiences_of,
    preview_edition,
    social_preview,
)
from commhub.errors import Conflict, InvalidInput
from commhub.render import SocialComposer
from commhub.scheduling import (
    cadence_in_words,
    count_series,
    get_series,
    next_dates,
    recent_editions,
    series_summaries,
)
from commhub.store import Channel, Network, Series
from commhub.web.auth import EDITORS, roles_required, signed_in_user, staff_only
from commhub.web.outbox import inert
from commhub.web.paging import Pager
from commhub.web.runtime import db_session, renderer, runtime
from commhub.wiring import build_delivery_backend

blueprint = Blueprint("series_pages", __name__)
staff_only(blueprint)


@blueprint.get("/series")
def index() -> ResponseReturnValue:
    session = db_session()
    now = runtime().clock.now()
    pager = Pager.from_request(count_series(session))
    return render_template(
        "series/index.html",
        summaries=series_summaries(session, now, pager.offset, pager.per_page),
        pager=pager,
        in_words=cadence_in_words,
    )


@blueprint.get("/series/<slug>")
def detail(slug: str) -> ResponseReturnValue:
    session = db_session()
    now = runtime().clock.now()
    series = get_series(session, slug)  # NotFound: a 404
    return render_template(
        "series/detail.html",
        series=series,
        cadence_words=cadence_in_words(series.cadence),
        grace=_duration(timedelta(minutes=series.grace_minutes)),
        upcoming=next_dates(session, series, now),
        recent=recent_editions(session, series.id, now),
        social=series.channel is Channel.SOCIAL,
        accounts=accounts_of(series.accounts),
    )


def _duration(span: timedelta) -> str:
    """ "6 hours", "1 day 2 hours", "30 minutes"."""
    minutes = int(span.total_seconds() // 60)
    parts = []
    for size, unit in ((24 * 60, "day"), (60, "hour"), (1, "minute")):
        amount, minutes = divmod(minutes, size)
        if amount:
            parts.append(f"{amount} {unit}{'s' * (amount != 1)}")
    return " ".join(parts) or "none"


@blueprint.get("/series/<slug>/preview")
def preview(slug: str) -> ResponseReturnValue:
    """The next edition as a role set gets it, at desktop and phone widths, its text part and
    subject; the held edition if one awaits approval, the last one sent if nothing is new."""
    session = db_session()
    series = get_series(session, slug)
    if series.channel is Channel.SOCIAL:
        return _social_preview(series)
    audiences = [audience.slug for audience in audiences_of(session, series)]
    wanted = [a for a in request.args.getlist("role") if a in audiences] or audiences
    shown: Preview | None = None
    nothing = problem = None
    try:
        shown = _preview(slug, wanted)
    except Conflict as refused:
        nothing = str(refused)
    except InvalidInput as refused:  # the email cannot be made: a setting or template to fix
        problem = str(refused)
    user = signed_in_user()
    return render_template(
        "series/preview.html",
        series=series,
        audiences=audiences,
        wanted=wanted,
        preview=shown,
        frame=inert(shown.html) if shown else None,
        nothing=nothing,
        problem=problem,
        test_to=request.args.get("to") or (user.email if user else ""),
    )


@blueprint.post("/series/<slug>/test", endpoint="send_test")
@roles_required(*EDITORS)
def send_test_view(slug: str) -> ResponseReturnValue:
    """Send that preview to one address through the configured back end, subject [Test]."""
    roles = request.form.getlist("role")
    back = url_for("series_pages.preview", slug=slug, role=roles)
    if get_series(db_session(), slug).channel is Channel.SOCIAL:
        flash(f"No test sent: {slug} posts to its accounts; it sends no email.", "error")
        return redirect(back, 303)
    try:
        address = normalise_address(request.form.get("to", ""))
    except InvalidAddress as exc:
        flash(f"No test sent: {exc}.", "error")
        return redirect(back, 303)
    session = db_session()
    try:
        shown = _preview(slug, roles or None)
    except (Conflict, InvalidInput) as refused:
        flash(f"No test sent: {refused}.", "error")
        return redirect(back, 303)
    backend = build_delivery_backend(runtime().settings)
    try:
        result = send_test(shown, get_series(session, slug), address, backend, runtime().settings)
    finally:
        backend.close()
    session.commit()  # the audit entry
    if result.outcome is Outcome.SENT:
        flash(f"Test of {slug} ({shown.role_set.key}) sent to {address} via {backend.name}.")
    else:
        flash(f"Test of {slug} to {address} not sent: {result.detail}.", "error")
    return redirect(back, 303)


def _preview(slug: str, roles: list[str] | None) -> Preview:
    session = db_session()
    series = get_series(session, slug)
    now = runtime().clock.now()
    return preview_edition(session, series, roles, now, renderer(), runtime().settings)


def _social_preview(series: Series) -> ResponseReturnValue:
    """The posts a social series' next edition would make, account by account, word for
    word: the held edition's if one waits for approval."""
    session = db_session()
    composer = SocialComposer(renderer().templates_dir)  # the templates the web renders with
    now = runtime().clock.now()
    problem = None
    groups: list[tuple[str, Network, list[PostPreview]]] = []
    held = None
    try:
        shown = social_preview(session, series, now, composer, runtime().settings)
    except InvalidInput as refused:  # a post template to fix
        problem = str(refused)
    else:
        groups, held = _by_account(shown.posts), shown.awaiting_approval
    return render_template(
        "series/social_preview.html",
        series=series,
        groups=groups,
        held=held,
        problem=problem,
        accounts=accounts_of(series.accounts),
    )


def _by_account(posts: list[PostPreview]) -> list[tuple[str, Network, list[PostPreview]]]:
    """The posts under their account, accounts in the order their first post comes."""
    groups: dict[tuple[str, Network], list[PostPreview]] = {}
    for post in posts:
        groups.setdefault((post.account, post.network), []).append(post)
    return [(account, network, found) for (account, network), found in groups.items()]

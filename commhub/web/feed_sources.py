"""/feed-sources: the upstream feeds commhub follows, their state for everyone, and for
editors a form to add one, a button to fetch one soon and one to remove it.

Adding goes through the same domain function as `commhub feeds add`, so every problem is
named beside its field and nothing is stored while any is wrong. The web process fetches
nothing itself: "Fetch soon" makes the source due, and the scheduler fetches it within a
minute (a slow upstream feed never holds a page).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget

from commhub.errors import Conflict, InvalidInput, NotFound
from commhub.feeds import NewSource, add_source, fetch_soon, remove_source, source_states
from commhub.library import audience_slugs
from commhub.store import ContentKind, FeedSource
from commhub.web.auth import EDITORS, roles_required, staff_only
from commhub.web.runtime import db_session, runtime

blueprint = Blueprint("feed_sources", __name__)
staff_only(blueprint)
EACH_ENTRY = ""  # the kind choice that leaves each entry its own


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SourceForm(FlaskForm):  # type: ignore[misc] # Flask-WTF ships no type hints
    """A new feed source. No validators of its own: the domain judges every field."""

    url = StringField("Feed URL (RSS, Atom or a YouTube channel's feed)")
    audiences = Checkboxes("Audiences", validate_choice=False)
    rules = TextAreaField("Keyword rules, one a line")
    kind = SelectField("Kind of its items", validate_choice=False)
    every = StringField("Fetch every", default="1h")
    publish = BooleanField("Publish new entries at once (otherwise they arrive as drafts)")
    use_audience_keywords = BooleanField(
        "Also use the audiences' own keywords as rules", default=True
    )


@blueprint.route("/feed-sources", methods=["GET", "POST"])
def index() -> ResponseReturnValue:
    """The list for everyone; a POST (editors) adds a source from the form under it."""
    if request.method == "POST":
        return _add()
    return _page(_form(), {}, 200)


@roles_required(*EDITORS)
def _add() -> ResponseReturnValue:
    form = _form()
    errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        session = db_session()
        wanted = NewSource(
            url=form.url.data or "",
            audiences=list(form.audiences.data or []),
            rules=[line for line in (form.rules.data or "").splitlines() if line.strip()],
            kind=form.kind.data or None,
            publish=bool(form.publish.data),
            every=form.every.data or "",
            use_audience_keywords=bool(form.use_audience_keywords.data),
        )
        try:
            settings = runtime().settings
            source = add_source(session, wanted, _now(), settings.feeds_allow_private)
        except InvalidInput as refused:
            session.rollback()
            for problem in refused.problems:
                control = {"rule": "rules"}.get(problem.field or "url", problem.field or "url")
                errors.setdefault(control, []).append(problem.message)
        except Conflict as refused:
            session.rollback()
            errors["url"] = [str(refused)]
        else:
            session.commit()
            flash(f"Feed source {source.id} added: {source.url}. A scheduler fetches it within "
                  "a minute, then on its interval.")  # fmt: skip
            return redirect(url_for("feed_sources.index"), 303)
    else:
        errors["url"] = ["The form expired: send it again."]
    return _page(form, errors, 400)


@blueprint.post("/feed-sources/<row_id:source_id>/fetch")
@roles_required(*EDITORS)
def fetch(source_id: int) -> ResponseReturnValue:
    return _act(source_id, lambda: fetch_soon(db_session(), source_id, _now()),
                "is due now: a scheduler fetches it within a minute")  # fmt: skip


@blueprint.post("/feed-sources/<row_id:source_id>/remove")
@roles_required(*EDITORS)
def remove(source_id: int) -> ResponseReturnValue:
    return _act(source_id, lambda: remove_source(db_session(), source_id, _now()),
                "removed; the items it brought stay in the library")  # fmt: skip


def _act(source_id: int, action: Callable[[], FeedSource], said: str) -> ResponseReturnValue:
    """Run action in one transaction; say what happened (or why not) on the list."""
    session = db_session()
    try:
        source = action()
    except NotFound as refused:
        session.rollback()
        flash(f"Nothing changed: {refused}.", "error")
    else:
        session.commit()
        flash(f"Feed source {source_id} ({source.url}) {said}.")
    return redirect(url_for("feed_sources.index"), 303)


def _form() -> SourceForm:
    form = SourceForm()
    form.audiences.choices = [(slug, slug) for slug in sorted(audience_slugs(db_session()))]
    form.kind.choices = [(EACH_ENTRY, "each entry's own")] + [
        (kind.value, kind.value) for kind in ContentKind
    ]
    return form


def _page(form: SourceForm, errors: dict[str, list[str]], status: int) -> ResponseReturnValue:
    page = render_template(
        "feed_sources.html",
        form=form,
        errors=errors,
        states=source_states(db_session()),
        now=_now(),
    )
    return page, status


def _now() -> datetime:
    return runtime().clock.now()

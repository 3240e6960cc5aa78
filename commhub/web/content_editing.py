"""/content/new, /content/<slug>/edit: editors write and change library items.

The form is checked by the file importer's own reader (commhub.library.editing), so a field
is wrong here exactly when it would be wrong in a file; every problem is shown beside its
field, what was typed is kept, and nothing is saved. "Preview" renders the body with the
email's own Markdown code, without saving. An item from a file is shown read-only: the next
`content import` would overwrite a change made here.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import (  # type: ignore[attr-defined] # stubs lag wtforms 3.3
    SelectChoice,
)
from wtforms.widgets import CheckboxInput, ListWidget

from commhub.errors import Conflict, ContentError, NotFound, Problem
from commhub.feeds import take_waiting_version
from commhub.library import (
    ItemFields,
    editable,
    fields_of,
    find_item,
    preview_html,
    read_only_reason,
    save_item,
    set_item_status,
)
from commhub.store import Audience, ContentItem, ContentKind, ContentStatus, KeyMessage
from commhub.web.auth import EDITORS, roles_required, staff_only
from commhub.web.runtime import db_session, runtime
from commhub.web.times import viewer_zone

blueprint = Blueprint("content_editing", __name__)
staff_only(blueprint)
PREVIEW = "preview"


class CheckboxesField(SelectMultipleField):
    """One checkbox per choice, in a list."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ItemForm(FlaskForm):  # type: ignore[misc] # Flask-WTF ships no type hints
    """What an item holds. No validators: the importer's reader judges every field."""

    title = StringField("Title")
    slug = StringField("Slug (left empty: made from the title)")
    kind = SelectField(
        "Kind", choices=[SelectChoice(k.value) for k in ContentKind], validate_choice=False
    )
    audiences = CheckboxesField("Audiences", validate_choice=False)
    key_message = SelectField("Key message", validate_choice=False)
    new_key_message = StringField("Or a new key message")
    summary = TextAreaField("Summary")
    body = TextAreaField("Body (Markdown)")
    url = StringField("Link (http or https)")
    video_url = StringField("Video URL (required for a video)")
    thumbnail = StringField("Thumbnail URL")
    duration = StringField("Duration (mm:ss, h:mm:ss or seconds)")
    speaker = StringField("Speaker")
    hashtags = StringField("Hashtags (words, apart)")
    social = StringField("Social post line")
    priority = StringField("Priority (higher first)")
    publish_at = StringField("Publish from")
    expires_at = StringField("Until")
    status = SelectField(
        "Status", choices=[SelectChoice(s.value) for s in ContentStatus], validate_choice=False
    )


@blueprint.route("/content/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def new() -> ResponseReturnValue:
    return _form_page(None)


@blueprint.route("/content/<path:slug>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(slug: str) -> ResponseReturnValue:
    return _form_page(slug)


@blueprint.post("/content/<path:slug>/status")
@roles_required(*EDITORS)
def set_status(slug: str) -> ResponseReturnValue:
    """Publish, archive or return to draft (a feed's drafts wait for this)."""
    wanted = _status(request.form.get("status"))
    session = db_session()
    if wanted is None:
        flash("Nothing changed: choose published, archived or draft.", "error")
    else:
        try:
            item = set_item_status(session, slug, wanted, _now())
        except (NotFound, Conflict) as refused:
            session.rollback()
            flash(f"Nothing changed: {refused}.", "error")
        else:
            session.commit()
            flash(f"Content item “{item.title}” ({item.slug}) is {wanted.value}.")
    return redirect(url_for("content.item", slug=slug), 303)


@blueprint.post("/content/<path:slug>/feed-version")
@roles_required(*EDITORS)
def take_feed_version(slug: str) -> ResponseReturnValue:
    """Give a published item from a feed the newer version the feed has sent since."""
    session = db_session()
    item = find_item(session, slug)
    if item is None:
        abort(404, description="No content item has this slug.")
    if take_waiting_version(session, item, _now()):
        session.commit()
        flash(f"Content item ({slug}) now says what the feed says: “{item.title}”.")
    else:
        flash("Nothing changed: no newer version from the feed waits for this item.", "error")
    return redirect(url_for("content.item", slug=item.slug), 303)


def _status(value: str | None) -> ContentStatus | None:
    try:
        return ContentStatus(value) if value else None
    except ValueError:
        return None


def _form_page(slug: str | None) -> ResponseReturnValue:
    session = db_session()
    item = find_item(session, slug) if slug is not None else None
    if slug is not None and item is None:
        abort(404, description="No content item has this slug.")
    zone = viewer_zone()
    posted = request.method == "POST"
    form = (
        ItemForm()
        if posted
        else ItemForm(data=_form_data(fields_of(item, zone) if item else ItemFields()))
    )
    _choices(session, form)
    problems: list[Problem] = []
    refusal = None
    status = 200
    if item is not None and not editable(item):
        refusal = read_only_reason(item)
        if posted:
            # Nothing changes: the page shows the item as stored, and why it stays so.
            form = ItemForm(data=_form_data(fields_of(item, zone)))
            _choices(session, form)
            return _render(form, item, [], refusal, None, 409)
    preview = None
    if posted and form.validate_on_submit():
        fields = _fields(form)
        if request.form.get("action") == PREVIEW:
            preview = Markup(preview_html(fields.body))  # noqa: S704 - nh3 sanitised it
        else:
            saved = _save(session, slug, fields, problems)
            if saved is not None:
                verb = "created" if slug is None else "saved"
                flash(f"Content item “{saved.title}” ({saved.slug}) {verb}.")
                return redirect(url_for("content.item", slug=saved.slug), 303)
            status = 400
    return _render(form, item, problems, refusal, preview, status)


def _save(
    session: Session, slug: str | None, fields: ItemFields, problems: list[Problem]
) -> ContentItem | None:
    """Save in one transaction; on any problem roll back and append them."""
    try:
        saved = save_item(session, slug, fields, _now(), zone=viewer_zone())
    except ContentError as refused:
        session.rollback()
        problems.extend(refused.problems)
        return None
    except Conflict as refused:
        session.rollback()
        problems.append(Problem("form", str(refused)))
        return None
    session.commit()
    return saved


def _render(
    form: ItemForm,
    item: ContentItem | None,
    problems: list[Problem],
    refusal: str | None,
    preview: Markup | None,
    status: int,
) -> ResponseReturnValue:
    by_field: dict[str, list[str]] = {}
    for problem in problems:
        by_field.setdefault(problem.field or "", []).append(problem.message)
    for name, messages in form.errors.items():
        by_field.setdefault(str(name), []).extend(map(str, messages))
    return render_template(
        "content/edit.html",
        form=form,
        item=item,
        errors=by_field,
        refusal=refusal,
        preview=preview,
        kinds=list(ContentKind),
    ), status


def _choices(session: Session, form: ItemForm) -> None:
    """The audiences on file, and the key messages to choose from."""
    form.audiences.choices = [
        SelectChoice(a.slug, a.name)
        for a in session.scalars(select(Audience).order_by(Audience.name))
    ]
    texts = list(session.scalars(select(KeyMessage.text).order_by(KeyMessage.text)))
    chosen = form.key_message.data or ""
    if chosen and chosen not in texts:
        texts.append(chosen)  # kept as typed, for the reader to judge
    form.key_message.choices = [SelectChoice("", "None")] + [SelectChoice(t) for t in texts]


def _form_data(fields: ItemFields) -> dict[str, object]:
    data: dict[str, object] = {
        name: getattr(fields, name) for name in ItemFields.__dataclass_fields__
    }
    data["audiences"] = list(fields.audiences)
    data["new_key_message"] = ""
    return data


def _fields(form: ItemForm) -> ItemFields:
    """The form's text as the domain takes it; a new key message wins over a chosen one."""

    def text(name: str) -> str:
        value = form[name].data
        return value if isinstance(value, str) else ""

    return ItemFields(
        title=text("title"),
        kind=text("kind"),
        audiences=tuple(value for value in form.audiences.data or () if isinstance(value, str)),
        key_message=text("new_key_message").strip() or text("key_message"),
        summary=text("summary"),
        body=text("body"),
        url=text("url"),
        video_url=text("video_url"),
        thumbnail=text("thumbnail"),
        duration=text("duration"),
        speaker=text("speaker"),
        hashtags=text("hashtags"),
        social=text("social"),
        priority=text("priority"),
        publish_at=text("publish_at"),
        expires_at=text("expires_at"),
        status=text("status"),
        slug=text("slug"),
    )


def _now() -> datetime:
    return runtime().clock.now()

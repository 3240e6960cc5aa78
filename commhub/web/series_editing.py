"""/series/new, /series/<slug>/edit, /series/dates: editors plan series.

The form is read by the series file's own reader (commhub.scheduling.series_editing), so the
browser accepts exactly what `series apply` accepts; each problem is shown beside its
control, everything typed is kept, and nothing is saved while any field is wrong. A save
writes the series and plans its editions in one transaction. The next five dates are
worked out on the server on every render ("Show the dates" re-renders without saving);
series-dates.js only refreshes them while typing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import available_timezones

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget

from commhub.errors import Conflict, Problem
from commhub.scheduling import (
    NextDates,
    SavedSeries,
    SeriesFields,
    fields_of,
    get_series,
    next_dates_for,
    read_series_form,
    save_series,
    series_yaml,
)
from commhub.store import Audience, Channel, ContentKind, Series, Shift
from commhub.web.auth import EDITORS, roles_required, staff_only
from commhub.web.runtime import db_session, renderer, runtime
from commhub.web.times import viewer_zone

blueprint = Blueprint("series_editing", __name__)
staff_only(blueprint)
SHOW_DATES = "dates"
SHIFTS = [
    (Shift.NONE.value, "No: keep the cadence's dates"),
    (Shift.PREVIOUS.value, "To the business day before"),
    (Shift.NEXT.value, "To the business day after"),
]
# A problem's field in the series file, and the control of the form it belongs beside.
CONTROL_OF = {
    "from": "from_address",
    "holidays": "holiday_country",
    "holidays.country": "holiday_country",
    "holidays.dates": "company_days",
    "partner_filter": "partner_filter",
    "audiences": "audiences",
}
_FIELD_NAMES = tuple(SeriesFields.__dataclass_fields__)
# The channels the form edits; a social series is written in its series file.
CHANNELS = [(Channel.NEWSLETTER.value, "Newsletter"), (Channel.VIDEO_DIGEST.value, "Video digest")]
IN_THE_FILE = (
    "a social series is edited in its series file (accounts and their credentials are "
    "settings, not form fields): write it there and run commhub series apply FILE"
)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SeriesForm(FlaskForm):  # type: ignore[misc] # Flask-WTF ships no type hints
    """Every field of a series file. No validators of its own: the series reader decides."""

    slug = StringField("Slug")
    name = StringField("Name")
    channel = SelectField("Channel", validate_choice=False)
    all_audiences = BooleanField("Every audience, including any added later")
    audiences = MultiCheckboxField("Audiences", validate_choice=False)
    partner_types = StringField("Partner types")
    partner_tiers = StringField("Partner tiers")
    partner_regions = StringField("Partner regions")
    cadence = StringField("Cadence")
    start = StringField("Start")
    shift = SelectField("Move a date that is not a business day", validate_choice=False)
    holiday_country = StringField("Public holidays of")
    company_days = TextAreaField("Company days")
    timezone = SelectField("Time zone", validate_choice=False)
    local_time = BooleanField("Send at that time in each contact's own zone")
    grace = StringField("Grace")
    template = StringField("Template")
    max_items = StringField("Max items per audience")
    requires_approval = BooleanField("Each edition waits for approval")
    subject = StringField("Subject")
    from_address = StringField("From")
    reply_to = StringField("Reply-to")
    rule_of_seven = BooleanField("Rule of seven")
    kinds = MultiCheckboxField("Kinds of item it carries", validate_choice=False)


@blueprint.route("/series/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def new() -> ResponseReturnValue:
    start = SeriesFields(timezone=viewer_zone().key)
    return _page(None, start)


@blueprint.route("/series/<slug>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(slug: str) -> ResponseReturnValue:
    series = get_series(db_session(), slug)  # NotFound: a 404
    if request.method == "GET" and request.args.get("format") == "yaml":
        return Response(
            series_yaml(series),
            mimetype="text/yaml",
            headers={"Content-Disposition": f'attachment; filename="{series.slug}.yml"'},
        )
    if series.channel is Channel.SOCIAL:
        # Nothing to save from here: a POST is refused as the page says.
        status = 409 if request.method == "POST" else 200
        return render_template("series/edit_social.html", series=series), status
    return _page(series, fields_of(series))


@blueprint.get("/series/dates")
@roles_required(*EDITORS)
def dates() -> ResponseReturnValue:
    """The next five dates for a cadence, zone, shift, start and holidays: a fragment for
    the form's script (partial=1), else a small page of its own with a form."""
    args = request.args
    fields = SeriesFields(
        cadence=args.get("cadence", "")[:200],
        timezone=args.get("timezone", "")[:64] or viewer_zone().key,
        shift=args.get("shift", "")[:16] or Shift.NONE.value,
        start=args.get("start", "")[:32],
        holiday_country=args.get("holidays", "")[:16],
        company_days=args.get("company_days", "")[:2000],
    )
    shown = _next_dates(fields)
    if args.get("partial"):
        return render_template("series/_dates.html", shown=shown)
    return render_template(
        "series/dates.html", shown=shown, fields=fields, zones=_zones(fields.timezone)
    )


def _page(series: Series | None, start: SeriesFields) -> ResponseReturnValue:
    """The form: shown, re-shown with the dates, or saved."""
    session = db_session()
    form = SeriesForm(data=vars(start))
    form.channel.choices = CHANNELS
    form.kinds.choices = [(kind.value, kind.value) for kind in ContentKind]
    form.shift.choices = SHIFTS
    form.timezone.choices = _zones(form.timezone.data or start.timezone)
    form.audiences.choices = _audiences(session)
    errors: dict[str, list[str]] = {}
    fields = start
    status = 200
    if form.validate_on_submit():
        fields = _fields(form)
        if request.form.get("action") == SHOW_DATES:
            shown = _next_dates(fields)
            errors = _errors(shown.problems)
            return _render(form, series, shown, errors, 200)
        editing = series.slug if series else None
        refused = _channel_problem(fields.channel)
        if refused is not None:
            # Read as a social series, the form's subject and sender would be refused and
            # its accounts missing: one clear word about the channel says it better.
            definition, problems = None, [refused]
        else:
            definition, problems = read_series_form(
                session, fields, renderer().has_template, editing=editing
            )
        if definition is not None:
            try:
                saved = save_series(session, definition, _now(), new=series is None)
            except Conflict as refused:
                session.rollback()
                problems = [Problem("form", str(refused), "slug")]
            else:
                session.commit()
                flash(_said(definition.slug, saved))
                return redirect(url_for("series_pages.detail", slug=definition.slug), 303)
        errors = _errors(problems)
        status = 400
    return _render(form, series, _next_dates(fields), errors, status)


def _render(
    form: SeriesForm,
    series: Series | None,
    shown: NextDates,
    errors: dict[str, list[str]],
    status: int,
) -> ResponseReturnValue:
    return render_template(
        "series/edit.html", form=form, series=series, shown=shown, errors=errors
    ), status


def _channel_problem(channel: str) -> Problem | None:
    """Why the form may not save a series on this channel (None: it may; a channel no
    series may have is left for the series reader to refuse in its own words)."""
    if channel.strip() == Channel.SOCIAL.value:
        return Problem("form", IN_THE_FILE, "channel")
    return None


def _fields(form: SeriesForm) -> SeriesFields:
    """What the form holds, as the domain takes it (text as typed; None is blank)."""
    values: dict[str, Any] = {}
    for name in _FIELD_NAMES:
        value = form[name].data
        if name in ("audiences", "kinds"):
            values[name] = [str(v) for v in value or []]
        elif isinstance(value, bool):
            values[name] = value
        else:
            values[name] = "" if value is None else str(value)
    return SeriesFields(**values)


def _next_dates(fields: SeriesFields) -> NextDates:
    return next_dates_for(
        fields.cadence,
        fields.timezone,
        fields.shift,
        fields.start,
        fields.holiday_country,
        _now(),
        company_days=fields.company_days,
    )


def _errors(problems: Iterable[Problem]) -> dict[str, list[str]]:
    """Each problem under the control it is about ("" for the series as a whole)."""
    errors: dict[str, list[str]] = {}
    for problem in problems:
        name = problem.field or ""
        control = CONTROL_OF.get(name, name if name in _FIELD_NAMES else "")
        errors.setdefault(control, []).append(problem.message)
    return errors


def _said(slug: str, saved: SavedSeries) -> str:
    if saved.change.created:
        what = f"Series {slug} created"
    elif saved.change.updated:
        what = f"Series {slug} saved"
    else:
        return f"Series {slug}: nothing changed."
    plan = saved.plan
    said = f"{what}: {plan.created:,} editions planned, {plan.removed:,} removed."
    if plan.cancelled:
        ids = ", ".join(str(i) for i in plan.cancelled)
        said += f" Approved editions off the new schedule were cancelled: {ids}."
    if slug in plan.failed:
        said += f" Its editions could not be planned: {plan.failed[slug]}."
    return said


def _audiences(session: Session) -> list[tuple[str, str]]:
    return [
        (audience.slug, f"{audience.name} ({audience.slug})")
        for audience in session.scalars(select(Audience).order_by(Audience.slug))
    ]


def _zones(current: str) -> list[tuple[str, str]]:
    """Every IANA zone, and the one held now even if it is not one (the reader says so)."""
    names = sorted(available_timezones())
    if current and current not in names:
        names.insert(0, current)
    return [(name, name.replace("_", " ")) for name in names]


def _now() -> datetime:
    return runtime().clock.now()

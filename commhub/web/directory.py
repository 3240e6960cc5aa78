"""/contacts, /contacts/<id>, /partners, /partners/<id> (with its months as a chart): who
receives what, and one contact's story (what was sent to them and what they did); and the
contacts file through the browser: import (checked, previewed, then confirmed), export, and
erasure on request.

Each change calls the same domain function as its `commhub contacts` command, which writes
the audit log: an import is all or nothing, as on the command line, and nothing is written
before the person who uploaded the file has seen what it would do.
"""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from wtforms import HiddenField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, ValidationError

from commhub.contacts import (
    KEPT_FOR,
    MAX_UPLOAD_BYTES,
    ContactFilter,
    ImportTickets,
    KeptUpload,
    PartnerFilter,
    contact_story,
    contacts_csv_chunks,
    count_matching_contacts,
    count_matching_partners,
    directory_choices,
    discard_upload,
    erase_person,
    find_contacts,
    find_partners,
    import_kept_upload,
    keep_upload,
    partner_detail,
    partner_name,
    preview_contacts_file,
    read_upload,
    upload_source,
)
from commhub.errors import ContactImportError, InvalidInput, Problem
from commhub.reports import (
    Thresholds,
    format_names,
    heat_rows,
    partner_heat_map,
    partner_over_time,
)
from commhub.store import ContactStatus, UserRole, email_key
from commhub.tracking import SEVEN, THREE, forget_contact
from commhub.web import charts
from commhub.web.auth import EDITORS, roles_required, signed_in_user, staff_only
from commhub.web.paging import PER_PAGE, Pager
from commhub.web.runtime import db_session, runtime
from commhub.web.times import viewer_zone
from commhub.wiring import build_message_copies

blueprint = Blueprint("directory", __name__)
staff_only(blueprint)

# The heat map's colours as the stylesheet's cell classes (the word is shown as well).
TONES = {"green": "good", "amber": "warn", "red": "bad"}
MAX_SEARCH = 200
MAX_UPLOAD_MB = MAX_UPLOAD_BYTES // (1024 * 1024)
MAX_ADDRESS = 320


@blueprint.get("/contacts")
def contacts() -> ResponseReturnValue:
    session = db_session()
    choices = directory_choices(session)
    where = ContactFilter(
        search=_search(),
        partner_id=_partner_id(request.args.get("partner")),
        partner_type=_one_of(request.args.get("type"), choices.types),
        tier=_one_of(request.args.get("tier"), choices.tiers),
        region=_one_of(request.args.get("region"), choices.regions),
        role=_one_of(request.args.get("role"), [slug for slug, _name in choices.roles]),
        status=_status(request.args.get("status")),
    )
    pager = Pager.from_request(count_matching_contacts(session, where))
    any_contacts = pager.total > 0 or count_matching_contacts(session, ContactFilter()) > 0
    return render_template(
        "directory/contacts.html",
        contacts=find_contacts(session, where, pager.offset, pager.per_page),
        pager=pager,
        choices=choices,
        statuses=list(ContactStatus),
        where=where,
        partner_name=partner_name(session, where.partner_id),
        any_contacts=any_contacts,
    )


@blueprint.get("/contacts/<big_id:contact_id>")
def contact(contact_id: int) -> ResponseReturnValue:
    story = contact_story(  # NotFound: a 404
        db_session(), contact_id, _asked_page(), PER_PAGE, seven=SEVEN, three=THREE
    )
    return render_template(
        "directory/contact.html",
        story=story,
        contact=story.contact,
        pager=Pager(story.page, story.per_page, story.total),
    )


@blueprint.get("/partners")
def partners() -> ResponseReturnValue:
    session = db_session()
    choices = directory_choices(session)
    where = PartnerFilter(
        search=_search(),
        partner_type=_one_of(request.args.get("type"), choices.types),
        tier=_one_of(request.args.get("tier"), choices.tiers),
        region=_one_of(request.args.get("region"), choices.regions),
    )
    pager = Pager.from_request(count_matching_partners(session, where))
    any_partners = pager.total > 0 or count_matching_partners(session, PartnerFilter()) > 0
    return render_template(
        "directory/partners.html",
        partners=find_partners(session, where, pager.offset, pager.per_page),
        pager=pager,
        choices=choices,
        where=where,
        any_partners=any_partners,
    )


@blueprint.get("/partners/<row_id:partner_id>")
def partner(partner_id: int) -> ResponseReturnValue:
    session = db_session()
    detail = partner_detail(session, partner_id)  # NotFound: a 404
    settings = runtime().settings
    thresholds = Thresholds(settings.heat_map_green, settings.heat_map_amber)
    roles, grid = partner_heat_map(session, partner_id)
    zone = viewer_zone()
    trend = partner_over_time(session, partner_id, now=_now(), zone=zone)
    return render_template(
        "directory/partner.html",
        partner=detail,
        heat=heat_rows(roles, grid, thresholds),
        gaps=grid.gaps(roles),
        thresholds=thresholds,
        formats=format_names(),
        tones=TONES,
        trend=trend,
        trend_words=charts.partner_trend_words(trend, zone),
        trend_lines=charts.PARTNER_LINES,
        month_label=lambda month: charts.month_label(month, zone),
    )


@blueprint.get("/partners/<row_id:partner_id>/trend.svg")
def partner_trend_chart(partner_id: int) -> ResponseReturnValue:
    """The partner's months as an SVG image (no script in it, nothing fetched)."""
    zone = viewer_zone()
    trend = partner_over_time(db_session(), partner_id, now=_now(), zone=zone)  # NotFound: 404
    response = Response(
        charts.partner_trend_svg(trend, zone), content_type="image/svg+xml; charset=utf-8"
    )
    # The figures change with every event: never kept, and never read as anything but SVG.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _asked_page() -> int:
    """The page ?page= asks for (ASCII digits, small); anything else is page 1. The story
    keeps it within the pages there are, as Pager.from_request does for a counted list."""
    asked = request.args.get("page", "1")
    return int(asked) if asked.isascii() and asked.isdigit() and len(asked) < 7 else 1


def _search() -> str:
    return request.args.get("q", "").strip()[:MAX_SEARCH]


def _one_of(value: str | None, allowed: list[str]) -> str | None:
    return value if value in allowed else None


def _status(value: str | None) -> ContactStatus | None:
    try:
        return ContactStatus(value) if value else None
    except ValueError:
        return None


def _partner_id(value: str | None) -> int | None:
    """A partner's id from ?partner= (ASCII digits, small); anything else is no filter."""
    if value and value.isascii() and value.isdigit() and len(value) < 10:
        return int(value)
    return None


class ImportForm(FlaskForm):  # type: ignore[misc] # Flask-WTF ships no type hints
    file = FileField(
        f"Contacts file (.csv, up to {MAX_UPLOAD_MB} MB)",
        validators=[
            FileRequired("choose the .csv file to import"),
            FileAllowed(["csv"], "a .csv file, please (in a spreadsheet: Save as, CSV UTF-8)"),
            FileSize(
                MAX_UPLOAD_BYTES,
                message=f"larger than {MAX_UPLOAD_MB} MB: import a file this big with "
                "`commhub contacts import FILE` on the server",
            ),
        ],
    )


class ConfirmImportForm(FlaskForm):  # type: ignore[misc] # Flask-WTF ships no type hints
    ticket = HiddenField(validators=[DataRequired()])
    confirm = SubmitField("Import these contacts")
    cancel = SubmitField("Cancel: import nothing")


class EraseForm(FlaskForm):  # type: ignore[misc] # Flask-WTF ships no type hints
    address = StringField(
        "Email address of the person to erase",
        validators=[DataRequired("type the address to erase"), Length(max=MAX_ADDRESS)],
    )
    again = StringField(
        "The same address again, to confirm",
        validators=[DataRequired("type the address a second time"), Length(max=MAX_ADDRESS)],
    )

    def validate_again(self, field: StringField) -> None:
        if email_key(field.data or "") != email_key(self.address.data or ""):
            raise ValidationError("the two addresses differ: type the same address twice")


@blueprint.route("/contacts/import", methods=["GET", "POST"])
@roles_required(*EDITORS)
def import_contacts() -> ResponseReturnValue:
    form = ImportForm()
    problems: list[Problem] = []
    source = ""
    if form.validate_on_submit():
        source = upload_source(form.file.data.filename)
        session = db_session()
        try:
            data = read_upload(form.file.data.stream)
            preview = preview_contacts_file(session, data, source)
        except ContactImportError as refused:
            problems = list(refused.problems)
        except InvalidInput as refused:  # too large after all
            form.file.errors.append(refused.problems[0].message)
        else:
            user = signed_in_user()
            assert user is not None  # staff_only let this request through
            settings = runtime().settings
            now = _now()
            kept = KeptUpload(keep_upload(settings.data_dir, data, now), source)
            ticket = ImportTickets(settings.secret_keys).sign(kept, user.id, now)
            confirm = ConfirmImportForm(formdata=None, data={"ticket": ticket})
            return render_template(
                "directory/import_preview.html",
                preview=preview,
                form=confirm,
                kept_minutes=int(KEPT_FOR.total_seconds() // 60),
            )
        finally:
            session.rollback()  # a preview reads; nothing it did is kept
    status = 400 if problems or form.errors else 200
    return render_template(
        "directory/import.html",
        form=form,
        problems=problems,
        source=source,
        max_mb=MAX_UPLOAD_MB,
        roles=directory_choices(db_session()).roles,
    ), status


@blueprint.post("/contacts/import/confirm")
@roles_required(*EDITORS)
def confirm_import() -> ResponseReturnValue:
    form = ConfirmImportForm()
    user = signed_in_user()
    assert user is not None  # staff_only let this request through
    settings = runtime().settings
    kept = None
    if form.validate_on_submit():
        kept = ImportTickets(settings.secret_keys).read(form.ticket.data or "", user.id, _now())
    if kept is None:
        flash(
            "Nothing imported: this upload has expired (a file waits an hour for its "
            "confirmation) or its form was altered. Upload the file again.",
            "error",
        )
        return redirect(url_for("directory.import_contacts"), 303)
    if form.cancel.data:
        discard_upload(settings.data_dir, kept.name)
        flash(f"Nothing imported from {kept.source}: the upload is deleted.")
        return redirect(url_for("directory.contacts"), 303)
    session = db_session()
    try:
        imported = import_kept_upload(session, settings.data_dir, kept, _now())
    except ContactImportError as refused:
        # Something changed since the preview (an audience removed, say): still all or nothing.
        session.rollback()
        return render_template(
            "directory/import.html",
            form=ImportForm(formdata=None),
            problems=list(refused.problems),
            source=kept.source,
            max_mb=MAX_UPLOAD_MB,
            roles=directory_choices(session).roles,
        ), 400
    if imported is None:
        session.rollback()
        flash(
            f"Nothing imported this time: {kept.source} was imported or cancelled already.",
            "error",
        )
        return redirect(url_for("directory.contacts"), 303)
    session.commit()
    flash(f"{kept.source} imported: {imported.report.summary()}.")
    return redirect(url_for("directory.contacts"), 303)


@blueprint.get("/contacts/export")
def export_contacts() -> ResponseReturnValue:
    day = _now().astimezone(viewer_zone()).date()
    return Response(
        contacts_csv_chunks(runtime().sessions),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="contacts-{day.isoformat()}.csv"',
            # Personal data: no cache along the way keeps a copy.
            "Cache-Control": "no-store",
        },
    )


@blueprint.route("/contacts/erase", methods=["GET", "POST"])
@roles_required(UserRole.ADMIN)
def erase() -> ResponseReturnValue:
    form = EraseForm()
    if form.validate_on_submit():
        settings = runtime().settings
        address = (form.address.data or "").strip()
        erasure = erase_person(
            runtime().sessions, address, _now(), build_message_copies(settings), forget_contact
        )
        if erasure.found:
            flash(
                f"The person is erased: their contact, {erasure.messages:,} messages and "
                f"{erasure.events:,} events. The address stays suppressed (as a hash), so no "
                "later import adds it again."
            )
        else:
            flash(
                "No contact had that address, so nothing was erased; the address is "
                "suppressed (as a hash) all the same, so no later import adds it."
            )
        return redirect(url_for("directory.erase"), 303)
    status = 400 if form.errors else 200
    return render_template("directory/erase.html", form=form), status


def _now() -> datetime:
    return runtime().clock.now()

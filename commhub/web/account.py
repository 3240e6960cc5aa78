"""/account: a signed-in user changes their own password (the current one first) and the time
zone their pages show times in. A user given a temporary password by an admin is kept here
until they have chosen their own (see auth.staff_only)."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField
from wtforms.validators import DataRequired, EqualTo, Length

from commhub.contacts import MIN_PASSWORD_LENGTH, change_password, set_time_zone
from commhub.errors import InvalidInput
from commhub.store import User
from commhub.web.auth import StaffUser, signed_in_user, staff_only
from commhub.web.runtime import db_session

blueprint = Blueprint("account", __name__)
staff_only(blueprint)


class PasswordForm(FlaskForm):  # type: ignore[misc] # Flask-WTF ships no type hints
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=1024)])
    new = PasswordField(
        f"New password ({MIN_PASSWORD_LENGTH} characters or more)",
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=1024,
                message=f"a new password needs at least {MIN_PASSWORD_LENGTH} characters",
            ),
        ],
    )
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new", message="the two new passwords differ")],
    )


BROWSER_ZONE = ""  # the choice that follows the browser


class ZoneForm(FlaskForm):  # type: ignore[misc] # Flask-WTF ships no type hints
    zone = SelectField("Show times in", validate_choice=False)


def _zone_form(user: User) -> ZoneForm:
    form = ZoneForm(prefix="zone", data={"zone": user.time_zone or BROWSER_ZONE})
    form.zone.choices = [(BROWSER_ZONE, "My browser's time zone")] + [
        (zone, zone.replace("_", " ")) for zone in sorted(available_timezones())
    ]
    return form


@blueprint.post("/account/zone")
def zone() -> ResponseReturnValue:
    signed_in = signed_in_user()
    assert signed_in is not None  # staff_only let this request through
    session = db_session()
    user = session.get(User, signed_in.id)
    assert user is not None
    form = _zone_form(user)
    if form.validate_on_submit():
        try:
            set_time_zone(user, form.zone.data or None)
        except InvalidInput as exc:
            flash(exc.problems[0].message)
        else:
            session.commit()
            flash(f"Times now show in {user.time_zone or 'your browser’s time zone'}.")
    return redirect(url_for("account.account"))


@blueprint.route("/account", methods=["GET", "POST"])
def account() -> ResponseReturnValue:
    signed_in = signed_in_user()
    assert signed_in is not None  # staff_only let this request through
    form = PasswordForm()
    problems: list[str] = []
    if form.validate_on_submit():
        session = db_session()
        user = session.get(User, signed_in.id)
        assert user is not None
        forced = user.must_change_password
        try:
            change_password(user, form.current.data or "", form.new.data or "")
        except InvalidInput as exc:
            problems = [p.message for p in exc.problems]
        else:
            session.commit()
            # This session goes on under the new generation; every other one has ended.
            login_user(StaffUser.of(user))
            if forced:
                flash("Your password is set: only you know it now. Welcome to commhub.")
                return redirect(url_for("home.index"))
            flash("Your password is changed. You were signed out everywhere else.")
            return redirect(url_for("account.account"))
    problems += [message for errors in form.errors.values() for message in errors]
    status = 400 if problems else 200
    stored = db_session().get(User, signed_in.id)
    assert stored is not None
    return render_template(
        "account.html",
        form=form,
        zone_form=_zone_form(stored),
        user=signed_in,
        must_change=stored.must_change_password,
        problems=problems,
    ), status

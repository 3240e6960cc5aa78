"""/account: a signed-in user changes their own password (the current one first)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_user
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from commhub.contacts import MIN_PASSWORD_LENGTH, change_password
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
        try:
            change_password(user, form.current.data or "", form.new.data or "")
        except InvalidInput as exc:
            problems = [p.message for p in exc.problems]
        else:
            session.commit()
            # This session goes on under the new generation; every other one has ended.
            login_user(StaffUser.of(user))
            flash("Your password is changed. You were signed out everywhere else.")
            return redirect(url_for("account.account"))
    problems += [message for errors in form.errors.values() for message in errors]
    status = 400 if problems else 200
    return render_template("account.html", form=form, user=signed_in, problems=problems), status

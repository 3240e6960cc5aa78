"""/users and /settings, for admins only: the staff and their roles, a new user, one user's
role and whether they may sign in, a password reset; the effective settings (every secret
masked).

An admin never chooses a password for someone else: a new user and a reset get a random
temporary one, shown once (never flashed, stored in the database or logged), which the user
must replace at their next sign-in. The POST redirects to the user's page, which shows the
password on its first GET alone: refreshing it neither posts again (a reset would make yet
another password, silently voiding one already handed over) nor shows the password again.
Every change goes through the same domain functions as `commhub users`, which end the user's
sessions and write the audit log.
"""

from __future__ import annotations

from typing import TypedDict

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask import session as browser_session  # not the database's: that is db_session()
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, SelectField
from wtforms.fields.choices import (  # type: ignore[attr-defined] # stubs lag wtforms 3.3
    SelectChoice,
)
from wtforms.validators import DataRequired, Email, Length

from commhub.config import shown_settings
from commhub.contacts import (
    change_user,
    create_user_with_temporary_password,
    list_users,
    user_history,
)
from commhub.contacts import reset_password as reset_users_password
from commhub.errors import Conflict, InvalidInput
from commhub.store import User, UserRole
from commhub.web.auth import roles_required, signed_in_user, staff_only
from commhub.web.runtime import db_session, runtime

blueprint = Blueprint("admin", __name__)
staff_only(blueprint)

ROLE_CHOICES = [
    SelectChoice(UserRole.VIEWER.value, "Viewer: reads every page"),
    SelectChoice(UserRole.EDITOR.value, "Editor: content, series, sends"),
    SelectChoice(UserRole.ADMIN.value, "Admin: also users and settings"),
]
ACTIVE, DISABLED = "active", "disabled"
# The page holding a temporary password: kept by no cache, sent to no other site.
NOT_KEPT = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Where a temporary password waits, in Flask's session, between the POST that made it and
# the GET that shows it. The session is a cookie signed (not encrypted) in the admin's own
# browser: it carries a password the admin is about to be shown anyway, over the same
# connection, for one redirect; the GET that shows it takes it out again (signing out
# clears it too, should that GET never come).
_PENDING_PASSWORD = "_admin_temporary_password"  # noqa: S105 # a key, not a password


class PendingPassword(TypedDict):
    user_id: int
    password: str
    created: bool


class NewUserForm(FlaskForm):  # type: ignore[misc] # Flask-WTF ships no type hints
    email = EmailField(
        "Email address",
        validators=[
            DataRequired(message="Enter the new user's email address."),
            Length(max=320, message="An email address has at most 320 characters."),
            Email(message="That is not an email address.", check_deliverability=False),
        ],
    )
    role = SelectField(
        "Role", choices=ROLE_CHOICES, default=UserRole.VIEWER.value, validators=[DataRequired()]
    )


class UserForm(FlaskForm):  # type: ignore[misc] # Flask-WTF ships no type hints
    role = SelectField("Role", choices=ROLE_CHOICES, validators=[DataRequired()])
    status = RadioField(
        "May sign in",
        choices=[
            SelectChoice(ACTIVE, "Active: may sign in"),
            SelectChoice(DISABLED, "Disabled: cannot sign in; their sessions end at once"),
        ],
        validators=[DataRequired()],
    )


@blueprint.get("/users")
@roles_required(UserRole.ADMIN)
def users() -> ResponseReturnValue:
    return render_template("admin/users.html", users=list_users(db_session()))


@blueprint.route("/users/new", methods=["GET", "POST"])
@roles_required(UserRole.ADMIN)
def new_user() -> ResponseReturnValue:
    form = NewUserForm()
    errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        session = db_session()
        try:
            user, password = create_user_with_temporary_password(
                session, form.email.data or "", UserRole(form.role.data)
            )
        except InvalidInput as refused:
            session.rollback()
            for problem in refused.problems:
                errors.setdefault(problem.field or "email", []).append(problem.message)
        except Conflict:
            session.rollback()
            errors["email"] = ["A user with this address exists already."]
        else:
            session.commit()
            return _show_once(user, password, created=True)
    errors = _merge(form.errors, errors)
    page = render_template("admin/new_user.html", form=form, errors=errors)
    return page, 400 if errors else 200


@blueprint.route("/users/<row_id:user_id>", methods=["GET", "POST"])
@roles_required(UserRole.ADMIN)
def user(user_id: int) -> ResponseReturnValue:
    session = db_session()
    shown = session.get(User, user_id) or abort(404)
    pending = _pending_password(user_id) if request.method == "GET" else None
    if pending is not None:
        return _temporary_password_page(shown, pending["password"], pending["created"])
    status = ACTIVE if shown.is_active else DISABLED
    form = UserForm(data={"role": shown.role.value, "status": status})
    errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        try:
            changes = change_user(
                session,
                shown,
                UserRole(form.role.data),
                form.status.data == ACTIVE,
                by=_me(),
            )
        except InvalidInput as refused:
            session.rollback()
            for problem in refused.problems:
                field = {"active": "status"}.get(problem.field or "", problem.field or "role")
                errors.setdefault(field, []).append(problem.message)
        else:
            session.commit()
            if changes:
                flash(f"{shown.email}: {', '.join(changes)}. Their sessions have ended.")
            else:
                flash(f"Nothing changed for {shown.email}.")
            return redirect(url_for("admin.user", user_id=user_id), 303)
    errors = _merge(form.errors, errors)
    page = render_template(
        "admin/user.html",
        shown=shown,
        form=form,
        errors=errors,
        history=user_history(session, shown),
        is_me=shown.id == _me().id,
    )
    return page, 400 if errors else 200


@blueprint.post("/users/<row_id:user_id>/reset-password")
@roles_required(UserRole.ADMIN)
def reset_password(user_id: int) -> ResponseReturnValue:
    session = db_session()
    shown = session.get(User, user_id) or abort(404)
    try:
        password = reset_users_password(shown, by=_me())
    except Conflict as refused:
        session.rollback()
        flash(f"Password not reset: {refused}.", "error")
        return redirect(url_for("admin.user", user_id=user_id), 303)
    session.commit()
    return _show_once(shown, password, created=False)


@blueprint.get("/settings")
@roles_required(UserRole.ADMIN)
def settings() -> ResponseReturnValue:
    return render_template("admin/settings.html", settings=shown_settings(runtime().settings))


def _show_once(user: User, password: str, created: bool) -> ResponseReturnValue:
    """After the commit: keep the password for the next request alone and send the browser
    to the user's page, which shows it (POST-redirect-GET)."""
    browser_session[_PENDING_PASSWORD] = PendingPassword(
        user_id=user.id, password=password, created=created
    )
    return redirect(url_for("admin.user", user_id=user.id), 303)


def _pending_password(user_id: int) -> PendingPassword | None:
    """The password waiting to be shown on this user's page, taken out so that no later
    request finds it. One waiting for another user stays for its own redirect."""
    pending = browser_session.get(_PENDING_PASSWORD)
    if not isinstance(pending, dict) or pending.get("user_id") != user_id:
        return None
    browser_session.pop(_PENDING_PASSWORD)
    password, created = pending.get("password"), pending.get("created")
    if not isinstance(password, str) or not isinstance(created, bool):
        return None
    return PendingPassword(user_id=user_id, password=password, created=created)


def _temporary_password_page(user: User, password: str, created: bool) -> ResponseReturnValue:
    page = render_template(
        "admin/temporary_password.html", shown=user, password=password, created=created
    )
    return page, 200, NOT_KEPT


def _me() -> User:
    signed_in = signed_in_user()
    assert signed_in is not None  # staff_only and roles_required let this request through
    me = db_session().get(User, signed_in.id)
    assert me is not None
    return me


def _merge(*sources: dict[str, list[str]]) -> dict[str, list[str]]:
    """Every error by field, the form's own and the domain's, once each."""
    merged: dict[str, list[str]] = {}
    for source in sources:
        for field, messages in source.items():
            for message in messages:
                if message not in merged.setdefault(field, []):
                    merged[field].append(message)
    return merged

"""Sign-in for staff: /login, /logout, and who is signed in on every request.

Flask-Login keeps "user id:session generation" in the signed session cookie; changing a
password or a role bumps the generation in the database, which ends the user's other
sessions at their next request. Sign-in attempts are limited per address and per account
(Flask-Limiter; in memory, or COMMHUB_RATE_LIMIT_STORAGE when several processes serve).
Every staff POST carries a CSRF token (Flask-WTF); the public, token-signed endpoints are
exempt, being authorised by their signed token or signature.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from commhub.contacts import authenticate
from commhub.store import User, UserRole, acting_as, email_key
from commhub.web.runtime import db_session, runtime

blueprint = Blueprint("auth", __name__)
View = TypeVar("View", bound=Callable[..., ResponseReturnValue])
csrf = CSRFProtect()
WRONG = "That email and password do not match an account. Check both and try again."
# Who may change content, series, sends and contacts (admins may also manage users).
EDITORS = (UserRole.ADMIN, UserRole.EDITOR)
# Per address, and per account whatever the address: enough for a person, not a guesser.
PER_ADDRESS = "20 per minute;100 per hour"
PER_ACCOUNT = "5 per minute;30 per hour"
# What get_id writes: ASCII digits within 64-bit ids, nothing else.
_SESSION_ID = re.compile(r"(?P<id>[0-9]{1,18}):(?P<generation>[0-9]{1,18})")


@dataclass(frozen=True)
class StaffUser:
    """The signed-in user as plain values: no ORM object outlives its request."""

    id: int
    generation: int
    email: str
    role: UserRole
    # Signed in with a temporary password: only /account (and /logout) until they change it.
    must_change_password: bool = False
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    @classmethod
    def of(cls, user: User) -> StaffUser:
        return cls(
            user.id, user.session_generation, user.email, user.role, user.must_change_password
        )

    def get_id(self) -> str:
        return f"{self.id}:{self.generation}"


class LoginForm(FlaskForm):  # type: ignore[misc] # Flask-WTF ships no type hints
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


def init_app(app: Flask) -> None:
    """Sessions, CSRF and the sign-in limits, for this app alone."""
    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.login_message = "Sign in to see that page."
    manager.session_protection = "strong"
    manager.user_loader(load_user)
    # Also for the shared macros, which are imported without the page's context.
    app.jinja_env.globals["current_user"] = current_user
    csrf.init_app(app)
    settings = app.extensions["commhub"].settings
    limiter = Limiter(get_remote_address, app=app, storage_uri=settings.rate_limit_storage)
    app.register_blueprint(blueprint)
    app.before_request(_act_as_signed_in_user)
    app.teardown_request(_stop_acting)
    # A limiter per app (its counts are this app's), wrapped round the registered view.
    limited = limiter.limit(PER_ACCOUNT, key_func=_account, methods=["POST"])(login)
    app.view_functions["auth.login"] = limiter.limit(PER_ADDRESS, methods=["POST"])(limited)


def _act_as_signed_in_user() -> None:
    """What this request changes is logged as done by the signed-in user (if any)."""
    user = signed_in_user()
    g.acting = acting_as(user.email if user else "anonymous")
    g.acting.__enter__()


def _stop_acting(_exc: BaseException | None) -> None:
    acting = g.pop("acting", None)
    if acting is not None:
        acting.__exit__(None, None, None)


def load_user(user_id: str) -> StaffUser | None:
    """The user a session names, if it is still theirs (same generation, still active)."""
    found = _SESSION_ID.fullmatch(user_id)
    if found is None:
        return None
    user = db_session().get(User, int(found["id"]))
    if user is None or not user.is_active or user.session_generation != int(found["generation"]):
        return None
    return StaffUser.of(user)


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        found = authenticate(
            db_session(), form.email.data or "", form.password.data or "", runtime().clock.now()
        )
        if found is not None:
            user = StaffUser.of(found)
            db_session().commit()
            target = safe_next(request.args.get("next"))
            session.clear()  # a new session at sign-in: nothing from before carries over
            login_user(user)
            return redirect(target)
        error = WRONG
    elif request.method == "POST":
        error = WRONG
    return render_template("auth/login.html", form=form, error=error), 200


@blueprint.post("/logout")
def logout() -> ResponseReturnValue:
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(c in target for c in "\r\n\t\\"):
        return "/"
    return target


def _account() -> str:
    return "account:" + email_key(request.form.get("email", ""))[:320]


# Staff pages: what a browser may load and do on them (no inline script, no framing).
STAFF_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


PASSWORD_CHANGE = "account.account"  # noqa: S105 - an endpoint, not a password


def staff_only(staff: Blueprint) -> None:
    """Every page of a staff blueprint needs a signed-in user (the others go to /login and
    come back after it), and gets the staff pages' security headers. A user who signed in
    with a temporary password gets /account alone (and /logout, outside these blueprints)
    until they choose their own: the admin who handed it over knows it."""

    @staff.before_request
    def _signed_in() -> ResponseReturnValue | None:
        user = signed_in_user()
        if user is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if user.must_change_password and request.endpoint != PASSWORD_CHANGE:
            return redirect(url_for(PASSWORD_CHANGE), 303)
        return None

    @staff.after_request
    def _headers(response: Response) -> Response:
        response.headers.update(STAFF_HEADERS)
        return response


def roles_required(*roles: UserRole) -> Callable[[View], View]:
    """A view only these roles may use; anyone else signed in gets 403 (enforced here, on
    the server, whatever a page shows or hides)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args: object, **kwargs: object) -> ResponseReturnValue:
            user = signed_in_user()
            if user is None or user.role not in roles:
                abort(403, description="Your role does not allow this page.")
            return view(*args, **kwargs)

        return cast(View, guarded)

    return decorate


def signed_in_user() -> StaffUser | None:
    """The signed-in staff user of this request, if any."""
    user = current_user._get_current_object()
    return user if isinstance(user, StaffUser) else None

"""One place renders errors: JSON problem details for API-style paths, HTML otherwise.

The domain's refusals are answered like the HTTP errors they mean: a NotFound raised in a
view is a 404, a Conflict (a rule the change would break) a 409, input with problems a 422,
never a 500 with a stack trace in the log.
"""

from __future__ import annotations

from flask import Flask, g, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import Conflict as HttpConflict
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import NotFound as HttpNotFound
from werkzeug.exceptions import UnprocessableEntity as HttpUnprocessable

from commhub.errors import CommhubError, Conflict, InvalidInput, NotFound
from commhub.web.auth import StaffUser

JSON_PREFIXES = ("/api/", "/webhooks/", "/healthz")
# The domain's errors a request can cause, and the HTTP errors they are answered as.
DOMAIN_ANSWERS: tuple[tuple[type[CommhubError], type[HTTPException]], ...] = (
    (NotFound, HttpNotFound),
    (Conflict, HttpConflict),
    (InvalidInput, HttpUnprocessable),
)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _render_http_error)
    for domain_error, _ in DOMAIN_ANSWERS:
        app.register_error_handler(domain_error, _render_domain_error)


def _render_domain_error(error: CommhubError) -> ResponseReturnValue:
    for domain_error, http_error in DOMAIN_ANSWERS:
        if isinstance(error, domain_error):
            return _render_http_error(http_error(description=str(error)))
    raise error  # registered only for the classes above


def _render_http_error(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    if (
        request.path.startswith(JSON_PREFIXES)
        or request.accept_mimetypes.best == "application/json"
    ):
        problem = {"type": "about:blank", "title": error.name, "status": status}
        if error.description:
            problem["detail"] = error.description
        return problem, status, {"Content-Type": "application/problem+json"}
    # The staff bar only for a user this request has already loaded: an error page never
    # asks the database again (it may be why the request failed).
    staff = isinstance(g.get("_login_user"), StaffUser)
    return render_template("error.html", error=error, status=status, staff=staff), status

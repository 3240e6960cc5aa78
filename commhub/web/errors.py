"""One place renders errors: JSON problem details for API-style paths, HTML otherwise."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

JSON_PREFIXES = ("/api/", "/webhooks/", "/healthz")


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _render_http_error)


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
    return render_template("error.html", error=error, status=status), status

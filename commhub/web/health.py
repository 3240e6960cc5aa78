"""/healthz: is this process able to serve, and is its database reachable and current?"""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from commhub import __version__
from commhub.store import check_database
from commhub.web.runtime import runtime

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> ResponseReturnValue:
    database = check_database(runtime().engine)
    body = {"status": database.status, "version": __version__, "database": asdict(database)}
    response = jsonify(body)
    response.status_code = 200 if database.status == "ok" else 503
    response.headers["Cache-Control"] = "no-store"
    return response

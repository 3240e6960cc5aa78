"""The front page: what is in this commhub, and where to go next."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from commhub.library import library_overview
from commhub.web.auth import staff_only
from commhub.web.runtime import db_session

blueprint = Blueprint("home", __name__)
staff_only(blueprint)


@blueprint.get("/")
def index() -> ResponseReturnValue:
    return render_template("home.html", overview=library_overview(db_session()))

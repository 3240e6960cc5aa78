"""The dashboard: what goes out next and to whom, what went out, what needs a person."""

from __future__ import annotations

from itertools import islice

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from commhub.editions import started_editions
from commhub.library import library_overview
from commhub.scheduling import calendar
from commhub.store import EditionState, list_alerts
from commhub.web.auth import staff_only
from commhub.web.runtime import db_session, runtime

blueprint = Blueprint("home", __name__)
staff_only(blueprint)

NEXT_SENDS = 6
LAST_EDITIONS = 8


@blueprint.get("/")
def index() -> ResponseReturnValue:
    session = db_session()
    now = runtime().clock.now()
    upcoming = calendar(session, now, months=3)
    next_sends = list(islice((e for e in upcoming if e.state is EditionState.PLANNED), NEXT_SENDS))
    return render_template(
        "home.html",
        overview=library_overview(session),
        next_sends=next_sends,
        last_editions=started_editions(session, limit=LAST_EDITIONS),
        alerts=list_alerts(session),
    )

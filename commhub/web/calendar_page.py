"""/calendar: every edition by month, or as a list."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from commhub.scheduling import (
    GRID_LIMIT,
    by_day,
    count_editions_between,
    count_series,
    editions_between,
    month_weeks,
    month_window,
    parse_month,
    shift_month,
    weeks_window,
)
from commhub.web.auth import staff_only
from commhub.web.paging import Pager
from commhub.web.runtime import db_session, runtime
from commhub.web.times import viewer_zone

blueprint = Blueprint("calendar_page", __name__)
staff_only(blueprint)


@blueprint.get("/calendar")
def index() -> ResponseReturnValue:
    session = db_session()
    now = runtime().clock.now()
    zone = viewer_zone()
    today = now.astimezone(zone).date()
    first = parse_month(request.args.get("month"), today)
    as_list = request.args.get("view") == "list"
    common = {
        "first": first,
        "today": today,
        "as_list": as_list,
        "previous": shift_month(first, -1),
        "following": shift_month(first, 1),
        "has_series": count_series(session) > 0,
    }
    if as_list:
        start, end = month_window(first, zone)
        pager = Pager.from_request(count_editions_between(session, start, end))
        entries = editions_between(
            session, start, end, now, pager.offset, pager.per_page, with_recipients=True
        )
        return render_template("calendar.html", entries=entries, pager=pager, **common)
    start, end = weeks_window(first, zone)
    entries = editions_between(session, start, end, now, limit=GRID_LIMIT + 1)
    return render_template(
        "calendar.html",
        weeks=month_weeks(first),
        days=by_day(entries[:GRID_LIMIT], zone),
        entries=entries,
        truncated=len(entries) > GRID_LIMIT,
        grid_limit=GRID_LIMIT,
        **common,
    )

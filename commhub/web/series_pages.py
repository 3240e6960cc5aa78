"""/series, /series/<slug>: the series and their schedules."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from commhub.scheduling import (
    cadence_in_words,
    count_series,
    get_series,
    next_dates,
    recent_editions,
    series_summaries,
)
from commhub.web.auth import staff_only
from commhub.web.paging import Pager
from commhub.web.runtime import db_session, runtime

blueprint = Blueprint("series_pages", __name__)
staff_only(blueprint)


@blueprint.get("/series")
def index() -> ResponseReturnValue:
    session = db_session()
    now = runtime().clock.now()
    pager = Pager.from_request(count_series(session))
    return render_template(
        "series/index.html",
        summaries=series_summaries(session, now, pager.offset, pager.per_page),
        pager=pager,
        in_words=cadence_in_words,
    )


@blueprint.get("/series/<slug>")
def detail(slug: str) -> ResponseReturnValue:
    session = db_session()
    now = runtime().clock.now()
    series = get_series(session, slug)  # NotFound: a 404
    return render_template(
        "series/detail.html",
        series=series,
        cadence_words=cadence_in_words(series.cadence),
        grace=_duration(timedelta(minutes=series.grace_minutes)),
        upcoming=next_dates(session, series, now),
        recent=recent_editions(session, series.id, now),
    )


def _duration(span: timedelta) -> str:
    """ "6 hours", "1 day 2 hours", "30 minutes"."""
    minutes = int(span.total_seconds() // 60)
    parts = []
    for size, unit in ((24 * 60, "day"), (60, "hour"), (1, "minute")):
        amount, minutes = divmod(minutes, size)
        if amount:
            parts.append(f"{amount} {unit}{'s' * (amount != 1)}")
    return " ".join(parts) or "none"

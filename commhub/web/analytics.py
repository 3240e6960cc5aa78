"""/analytics: the reports as charts and tables, each table as CSV, each chart as SVG."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from flask import Blueprint, Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from commhub.reports import (
    COMPLAINT_COLUMNS,
    EXPOSURE_COLUMNS,
    ITEM_COLUMNS,
    REACH_TREND_COLUMNS,
    SERIES_COLUMNS,
    complaint_report,
    complaint_rows,
    edition_complaints,
    exposure_rows,
    item_report,
    item_rows,
    reach_over_time,
    reach_report,
    series_history,
    started_series,
    worst_first,
    write_csv,
)
from commhub.tracking import ALERT_RATE, HOLD_RATE, SEVEN, THREE, ComplaintRate
from commhub.web import charts
from commhub.web.auth import staff_only
from commhub.web.paging import Pager
from commhub.web.runtime import db_session, runtime
from commhub.web.times import viewer_zone

blueprint = Blueprint("analytics", __name__)
staff_only(blueprint)

REPORTS = ("exposures", "reach-trend", "items", "complaints", "series")
CHARTS = ("reach", "exposures", "reach-trend", "relevance", "complaints", "series")
ITEMS_PER_PAGE = 50
_PLAIN_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")


@blueprint.get("/analytics")
def index() -> ResponseReturnValue:
    session = db_session()
    reaches = reach_report(session)
    trend = reach_over_time(session, now=runtime().clock.now())
    all_items = worst_first(item_report(session))
    pager = Pager.from_request(len(all_items), ITEMS_PER_PAGE)
    complaints = complaint_report(session, runtime().clock.now())
    editions = edition_complaints(session, complaints)
    choices = started_series(session)
    chosen = _chosen(choices, request.args.get("series"), strict=False)
    figures = series_history(session, chosen[0]) if chosen else []
    zone = viewer_zone()
    return render_template(
        "analytics/index.html",
        reaches=reaches,
        anything_targeted=any(reach.targeted for reach in reaches),
        reach_words=charts.reach_words(reaches),
        exposures_words=charts.exposures_words(reaches),
        trend=trend,
        reach_trend_words=charts.reach_trend_words(trend),
        week_label=charts.week_label,
        share_label=charts.share_label,
        items=all_items[pager.offset : pager.offset + pager.per_page],
        pager=pager,
        anything_voted=bool(charts.voted(all_items)),
        relevance_words=charts.relevance_words(all_items),
        complaints=complaints,
        editions=editions,
        complaints_words=charts.complaints_words(_rates(editions), ALERT_RATE, HOLD_RATE),
        series_choices=choices,
        chosen=chosen,
        figures=figures,
        measures=charts.measures(figures),
        series_words=charts.series_words(figures, chosen[1], zone) if chosen else None,
        seven=SEVEN,
        three=THREE,
        alert_rate=ALERT_RATE,
        hold_rate=HOLD_RATE,
    )


@blueprint.get("/analytics/<report>.csv")
def csv(report: str) -> ResponseReturnValue:
    """One report's rows, as on the page, as a spreadsheet-safe CSV download."""
    if report not in REPORTS:
        abort(404)
    session = db_session()
    rows: Sequence[Mapping[str, object]]
    name = report
    if report == "exposures":
        rows, columns = exposure_rows(reach_report(session)), EXPOSURE_COLUMNS
    elif report == "reach-trend":
        trend = reach_over_time(session, now=runtime().clock.now())
        rows, columns = trend.rows(), REACH_TREND_COLUMNS
    elif report == "items":
        rows, columns = item_rows(worst_first(item_report(session))), ITEM_COLUMNS
    elif report == "series":
        chosen = _chosen(started_series(session), request.args.get("series"), strict=True)
        figures = series_history(session, chosen[0]) if chosen else []
        rows, columns = [f.as_row() for f in figures], SERIES_COLUMNS
        if chosen and _PLAIN_SLUG.fullmatch(chosen[0]):
            name = f"series-{chosen[0]}"
    else:
        found = complaint_report(session, runtime().clock.now())
        rows, columns = complaint_rows(found, edition_complaints(session, found)), COMPLAINT_COLUMNS
    out = io.StringIO()
    write_csv(out, rows, columns)
    response = Response(out.getvalue(), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="commhub-{name}-{_today():%Y-%m-%d}.csv"'
    )
    return response


@blueprint.get("/analytics/charts/<name>.svg")
def chart(name: str) -> ResponseReturnValue:
    """One chart of the page as an SVG image (no script in it, nothing fetched)."""
    if name not in CHARTS:
        abort(404)
    response = Response(_draw(db_session(), name), content_type="image/svg+xml; charset=utf-8")
    # The figures change with every event: never kept, and never read as anything but SVG.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _draw(session: Session, name: str) -> str:
    if name in ("reach", "exposures"):
        reaches = reach_report(session)
        return charts.reach_svg(reaches) if name == "reach" else charts.exposures_svg(reaches)
    if name == "reach-trend":
        return charts.reach_trend_svg(reach_over_time(session, now=runtime().clock.now()))
    if name == "relevance":
        return charts.relevance_svg(worst_first(item_report(session)))
    if name == "complaints":
        found = complaint_report(session, runtime().clock.now())
        rates = _rates(edition_complaints(session, found))
        return charts.complaints_svg(rates, ALERT_RATE, HOLD_RATE)
    chosen = _chosen(started_series(session), request.args.get("series"), strict=True)
    if chosen is None:
        abort(404)
    slug, series_name = chosen
    figures = series_history(session, slug)
    return charts.series_svg(figures, series_name, viewer_zone())


def _chosen(
    choices: list[tuple[str, str]], asked: str | None, strict: bool
) -> tuple[str, str] | None:
    """The series asked for, else the first with a started edition. A series asked for that
    has none is a 404 for a chart or a download (strict); the page shows the first instead."""
    if asked:
        for choice in choices:
            if choice[0] == asked:
                return choice
        if strict:
            abort(404)
    return choices[0] if choices else None


class _EditionComplaints(Protocol):
    """What the chart reads of an edition's complaints (reports' edition_complaints)."""

    @property
    def edition_id(self) -> int: ...
    @property
    def series(self) -> str: ...
    @property
    def rate(self) -> ComplaintRate: ...
    @property
    def state(self) -> str: ...


def _rates(editions: Sequence[_EditionComplaints]) -> list[charts.EditionRate]:
    return [
        charts.EditionRate(f"#{e.edition_id} {e.series}", e.rate.complaints, e.rate.sent, e.state)
        for e in editions
    ]


def _today() -> datetime:
    return runtime().clock.now().astimezone(viewer_zone())

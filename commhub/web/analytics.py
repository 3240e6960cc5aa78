"""/analytics: the reports as charts and tables, each table as CSV, each chart as SVG."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from commhub.reports import (
    BOUNCE_ALARM,
    BOUNCE_COLUMNS,
    BOUNCE_WARN,
    COMPLAINT_COLUMNS,
    EXPOSURE_COLUMNS,
    HEAT_MAP_COLUMNS,
    ITEM_COLUMNS,
    REACH_TREND_COLUMNS,
    RELEVANCE_TREND_COLUMNS,
    SERIES_COLUMNS,
    complaint_report,
    complaint_rows,
    edition_bounces,
    edition_complaints,
    every_partner,
    exposure_rows,
    format_names,
    heat_map,
    heat_map_rows,
    item_report,
    item_rows,
    reach_over_time,
    reach_report,
    relevance_over_time,
    series_history,
    started_series,
    worst_first,
    write_csv,
)
from commhub.reports import SORTS as PARTNER_SORTS
from commhub.reports import Thresholds as HeatThresholds
from commhub.tracking import ALERT_RATE, HOLD_RATE, SEVEN, THREE, ComplaintRate
from commhub.web import charts
from commhub.web.auth import staff_only
from commhub.web.paging import Pager
from commhub.web.runtime import db_session, runtime
from commhub.web.times import viewer_zone

blueprint = Blueprint("analytics", __name__)
staff_only(blueprint)

REPORTS = (
    "exposures", "reach-trend", "items", "relevance-trend", "complaints", "bounces", "series",
    "partners",
)  # fmt: skip
CHARTS = (
    "reach", "exposures", "reach-trend", "relevance", "relevance-trend", "complaints", "bounces",
    "series",
)  # fmt: skip
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
    relevance_trend = relevance_over_time(session, now=runtime().clock.now())
    bounces = edition_bounces(session)
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
        relevance_trend=relevance_trend,
        relevance_trend_words=charts.relevance_trend_words(relevance_trend),
        month_name=charts.month_name,
        votes_label=charts.votes_label,
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
        bounces=bounces,
        any_bounced=any(e.bounces for e in bounces),
        bounces_words=charts.bounces_words(bounces),
        bounce_warn=BOUNCE_WARN,
        bounce_alarm=BOUNCE_ALARM,
        **_partners_section(session),
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
    elif report == "relevance-trend":
        relevance = relevance_over_time(session, now=runtime().clock.now())
        rows, columns = relevance.rows(), RELEVANCE_TREND_COLUMNS
    elif report == "bounces":
        rows, columns = [e.as_row() for e in edition_bounces(session)], BOUNCE_COLUMNS
    elif report == "partners":
        roles, grids = heat_map(session)
        rows, columns = heat_map_rows(roles, grids, _heat_thresholds()), HEAT_MAP_COLUMNS
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


# The all-partners heat map (its own ?sort= and ?partners_page=, so the other sections'
# choices and pages stay put).
PARTNERS_PER_PAGE = 50


class _PartnersPager(Pager):
    """The partners' pages, under their own parameter."""

    @classmethod
    def asked(cls, total: int) -> _PartnersPager:
        asked = request.args.get("partners_page", "1")
        page = int(asked) if asked.isascii() and asked.isdigit() and len(asked) < 7 else 1
        return cls(
            min(max(page, 1), max(1, -(-total // PARTNERS_PER_PAGE))), PARTNERS_PER_PAGE, total
        )

    def url_for_page(self, page: int) -> str:
        return _partners_url(partners_page=str(page))


def _partners_url(**changes: str) -> str:
    """This request's URL with these parameters changed, at the partners' section."""
    args = request.args.to_dict() | changes
    return f"{request.path}?{urlencode(args)}#partners"


def _heat_thresholds() -> HeatThresholds:
    settings = runtime().settings
    return HeatThresholds(settings.heat_map_green, settings.heat_map_amber)


def _partners_section(session: Session) -> dict[str, object]:
    asked = request.args.get("sort", "")
    sort = asked if asked in PARTNER_SORTS else PARTNER_SORTS[0]
    thresholds = _heat_thresholds()
    partners = every_partner(session, thresholds, sort)
    pager = _PartnersPager.asked(len(partners))
    return {
        "partners": partners[pager.offset : pager.offset + pager.per_page],
        "partners_pager": pager,
        "partners_reached": any(p.reached_anyone for p in partners),
        "partners_sort": sort,
        "partners_sorts": [
            (key, label, _partners_url(sort=key, partners_page="1"))
            for key, label in zip(
                PARTNER_SORTS, ("By name", "Most contacts first", "Coldest first"), strict=True
            )
        ],
        "heat_thresholds": thresholds,
        "heat_formats": format_names(),
    }


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
    if name == "relevance-trend":
        return charts.relevance_trend_svg(relevance_over_time(session, now=runtime().clock.now()))
    if name == "bounces":
        return charts.bounces_svg(edition_bounces(session))
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

"""/analytics: the reports as tables, each as CSV."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime

from flask import Blueprint, Response, abort, render_template
from flask.typing import ResponseReturnValue

from commhub.reports import (
    COMPLAINT_COLUMNS,
    EXPOSURE_COLUMNS,
    ITEM_COLUMNS,
    complaint_report,
    complaint_rows,
    edition_complaints,
    exposure_rows,
    item_report,
    item_rows,
    reach_report,
    worst_first,
    write_csv,
)
from commhub.tracking import ALERT_RATE, HOLD_RATE, SEVEN, THREE
from commhub.web.auth import staff_only
from commhub.web.paging import Pager
from commhub.web.runtime import db_session, runtime
from commhub.web.times import viewer_zone

blueprint = Blueprint("analytics", __name__)
staff_only(blueprint)

REPORTS = ("exposures", "items", "complaints")
ITEMS_PER_PAGE = 50


@blueprint.get("/analytics")
def index() -> ResponseReturnValue:
    session = db_session()
    reaches = reach_report(session)
    items = worst_first(item_report(session))
    pager = Pager.from_request(len(items), ITEMS_PER_PAGE)
    complaints = complaint_report(session, runtime().clock.now())
    return render_template(
        "analytics/index.html",
        reaches=reaches,
        anything_targeted=any(reach.targeted for reach in reaches),
        items=items[pager.offset : pager.offset + pager.per_page],
        pager=pager,
        complaints=complaints,
        editions=edition_complaints(session, complaints),
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
    if report == "exposures":
        rows, columns = exposure_rows(reach_report(session)), EXPOSURE_COLUMNS
    elif report == "items":
        rows, columns = item_rows(worst_first(item_report(session))), ITEM_COLUMNS
    else:
        found = complaint_report(session, runtime().clock.now())
        rows, columns = complaint_rows(found, edition_complaints(session, found)), COMPLAINT_COLUMNS
    out = io.StringIO()
    write_csv(out, rows, columns)
    response = Response(out.getvalue(), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="commhub-{report}-{_today():%Y-%m-%d}.csv"'
    )
    return response


def _today() -> datetime:
    return runtime().clock.now().astimezone(viewer_zone())

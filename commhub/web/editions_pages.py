"""/editions, /editions/<id>: what went out and how it did."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue

from commhub.delivery import count_outbox, has_message
from commhub.editions import (
    count_started_editions,
    edition_detail,
    edition_times,
    engagement_of,
    started_editions,
)
from commhub.store import MessageStatus, UserRole
from commhub.web.auth import roles_required, staff_only
from commhub.web.outbox import outbox_dir
from commhub.web.paging import Pager
from commhub.web.runtime import db_session

blueprint = Blueprint("editions_pages", __name__)
staff_only(blueprint)

ID_MAX = 2**31 - 1  # an edition id is an INTEGER column
LISTED = 50  # failed and in-doubt messages shown on an edition's page


@blueprint.get("/editions")
@roles_required(*UserRole)
def index() -> ResponseReturnValue:
    session = db_session()
    pager = Pager.from_request(count_started_editions(session))
    return render_template(
        "editions/index.html",
        editions=started_editions(session, pager.offset, pager.per_page),
        pager=pager,
    )


@blueprint.get("/editions/<int:edition_id>")
@roles_required(*UserRole)
def detail(edition_id: int) -> ResponseReturnValue:
    if not 0 < edition_id <= ID_MAX:
        abort(404)
    session = db_session()
    times = edition_times(session, edition_id)
    found = edition_detail(session, edition_id)
    outbox = outbox_dir()
    shown = [*found.failed[:LISTED], *found.unknown[:LISTED]]
    in_outbox = {mid for mid, _email, _error in shown if has_message(outbox, edition_id, mid)}
    return render_template(
        "editions/detail.html",
        detail=found,
        s=found.summary,
        times=times,
        engagement=engagement_of(session, [edition_id]).get(edition_id),
        statuses=list(MessageStatus),
        in_outbox=in_outbox,
        outbox_count=count_outbox(outbox, edition_id),
        listed=LISTED,
    )

"""/editions, /editions/<id>: what went out and how it did."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from commhub.delivery import count_outbox, has_message
from commhub.editions import (
    actions_for,
    count_started_editions,
    edition_detail,
    edition_times,
    engagement_of,
    get_edition,
    progress_note,
    started_editions,
)
from commhub.store import MessageStatus
from commhub.web.auth import staff_only
from commhub.web.outbox import outbox_dir
from commhub.web.paging import Pager
from commhub.web.runtime import db_session, runtime

blueprint = Blueprint("editions_pages", __name__)
staff_only(blueprint)

LISTED = 50  # failed and in-doubt messages shown on an edition's page
REFRESH_SECONDS = 3  # how often live.js fetches the page of an edition that is moving


@blueprint.get("/editions")
def index() -> ResponseReturnValue:
    session = db_session()
    pager = Pager.from_request(count_started_editions(session))
    return render_template(
        "editions/index.html",
        editions=started_editions(session, pager.offset, pager.per_page),
        pager=pager,
    )


@blueprint.get("/editions/<row_id:edition_id>")
def detail(edition_id: int) -> ResponseReturnValue:
    session = db_session()
    times = edition_times(session, edition_id)
    found = edition_detail(session, edition_id)
    edition = get_edition(session, edition_id)
    outbox = outbox_dir()
    shown = [*found.failed[:LISTED], *found.unknown[:LISTED]]
    in_outbox = {mid for mid, _email, _error in shown if has_message(outbox, edition_id, mid)}
    return render_template(
        "editions/detail.html",
        detail=found,
        s=found.summary,
        times=times,
        engagement=engagement_of(session, [edition_id]).get(edition_id),
        actions=actions_for(edition),
        progress=progress_note(edition, runtime().clock.now()),
        refresh_seconds=REFRESH_SECONDS,
        statuses=list(MessageStatus),
        in_outbox=in_outbox,
        outbox_count=count_outbox(outbox, edition_id),
        listed=LISTED,
    )

"""The team's subscribable calendar: `/calendar/<token>.ics`, authorised by its signed token."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, request

from commhub.render import calendar_tokens
from commhub.scheduling import calendar, calendar_ics, live_feed
from commhub.web.runtime import db_session, runtime

blueprint = Blueprint("calendar_feed", __name__)
# What a calendar app shows: the past month too, so that last week's sends stay visible.
MONTHS_AHEAD = 12
DAYS_BEHIND = 31
MAX_EVENTS = 2000


@blueprint.get("/calendar/<token>.ics")
def feed(token: str) -> Response:
    rt = runtime()
    session = db_session()
    found = live_feed(session, calendar_tokens(rt.settings.secret_keys), token)
    if found is None:
        abort(404, description="This calendar link is not valid, or it was revoked.")
    now = rt.clock.now()
    wanted = [slug for slug in request.args.get("series", "").split(",") if slug.strip()]
    entries = calendar(
        session, now, MONTHS_AHEAD, [s.strip() for s in wanted],
        since=now - timedelta(days=DAYS_BEHIND),
    )  # fmt: skip
    # Calendar apps give up on feeds of tens of thousands of events: the soonest ones go,
    # and `?series=a,b` narrows a large programme down.
    body = calendar_ics(
        entries[:MAX_EVENTS], f"{rt.settings.org_name}: editions", _uid_domain(), now
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="commhub.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _uid_domain() -> str:
    return urlsplit(runtime().settings.base_url).hostname or "commhub"

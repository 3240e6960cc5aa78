"""Times as the signed-in user reads them: in their zone, with the zone named.

The zone is the user's own setting, else the browser's (which static/zone.js leaves in a
cookie), else UTC. A series' times can be shown in the series' zone as well.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, g, request
from markupsafe import Markup, escape

from commhub.store import User
from commhub.web.auth import signed_in_user
from commhub.web.runtime import db_session

ZONE_COOKIE = "commhub_tz"


def init_app(app: Flask) -> None:
    app.jinja_env.filters["local"] = local_time
    app.jinja_env.filters["in_zone"] = in_zone
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.globals["viewer_zone"] = viewer_zone
    app.jinja_env.globals["zone_source"] = zone_source


def viewer_zone() -> ZoneInfo:
    """The zone to show this request's times in."""
    if "viewer_zone" not in g:
        g.viewer_zone, g.zone_source = _find_zone()
    zone: ZoneInfo = g.viewer_zone
    return zone


def zone_source() -> str:
    """ "user", "browser" or "default": where viewer_zone came from."""
    viewer_zone()
    source: str = g.zone_source
    return source


def _find_zone() -> tuple[ZoneInfo, str]:
    user = signed_in_user()
    if user is not None:
        stored = db_session().get(User, user.id)
        if stored is not None and stored.time_zone and (zone := as_zone(stored.time_zone)):
            return zone, "user"
    if zone := as_zone(request.cookies.get(ZONE_COOKIE, "")):
        return zone, "browser"
    return ZoneInfo("UTC"), "default"


def as_zone(name: str) -> ZoneInfo | None:
    """The IANA zone of this name, or None for anything else (a cookie is user input)."""
    if (
        not name
        or len(name) > 64
        or not name.replace("/", "").replace("_", "").replace("-", "").replace("+", "").isalnum()
    ):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def local_time(moment: datetime | None, zone: tzinfo | None = None) -> Markup:
    """ "3 Dec 2026, 14:05 CET" in the viewer's zone, in a <time> element with the instant."""
    if moment is None:
        return Markup("—")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    shown = moment.astimezone(zone or viewer_zone())
    text = f"{shown.day} {shown:%b %Y, %H:%M} {shown.tzname()}"
    return Markup('<time datetime="{}">{}</time>').format(
        moment.astimezone(UTC).isoformat(timespec="seconds"), escape(text)
    )


def in_zone(moment: datetime | None, zone_name: str) -> Markup:
    """A time in a named zone (a series' own), as local_time writes it."""
    return local_time(moment, as_zone(zone_name) or ZoneInfo("UTC"))


def local_date(moment: datetime | date | None) -> str:
    """ "3 Dec 2026": the day in the viewer's zone."""
    if moment is None:
        return "—"
    if isinstance(moment, datetime):
        moment = moment.astimezone(viewer_zone()).date()
    return f"{moment.day} {moment:%b %Y}"

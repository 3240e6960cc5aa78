"""/audit: who did what to which object, and when; for admins, with filters."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from commhub.store import (
    AuditAction,
    AuditFilter,
    UserRole,
    audit_choices,
    audit_entries,
    count_audit_entries,
)
from commhub.web.auth import roles_required, staff_only
from commhub.web.paging import Pager
from commhub.web.runtime import db_session
from commhub.web.times import viewer_zone

blueprint = Blueprint("audit", __name__)
staff_only(blueprint)


@blueprint.get("/audit")
@roles_required(UserRole.ADMIN)
def index() -> ResponseReturnValue:
    session = db_session()
    actors, object_types = audit_choices(session)
    where = AuditFilter(
        actor=request.args.get("actor", "")[:320] or None,
        action=_action(request.args.get("action")),
        object_type=_one_of(request.args.get("object"), object_types),
        since=_day(request.args.get("since")),
        until=_day(request.args.get("until"), next_day=True),
    )
    pager = Pager.from_request(count_audit_entries(session, where))
    return render_template(
        "audit.html",
        entries=audit_entries(session, where, pager.offset, pager.per_page),
        pager=pager,
        actors=actors,
        object_types=object_types,
        actions=list(AuditAction),
        where=where,
        args=request.args,
    )


def _one_of(value: str | None, allowed: list[str]) -> str | None:
    return value if value in allowed else None


def _action(value: str | None) -> AuditAction | None:
    try:
        return AuditAction(value) if value else None
    except ValueError:
        return None


def _day(value: str | None, next_day: bool = False) -> datetime | None:
    """A yyyy-mm-dd from a date field, as the start of that day (or the next) in the
    viewer's zone; anything else is no filter."""
    try:
        day = datetime.strptime(value or "", "%Y-%m-%d").replace(tzinfo=viewer_zone())
    except ValueError:
        return None
    return day + timedelta(days=1) if next_day else day

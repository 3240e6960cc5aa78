"""/users and /settings: the staff and their roles, and the effective settings (every secret
masked); for admins only."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from commhub.config import shown_settings
from commhub.contacts import list_users
from commhub.store import UserRole
from commhub.web.auth import roles_required, staff_only
from commhub.web.runtime import db_session, runtime

blueprint = Blueprint("admin", __name__)
staff_only(blueprint)


@blueprint.get("/users")
@roles_required(UserRole.ADMIN)
def users() -> ResponseReturnValue:
    return render_template("admin/users.html", users=list_users(db_session()))


@blueprint.get("/settings")
@roles_required(UserRole.ADMIN)
def settings() -> ResponseReturnValue:
    return render_template("admin/settings.html", settings=shown_settings(runtime().settings))

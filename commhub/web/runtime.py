"""The Runtime attached to the Flask app, and a request-scoped session."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from commhub.render import Renderer
from commhub.wiring import Runtime, build_renderer

_EXTENSION = "commhub"
_RENDERER = "commhub.renderer"


def init_runtime(app: Flask, runtime: Runtime) -> None:
    app.extensions[_EXTENSION] = runtime
    app.teardown_appcontext(_close_session)


def runtime() -> Runtime:
    """The Runtime of the current app."""
    found: Runtime = current_app.extensions[_EXTENSION]
    return found


def renderer() -> Renderer:
    """The app's message renderer, built on first use (its templates load once)."""
    found = current_app.extensions.get(_RENDERER)
    if found is None:
        found = current_app.extensions[_RENDERER] = build_renderer()
    return found


def db_session() -> Session:
    """The session of the current request, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = runtime().sessions()
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()

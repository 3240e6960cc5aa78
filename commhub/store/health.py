"""Health checks, as plain values (the web layer and the CLI both report them)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from commhub.store import schema


@dataclass(frozen=True)
class DatabaseHealth:
    status: str  # ok | error
    backend: str
    revision: str | None
    expected_revision: str
    latency_ms: float | None
    detail: str | None = None


def check_database(engine: Engine) -> DatabaseHealth:
    """Reach the database and compare its schema revision with this code's."""
    expected = schema.head_revision()
    started = time.perf_counter()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = schema.current_revision(engine)
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return DatabaseHealth("error", engine.dialect.name, None, expected, None, detail)
    latency = round((time.perf_counter() - started) * 1000, 2)
    if revision != expected:
        # /healthz's documented answer to operators, kept word for word.
        detail = "schema is behind this code: run `commhub init`"
        return DatabaseHealth("error", engine.dialect.name, revision, expected, latency, detail)
    return DatabaseHealth("ok", engine.dialect.name, revision, expected, latency)

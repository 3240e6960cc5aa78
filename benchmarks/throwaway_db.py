"""What the benchmarks share: a fresh database per run, migrated, with the audiences."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from commhub.config import Settings, normalise_database_url
from commhub.library.audiences import load_audiences, sync_audiences
from commhub.resources import audiences_dir
from commhub.store.db import session_scope
from commhub.store.schema import upgrade
from commhub.wiring import Runtime, build_runtime


class Database:
    """A fresh database per run: a SQLite file, or a throwaway PostgreSQL database."""

    def __init__(self, admin_url: str | None, workdir: Path) -> None:
        self.admin_url = normalise_database_url(make_url(admin_url)) if admin_url else None
        self.workdir = workdir

    def fresh(self) -> tuple[str, Callable[[], None]]:
        """A database URL, and what removes the database."""
        if self.admin_url is None:
            path = self.workdir / f"{uuid.uuid4().hex}.db"

            def remove() -> None:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)

            return f"sqlite:///{path}", remove
        name = f"commhub_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))

        def drop() -> None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

        return self.admin_url.set(database=name).render_as_string(hide_password=False), drop


def migrated_runtime(settings: Settings) -> Runtime:
    """A Runtime on the settings' database, migrated, with the project's audiences."""
    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    with session_scope(runtime.sessions) as session:
        sync_audiences(session, load_audiences(audiences_dir()))
    return runtime

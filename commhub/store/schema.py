"""The database schema's version: Alembic migrations applied from code."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic Config bound to engine, independent of the current directory."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to revision (default: the newest); does nothing if already there."""
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Revert migrations down to revision ("base" empties the schema)."""
    _run(engine, command.downgrade, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@cache  # the migrations on disk are this code's: they do not change while it runs
def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None
    return head


def _run(engine: Engine, action: object, revision: str) -> None:
    config = alembic_config(engine)
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        if connection.dialect.name != "sqlite":
            with connection.begin():
                action(config, revision)  # type: ignore[operator]
            return
        _run_on_sqlite(connection, lambda: action(config, revision))  # type: ignore[operator]


def _run_on_sqlite(connection: Connection, migrate: Callable[[], None]) -> None:
    """Run migrate in one transaction of our own, with foreign keys off.

    SQLite alters a table by building a new copy and dropping the old one; with foreign keys
    on, the drop cascades to every row pointing at the table (an edition's messages, say),
    and the switch only takes outside a transaction. And Python's sqlite3 opens transactions
    only before INSERT, UPDATE and DELETE, so an ALTER would be kept even if a later step
    failed: the migration's BEGIN and COMMIT are issued here instead.
    """
    driver = connection.connection.driver_connection
    assert driver is not None
    connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
    connection.commit()
    dangling_before = set(connection.exec_driver_sql("PRAGMA foreign_key_check").all())
    connection.commit()
    previous = driver.isolation_level
    driver.isolation_level = None
    try:
        connection.exec_driver_sql("BEGIN")
        try:
            migrate()
            checked = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            dangling = sorted(set(checked) - dangling_before)
            if dangling:
                raise RuntimeError(f"the migration left rows pointing nowhere: {dangling[:5]}")
        except BaseException:
            connection.exec_driver_sql("ROLLBACK")
            raise
        connection.exec_driver_sql("COMMIT")
    finally:
        connection.commit()  # ends SQLAlchemy's own record of the transaction
        driver.isolation_level = previous
        connection.exec_driver_sql("PRAGMA foreign_keys = ON")
        connection.commit()
        if connection.exec_driver_sql("PRAGMA foreign_keys").scalar() != 1:
            connection.invalidate()  # never hand the pool a connection with them off

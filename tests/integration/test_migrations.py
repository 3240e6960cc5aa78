from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from commhub import schema
from commhub.db import Base
from commhub.wiring import Runtime


def test_migrations_build_exactly_the_models(runtime: Runtime) -> None:
    with runtime.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    assert schema.current_revision(runtime.engine) == schema.head_revision()


def test_downgrade_and_upgrade_round_trip(runtime: Runtime) -> None:
    schema.downgrade(runtime.engine, "base")
    assert set(inspect(runtime.engine).get_table_names()) <= {"alembic_version"}
    schema.upgrade(runtime.engine)
    assert set(Base.metadata.tables) <= set(inspect(runtime.engine).get_table_names())


def test_no_migration_imports_commhub() -> None:
    versions = Path(schema.MIGRATIONS_DIR, "versions").glob("*.py")
    for path in versions:
        assert "commhub" not in path.read_text(), f"{path.name} must not depend on app code"

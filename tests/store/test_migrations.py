from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select

from commhub.store import schema
from commhub.store.db import Base
from commhub.store.models import EditionRender, Message, Series
from commhub.wiring import Runtime
from tests.builders import World


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


def test_0006_adds_the_rule_of_seven_and_variants_to_what_is_there(world: World) -> None:
    world.newsletter_to("a@p.example", "b@p.example")
    engine = world.runtime.engine

    def columns(table: str) -> set[str]:
        return {column["name"] for column in inspect(engine).get_columns(table)}

    schema.downgrade(engine, "0005")
    assert "rule_of_seven" not in columns("series")
    assert "variant" not in columns("messages") | columns("edition_renders")

    schema.upgrade(engine)

    assert "rule_of_seven" in columns("series")
    assert "variant" in columns("messages") & columns("edition_renders")
    uniques = inspect(engine).get_unique_constraints("edition_renders")
    assert [u["column_names"] for u in uniques] == [["edition_id", "role_set", "variant"]]
    with world.session() as session:
        assert session.scalars(select(Message.variant)).all() == ["", ""]
        assert session.scalars(select(EditionRender.variant)).all() == [""]
        assert session.scalars(select(Series.rule_of_seven)).all() == [False]


def test_migrating_a_database_in_use_down_and_up_again_keeps_every_row(world: World) -> None:
    # SQLite rebuilds a table to alter it; with foreign keys on, dropping the old copy would
    # cascade to every row that points at it (an edition's messages, their events).
    world.newsletter_to("a@p.example", "b@p.example")
    engine = world.runtime.engine
    tables = [t for t in Base.metadata.sorted_tables if t.name in inspect(engine).get_table_names()]

    def counts() -> dict[str, int]:
        with engine.connect() as connection:
            return {
                t.name: connection.scalar(select(func.count()).select_from(t)) or 0
                for t in tables
                if t.name in {"editions", "messages", "edition_items", "contacts", "series"}
            }

    before = counts()
    assert before["messages"] == 2
    schema.downgrade(engine, "0002")
    schema.upgrade(engine)
    assert counts() == before


def test_a_migration_that_fails_part_way_changes_nothing_and_can_run_again(world: World) -> None:
    engine = world.runtime.engine
    schema.downgrade(engine, "0005")
    # Something in the way of 0006's last step, after its first steps have run.
    blocker = (
        "CREATE TABLE _alembic_tmp_edition_renders (id INTEGER)"  # SQLite's table copy
        if engine.dialect.name == "sqlite"
        else "CREATE INDEX uq_edition_renders_edition_id_role_set_variant ON series (id)"
    )
    with engine.begin() as connection:
        connection.exec_driver_sql(blocker)

    with pytest.raises(Exception, match="already exists"):
        schema.upgrade(engine)

    assert schema.current_revision(engine) == "0005"
    assert "rule_of_seven" not in {c["name"] for c in inspect(engine).get_columns("series")}
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "DROP TABLE _alembic_tmp_edition_renders"
            if engine.dialect.name == "sqlite"
            else "DROP INDEX uq_edition_renders_edition_id_role_set_variant"
        )
        if engine.dialect.name == "sqlite":  # and the pool's connection has them on again
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    schema.upgrade(engine)
    assert schema.current_revision(engine) == schema.head_revision()

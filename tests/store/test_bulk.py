"""Writes under load: bulk inserts through the driver return what they added, once, on both
databases; quick writes take turns on SQLite and skip the disk on PostgreSQL; and SQLite's
log is checkpointed in the background."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import Table, func, select, text

from commhub.store.bulk import COPY_FROM, BulkInsert
from commhub.store.db import (
    checkpoint_in_background,
    make_engine,
    make_session_factory,
    quick_write,
)
from commhub.store.models import Contact, Event, ExposureTally, KeyMessage
from commhub.tracking.exposures import Seen, record_seen
from tests.builders import NOW, World

EVENTS = cast(Table, Event.__table__)
NEW_EVENTS = BulkInsert(
    EVENTS,
    ("kind", "occurred_at", "recorded_at", "provider_event_id", "data"),
    "ON CONFLICT (provider_event_id) DO NOTHING",
    returning=("provider_event_id",),
)


def rows(ids: range) -> list[tuple[object, ...]]:
    return [
        ("open", NOW + timedelta(seconds=n), NOW, f"ev-{n}", {"n": n, "who": "ana"}) for n in ids
    ]


# One row, a VALUES statement; and more than a VALUES statement holds (SQLite) or enough for
# COPY (PostgreSQL).
@pytest.mark.parametrize("count", [1, max(COPY_FROM, 1_200)])
def test_a_bulk_insert_returns_only_the_rows_it_added_and_stores_them_as_the_orm_reads_them(
    world: World, count: int
) -> None:
    with world.session() as session:
        first = NEW_EVENTS(session, rows(range(count)))
    assert sorted(first) == sorted((f"ev-{n}",) for n in range(count))
    with world.session() as session:
        # Half of these are in already: only the new half comes back.
        again = NEW_EVENTS(session, rows(range(count // 2, count + count // 2)))
    assert sorted(again) == sorted((f"ev-{n}",) for n in range(count, count + count // 2))

    with world.session() as session:
        stored = {e.provider_event_id: e for e in session.scalars(select(Event))}
    assert len(stored) == count + count // 2
    last = stored[f"ev-{count - 1}"]
    assert last.occurred_at == NOW + timedelta(seconds=count - 1)  # aware UTC, to the second
    assert (last.recorded_at, last.data) == (NOW, {"n": count - 1, "who": "ana"})


def test_a_bulk_insert_names_a_column_its_table_does_not_have() -> None:
    with pytest.raises(ValueError, match="events has no column nope"):
        BulkInsert(EVENTS, ("kind", "nope"))


def test_a_quick_write_waits_its_turn_on_sqlite_and_skips_the_disk_on_postgresql(
    world: World,
) -> None:
    with world.session() as session:
        if session.get_bind().dialect.name == "postgresql":
            with quick_write(session, durable=False):
                assert session.scalar(text("SHOW synchronous_commit")) == "off"
                session.commit()
            # Only for that transaction: the next one waits for the disk again.
            assert session.scalar(text("SHOW synchronous_commit")) == "on"
            with quick_write(session):
                assert session.scalar(text("SHOW synchronous_commit")) == "on"
            return
        # SQLite: a second thread of this process waits until the first has committed.
        other_wrote = threading.Event()

        def other() -> None:
            with world.session() as other_session, quick_write(other_session):
                other_wrote.set()

        with quick_write(session):
            thread = threading.Thread(target=other)
            thread.start()
            assert not other_wrote.wait(0.2)
            session.commit()
        thread.join(5)
        assert other_wrote.is_set()


def test_a_background_checkpoint_moves_the_log_into_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    engine = make_engine(f"sqlite:///{path}")
    stop = checkpoint_in_background(engine, every=0.05)
    try:
        with engine.begin() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
            connection.exec_driver_sql("CREATE TABLE notes (body TEXT)")
            connection.exec_driver_sql(
                "INSERT INTO notes VALUES (?)", [("x" * 1000,) for _ in range(2000)]
            )
        # Commits no longer copy the log into the file; the thread does, a moment later.
        deadline = time.monotonic() + 10
        while path.stat().st_size < 2_000_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert path.stat().st_size >= 2_000_000
    finally:
        stop()
        engine.dispose()


def test_times_go_in_as_the_orm_writes_them_so_that_text_comparisons_still_hold(
    world: World,
) -> None:
    moment = NOW.replace(microsecond=0) + timedelta(hours=1)
    with world.session() as session:
        NEW_EVENTS(session, [("open", moment, moment, "bulk", {})])
        session.add(Event(kind="open", occurred_at=moment, recorded_at=moment, data={}))
    with world.session() as session:
        stored = session.connection().exec_driver_sql(
            "SELECT provider_event_id, CAST(occurred_at AS TEXT) FROM events"
        )
        as_stored = {event_id or "orm": text for event_id, text in stored}
    assert as_stored["bulk"] == as_stored["orm"]


def test_many_exposures_at_once_bump_each_tally_once(world: World) -> None:
    world.series(audiences=["sales"])
    for n in range(3):
        world.item(f"item-{n}", ["sales"], key_message=f"Message {n}")
    for n in range(60):
        world.contact(f"c{n}@p.example", ["sales"])
    with world.session() as session:
        contacts = session.scalars(select(Contact.id)).all()
        keys = session.scalars(select(KeyMessage.id)).all()
    seen = [
        Seen(contact_id, key_id, fmt, source, contact_id, NOW)
        for contact_id in contacts
        for key_id in keys
        for fmt, source in (("email", "message"), ("video", "post"))
    ]
    assert len(seen) > COPY_FROM  # PostgreSQL takes them by COPY
    with world.session() as session:
        assert record_seen(session, seen + seen[:10], NOW) == len(seen)
    with world.session() as session:
        assert record_seen(session, seen, NOW) == 0  # all of them recorded before
        tallies = {(t.email, t.video) for t in session.scalars(select(ExposureTally))}
        count = session.scalar(select(func.count()).select_from(ExposureTally))
    assert (tallies, count) == ({(1, 1)}, len(contacts) * len(keys))


def test_a_quick_write_takes_its_connection_before_its_turn(tmp_path: Path) -> None:
    # One pooled connection. Ben holds it (he read something) and then wants to write; Ana
    # wants to write meanwhile. Taking the turn before the connection, Ana would hold the
    # turn while waiting for Ben's connection, and Ben would wait for the turn: stuck until
    # the pool gave up on Ana.
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}", pool_size=1, max_overflow=0,
                         pool_timeout=2)  # fmt: skip
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE notes (who TEXT)")
    sessions = make_session_factory(engine)
    ben_reads, ana_waits = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def write(who: str, first_read: bool) -> None:
        try:
            with sessions() as session:
                if first_read:
                    session.execute(text("SELECT count(*) FROM notes"))
                    ben_reads.set()
                    ana_waits.wait(5)
                with quick_write(session):
                    session.execute(text("INSERT INTO notes VALUES (:who)"), {"who": who})
                    session.commit()
        except BaseException as exc:
            failures.append(exc)

    ben = threading.Thread(target=write, args=("ben", True))
    ben.start()
    ben_reads.wait(5)
    ana = threading.Thread(target=write, args=("ana", False))
    ana.start()
    time.sleep(0.3)  # Ana is now waiting, for the connection (or, wrongly, holding the turn)
    ana_waits.set()
    ben.join(10)
    ana.join(10)
    with engine.connect() as connection:
        written = sorted(connection.exec_driver_sql("SELECT who FROM notes").scalars())
    engine.dispose()
    assert failures == []
    assert written == ["ana", "ben"]

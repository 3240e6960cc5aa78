"""Engine, sessions and the declarative Base; the same code runs on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar
from weakref import WeakKeyDictionary

from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection, Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

# Stable constraint names, so that migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, whatever the database keeps.

    Naive datetimes are refused on the way in: a time without a zone is a bug waiting for a
    daylight-saving change.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given where UTC is required")
        utc = value.astimezone(UTC)
        # SQLite has no zone type; keep it naive-in-UTC there so that text order is time order.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


def make_engine(database_url: str, **options: Any) -> Engine:
    """An engine for a normalised commhub database URL (see config.normalise_database_url)."""
    engine = create_engine(database_url, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _configure_sqlite)
        _SQLITE_WRITERS[engine] = threading.Lock()
    return engine


def checkpoint_in_background(engine: Engine, every: float = 1.0) -> Callable[[], None]:
    """SQLite: move the write-ahead log into the database from a thread of its own, every
    `every` seconds, instead of inside whichever commit crosses 1,000 pages. That commit
    took 5 to 10 ms longer, and was the slowest 1 % of opens and clicks measured under load.
    Returns what stops the thread; elsewhere it does nothing.

    Call it before the engine's first connection, or the pooled ones keep checkpointing.
    """
    if engine.dialect.name != "sqlite":
        return lambda: None

    def no_automatic_checkpoints(dbapi_connection: DBAPIConnection, _record: object) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA wal_autocheckpoint = 0")
        cursor.close()

    event.listen(engine, "connect", no_automatic_checkpoints)
    engine.dispose()  # connections opened before now checkpoint for themselves
    stopping = threading.Event()

    def run() -> None:
        while not stopping.wait(every):
            try:
                with engine.connect() as connection:
                    # PASSIVE: copies what it can without waiting for, or blocking, anyone.
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception:
                log.warning("WAL checkpoint failed; retrying in %s s", every, exc_info=True)

    threading.Thread(target=run, name="commhub-wal-checkpoint", daemon=True).start()
    return stopping.set


_SQLITE_WRITERS: WeakKeyDictionary[Engine, threading.Lock] = WeakKeyDictionary()


@contextmanager
def quick_write(session: Session, *, durable: bool = True) -> Iterator[None]:
    """Around a short write and its commit, as the open pixel, the click redirect and the
    webhook do under load.

    On SQLite the threads of this process take turns, queued on a lock: SQLite's own busy
    handler sleeps 1, 2, 5 ... 100 ms between tries, which under load turned 1 ms opens
    into 100 ms ones. On PostgreSQL, which locks rows, not the database, a write that is
    not `durable` commits without waiting for its WAL to reach the disk: a crash may lose
    the last moment's opens and clicks, never corrupt anything, and no fsync sits in the
    path of every pixel.
    """
    # The connection first, then the lock: a thread waiting for the lock holds a pooled
    # connection, so taking them the other way round could leave the lock's holder waiting
    # for a connection no waiting thread gives back.
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        if not durable:
            connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        yield
        return
    lock = _SQLITE_WRITERS.get(connection.engine)
    if lock is None:  # an engine not made by make_engine: SQLite's busy handler it is
        yield
        return
    with lock:
        try:
            yield
        except BaseException:
            session.rollback()  # before the next writer's turn, not at the request's end
            raise


def _configure_sqlite(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    # Foreign keys are off by default in SQLite; WAL lets the web app read while a send writes.
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit, so results outlive their transaction."""
    return sessionmaker(engine, expire_on_commit=False)


def rowcount(result: object) -> int:
    """How many rows an UPDATE or DELETE touched (a Result's rowcount, typed loosely)."""
    return int(getattr(result, "rowcount", 0) or 0)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: committed if the block finishes, rolled back if it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()

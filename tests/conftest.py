"""Shared fixtures: settings, and a migrated database on SQLite or PostgreSQL.

Storage tests take `runtime`, which runs once per backend. SQLite: a fresh file per test,
copied from one migrated template. PostgreSQL (COMMHUB_TEST_DATABASE_URL): one database
per run, emptied after each test. With CI=true a missing PostgreSQL URL fails the run.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from commhub.config import Settings, normalise_database_url
from commhub.library.audiences import load_audiences, sync_audiences
from commhub.resources import audiences_dir
from commhub.store import schema
from commhub.store.db import Base, session_scope
from commhub.wiring import Runtime, build_runtime
from tests.builders import FixedClock, World, default_renderer
from tests.sendgrid_fake import FakeSendGrid
from tests.smtp_sink import SmtpSink
from tests.social_fakes import FakeLinkedIn, FakeMastodon, FakeWebhook

TEST_SECRET = "test-secret-key-0123456789-abcdefghijklmnop"
POSTGRES_ENV = "COMMHUB_TEST_DATABASE_URL"


def make_settings(data_dir: Path, database_url: str | None = None) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url or f"sqlite:///{data_dir / 'commhub.db'}",
        secret_keys=(TEST_SECRET,),
        org_name="Test Programme",
        postal_address="1 Test Street, Testville",
    )


def _load_audiences(rt: Runtime) -> None:
    with session_scope(rt.sessions) as session:
        sync_audiences(session, load_audiences(audiences_dir()))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "commhub.db"
    rt = build_runtime(make_settings(path.parent, f"sqlite:///{path}"))
    schema.upgrade(rt.engine)
    _load_audiences(rt)
    rt.close()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this run, migrated; dropped at the end."""
    raw = os.environ.get(POSTGRES_ENV)
    if not raw:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{POSTGRES_ENV} must be set when CI=true")
        pytest.skip(f"{POSTGRES_ENV} is not set")
    admin_url = normalise_database_url(make_url(raw))
    name = f"commhub_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_migrated(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    rt = build_runtime(make_settings(tmp_path_factory.mktemp("pg"), postgres_url))
    schema.upgrade(rt.engine)
    rt.close()
    return postgres_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def runtime(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Runtime]:
    """A Runtime on a migrated database holding the project's audiences and nothing else."""
    if backend == "sqlite":
        shutil.copy(request.getfixturevalue("sqlite_template"), tmp_path / "commhub.db")
        rt = build_runtime(make_settings(tmp_path))
        yield rt
        rt.close()
        return
    url = request.getfixturevalue("postgres_migrated")
    rt = build_runtime(make_settings(tmp_path, url))
    _load_audiences(rt)
    try:
        yield rt
    finally:
        # Some tests downgrade the schema; put it back for the tests that follow.
        schema.upgrade(rt.engine)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with rt.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        rt.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a SQLite database in a temporary data dir (not migrated)."""
    return make_settings(tmp_path)


@pytest.fixture
def world(runtime: Runtime) -> World:
    """The runtime's database, with helpers to fill it and send editions."""
    return World(runtime, default_renderer(), FixedClock())


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A real SMTP server on a free loopback port."""
    sink = SmtpSink.start()
    yield sink
    sink.stop()


@pytest.fixture
def sendgrid_fake() -> Iterator[FakeSendGrid]:
    """A local fake of SendGrid's Mail Send API on a free loopback port."""
    fake = FakeSendGrid().start()
    yield fake
    fake.stop()


@pytest.fixture
def mastodon_fake() -> Iterator[FakeMastodon]:
    """A local fake of Mastodon's statuses API (with its Idempotency-Key) on a free port."""
    with FakeMastodon() as fake:
        yield fake


@pytest.fixture
def linkedin_fake() -> Iterator[FakeLinkedIn]:
    """A local fake of LinkedIn's REST Posts API on a free port."""
    with FakeLinkedIn() as fake:
        yield fake


@pytest.fixture
def webhook_fake() -> Iterator[FakeWebhook]:
    """A local incoming webhook that checks each body's HMAC signature."""
    with FakeWebhook(secret="webhook-secret-0123456789") as fake:
        yield fake

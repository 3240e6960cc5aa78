"""Two real `commhub scheduler` processes against one PostgreSQL database: an edition due a
few seconds ahead is started by exactly one of them and reaches each contact once.

The SMTP server both send to is the witness. This is the one test that waits on the real
clock: it polls, with a deadline, for an edition due seconds ahead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from commhub.scheduling.planning import plan_editions
from commhub.store.models import Edition, EditionState, MessageStatus
from tests.builders import World
from tests.conftest import TEST_SECRET
from tests.smtp_sink import SmtpSink

CONTACTS = 40


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """PostgreSQL only: SQLite's single writer would make the race trivial."""
    return str(request.param)


def scheduler(world: World, sink: SmtpSink, name: str) -> subprocess.Popen[bytes]:
    settings = world.runtime.settings
    env = {
        **os.environ,
        "COMMHUB_DATA_DIR": str(settings.data_dir / name),
        "COMMHUB_DATABASE_URL": settings.database_url,
        "COMMHUB_SECRET_KEY": TEST_SECRET,
        "COMMHUB_POSTAL_ADDRESS": settings.postal_address,
        "COMMHUB_DELIVERY": "smtp",
        "COMMHUB_SMTP_URL": sink.url,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "commhub", "scheduler", "--sweep-seconds", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def test_two_schedulers_start_an_edition_once_and_each_contact_gets_it_once(
    world: World, smtp_sink: SmtpSink
) -> None:
    world.series(audiences=["sales"])
    world.item("price-update", ["sales"])
    emails = world.many_contacts(CONTACTS, ["sales"])
    now = datetime.now(UTC)
    with world.session() as session:
        plan_editions(session, now)
        first = session.scalar(select(Edition.id).order_by(Edition.planned_at).limit(1))
        # Due a few seconds from now, once both schedulers are up.
        session.execute(
            update(Edition).where(Edition.id == first).values(due_at=now + timedelta(seconds=4))
        )

    processes = [scheduler(world, smtp_sink, name) for name in ("a", "b")]
    try:
        deadline = time.monotonic() + 90
        state = EditionState.PLANNED
        while state is not EditionState.SENT:
            for process in processes:
                assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, f"edition {first} is still {state.value}"
            time.sleep(0.2)
            with world.session() as session:
                state = session.scalar(select(Edition.state).where(Edition.id == first))
    finally:
        logs = []
        for process in processes:
            process.send_signal(signal.SIGTERM)
            try:
                _out, err = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                _out, err = process.communicate()
            logs.append(err.decode())

    started = [log for log in logs if f"edition {first}: due, started" in log]
    assert len(started) == 1, logs
    received = smtp_sink.counts()
    assert sorted(received) == sorted(emails)
    assert set(received.values()) == {1}
    statuses = {m.status for m in world.messages(first).values()}
    assert statuses == {MessageStatus.SENT}

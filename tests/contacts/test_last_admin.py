"""Two admins demoting each other at the same moment, on PostgreSQL: the second waits for the
first, then sees it is now the only active admin and is refused. One admin is left."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from commhub.contacts.users import change_user, create_user, find_user
from commhub.errors import InvalidInput
from commhub.store.db import session_scope
from commhub.store.models import User, UserRole
from commhub.wiring import Runtime

PASSWORD = "correct horse battery"
ALICE, BOB = "alice@vendor.example", "bob@vendor.example"
TIMEOUT = 10.0  # seconds: far more than a lock wait needs, and the test never hangs


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """PostgreSQL only: SQLite has one writer at a time and no FOR UPDATE."""
    return str(request.param)


def admin(session_user: User | None) -> User:
    assert session_user is not None
    return session_user


def waits_on_a_lock(runtime: Runtime, thread: threading.Thread) -> bool:
    """True once another backend of this database waits on a row lock; False if the thread
    ended first (it never waited) or nothing waited within TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT
    with runtime.engine.connect() as connection:
        while time.monotonic() < deadline and thread.is_alive():
            waiting = connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            if waiting:
                return True
            time.sleep(0.05)
    return False


def test_two_admins_demoting_each_other_at_once_leave_one_admin(runtime: Runtime) -> None:
    with session_scope(runtime.sessions) as session:
        create_user(session, ALICE, UserRole.ADMIN, PASSWORD)
        create_user(session, BOB, UserRole.ADMIN, PASSWORD)
    outcome: dict[str, object] = {}
    started = threading.Event()

    def alice_demotes_bob() -> None:
        # Alice, in her own browser, demotes Bob before his demotion of her is committed.
        with runtime.sessions() as second:
            try:
                bob, alice = admin(find_user(second, BOB)), admin(find_user(second, ALICE))
                started.set()
                outcome["changes"] = change_user(second, bob, UserRole.EDITOR, True, by=alice)
                second.commit()
            except Exception as exc:  # reported to the test, which asserts on it
                second.rollback()
                outcome["error"] = exc

    first = runtime.sessions()
    thread = threading.Thread(target=alice_demotes_bob, daemon=True)
    try:
        alice, bob = admin(find_user(first, ALICE)), admin(find_user(first, BOB))
        assert change_user(first, alice, UserRole.EDITOR, True, by=bob) == ["now editor"]
        first.flush()  # Alice's row is updated, the transaction left open
        thread.start()
        assert started.wait(TIMEOUT), "the second session never started"
        blocked = waits_on_a_lock(runtime, thread)
        assert blocked, f"the second demotion did not wait for the first: {outcome}"
        assert thread.is_alive()
        first.commit()
    finally:
        first.rollback()  # if the test failed before the commit: the thread is let go
        first.close()
        if thread.ident is not None:
            thread.join(TIMEOUT)
    assert not thread.is_alive(), "the second demotion was still waiting after the commit"
    error = outcome.get("error")
    assert isinstance(error, InvalidInput), outcome
    [problem] = error.problems
    assert problem.field == "role"
    assert problem.message == f"{BOB} is the only active admin: make another user an admin first."
    with session_scope(runtime.sessions) as session:
        after = {email: admin(find_user(session, email)).role for email in (ALICE, BOB)}
    assert after == {ALICE: UserRole.EDITOR, BOB: UserRole.ADMIN}

"""Start what is due and carry it to the end: the work behind every scheduler tick.

A tick claims the due editions (due.claim_due), then hands each claimed or interrupted
edition to a thread of its own, which prepares it if it is not prepared yet and sends it
under this process's lease. A failure to prepare pauses the edition with an alert rather
than leaving it to be tried again every minute.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from commhub.clock import Clock
from commhub.config import Settings
from commhub.delivery import (
    DeliveryBackend,
    EditionSender,
    PosterFor,
    PostReport,
    PostSender,
    SendPolicy,
    SendReport,
)
from commhub.editions import CLAIM_SECONDS, acquire_lease, ensure_prepared, new_owner, release_lease
from commhub.render import Renderer
from commhub.scheduling.due import claim_due, interrupted, local_waves
from commhub.store import (
    PREPARE_ALERT,
    Channel,
    Edition,
    EditionState,
    raise_alert,
    session_scope,
)

log = logging.getLogger(__name__)
# A send gives its thread back rather than wait longer than this for its next messages (a
# later wave); the scheduler sets a job for that time and resumes it then.
MAX_WAIT = 60.0


@dataclass
class TickReport:
    claimed: list[int] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)
    resumed: list[int] = field(default_factory=list)


class Stopping(BaseException):
    """Raised into a send that waits (a retry, an outage) once the process is stopping; its
    lease is released and the next scheduler resumes it. A BaseException, so that no
    `except Exception` on the send path takes it for a failure."""


class _StoppableClock:
    """The runner's clock: sleeping raises Stopping once stop() was called."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.stopping = threading.Event()

    def now(self) -> datetime:
        return self.clock.now()

    def sleep(self, seconds: float) -> None:
        if self.stopping.is_set():
            raise Stopping
        self.clock.sleep(seconds)
        if self.stopping.is_set():
            raise Stopping


class EditionRunner:
    """Claims due editions and sends them, a few at a time, in threads of this process."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        make_backend: Callable[[], DeliveryBackend],
        settings: Settings,
        renderer: Renderer,
        clock: Clock,
        workers: int = 4,
        policy: SendPolicy | None = None,
        max_wait: float = MAX_WAIT,
        poster_for: PosterFor | None = None,
    ) -> None:
        self.sessions = sessions
        # One back end per edition under way: an SMTP connection is not shared by threads.
        self.make_backend = make_backend
        # A social edition's posters, one per account; none: this runner posts nothing.
        self.poster_for = poster_for
        self.settings = settings
        self.renderer = renderer
        self.clock = _StoppableClock(clock)
        self.policy = policy
        self.max_wait = max_wait
        self.owner = new_owner()
        self.workers = workers
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="edition")
        self._lock = threading.Lock()
        self._running: dict[int, Future[SendReport | PostReport | None]] = {}

    def tick(self) -> TickReport:
        """Claim what is due, resume what was interrupted, and start sending both."""
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            # No more than this process can start now: what waits in a queue here misses
            # its time, while another scheduler could send it.
            claim = claim_due(session, now, self.owner, self.workers - len(self.running()))
        with session_scope(self.sessions) as session:
            stalled = [i for i in interrupted(session, now) if i not in claim.claimed]
        report = TickReport(claim.claimed, claim.missed, claim.waiting)
        for edition_id in claim.claimed:
            self._submit(edition_id)
        for edition_id in stalled:
            if len(self.running()) >= self.workers:
                break  # the rest at the next tick, or by another scheduler
            if self._submit(edition_id):
                report.resumed.append(edition_id)
        return report

    def running(self) -> list[int]:
        with self._lock:
            return sorted(self._running)

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the editions under way to finish (or pause)."""
        with self._lock:
            futures = list(self._running.values())
        for future in futures:
            future.result(timeout)

    def shutdown(self) -> None:
        """Start nothing more; sends under way stop at their next wait or when done."""
        self.clock.stopping.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _submit(self, edition_id: int) -> bool:
        with self._lock:
            if edition_id in self._running:
                return False
            future = self._pool.submit(self._carry, edition_id)
            self._running[edition_id] = future
        future.add_done_callback(lambda _f: self._forget(edition_id))
        return True

    def _forget(self, edition_id: int) -> None:
        with self._lock:
            self._running.pop(edition_id, None)

    def _carry(self, edition_id: int) -> SendReport | PostReport | None:
        try:
            report = self.carry(edition_id)
        except Stopping:
            log.info("edition %s: left for the next scheduler (stopping)", edition_id)
            report = None
        except Exception:
            log.exception("edition %s: the send stopped", edition_id)
            report = None
        if report is not None and report.waiting_until is not None:
            log.info(
                "edition %s: the next messages are due at %s", edition_id, report.waiting_until
            )
        elif report is not None:
            counts = ", ".join(f"{n} {state.value}" for state, n in report.counts.items() if n)
            log.info("edition %s: %s (%s)", edition_id, report.state.value, counts or "empty")
        return report

    def carry(self, edition_id: int) -> SendReport | PostReport | None:
        """Prepare the edition if it is not yet, and send it; None when another process
        holds it or it is not for sending (held for approval, empty, paused)."""
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            # Long enough to prepare a large edition, which renews nothing while it works.
            if acquire_lease(session, edition_id, self.owner, now, CLAIM_SECONDS) is None:
                return None  # another live process is at it
        try:
            with session_scope(self.sessions) as session:
                edition = ensure_prepared(
                    session, edition_id, now, self.renderer, self.settings, local_waves
                )
                state, channel = edition.state, edition.series.channel
        except (OperationalError, IntegrityError):
            # The database was busy or another process was at it: try again at the next
            # sweep rather than pause for a person.
            with session_scope(self.sessions) as session:
                release_lease(session, edition_id, self.owner)
            raise
        except Exception as exc:
            self._not_prepared(edition_id, exc)
            raise
        if state is not EditionState.SENDING:
            with session_scope(self.sessions) as session:
                release_lease(session, edition_id, self.owner)
            return None
        if channel is Channel.SOCIAL:
            return self._post(edition_id)
        backend = self.make_backend()
        try:
            sender = EditionSender(
                self.sessions, backend, self.settings, self.clock, self.policy,
                owner=self.owner, max_wait=self.max_wait,
                should_stop=self.clock.stopping.is_set,
            )  # fmt: skip
            return sender.send(edition_id)
        finally:
            backend.close()

    def _post(self, edition_id: int) -> PostReport | None:
        if self.poster_for is None:  # a runner built without posters leaves posts alone
            with session_scope(self.sessions) as session:
                release_lease(session, edition_id, self.owner)
            return None
        sender = PostSender(
            self.sessions, self.poster_for, self.clock, owner=self.owner,
            max_wait=self.max_wait, should_stop=self.clock.stopping.is_set,
        )  # fmt: skip
        return sender.send(edition_id)

    def _not_prepared(self, edition_id: int, exc: Exception) -> None:
        now = self.clock.now()
        reason = f"could not be prepared: {exc}"[:500]
        with session_scope(self.sessions) as session:
            session.execute(
                update(Edition)
                .where(Edition.id == edition_id, Edition.state == EditionState.SENDING)
                .values(state=EditionState.PAUSED, state_reason=reason)
            )
            release_lease(session, edition_id, self.owner)
            raise_alert(
                session, PREPARE_ALERT, f"edition {edition_id} {reason}"[:300],
                f"Edition {edition_id} {reason}. Fix the cause, then release it.",
                now, edition_id,
            )  # fmt: skip

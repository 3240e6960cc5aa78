"""Send an edition: claim a batch, personalise it, hand it to the back end, record, repeat.

Exactly once, and nothing lost:
- a batch is claimed (queued -> sending) and committed before the back end sees it, and its
  outcome is committed after; a crash in between leaves at most one batch `sending`, which
  the next sender marks `unknown` (in doubt), never resends by itself;
- transient refusals wait with exponential backoff and jitter; permanent ones fail only
  their message; a run of failures, a long outage or a back end that cannot send at all
  pauses the edition with an alert, and the queue stays as it was for `release`;
- each batch asks again whether its contacts may be sent to, so an unsubscribe counts from
  the next batch on.

A test send of a preview goes through the same back end, to one address, with no message row.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, object_session, sessionmaker

from commhub.clock import Clock
from commhub.config import Settings
from commhub.delivery.backend import (
    BackendBlocked,
    DeliveryBackend,
    DeliveryResult,
    MessageContent,
    Outcome,
    OutgoingMessage,
)
from commhub.delivery.pacing import SendLoopState, SendPolicy, retry_delay
from commhub.editions import (
    ClaimedMessage,
    Preview,
    StatusUpdate,
    claim_peeked,
    earliest_retry,
    lease_for_sending,
    mark_in_doubt,
    new_owner,
    peek_batch,
    record_updates,
    release_lease,
    renew_lease,
    status_counts,
)
from commhub.errors import CommhubError, Conflict
from commhub.render import (
    PREVIEW_TOKEN,
    CompiledMessage,
    ContactValues,
    Envelope,
    LinkKind,
    Mailbox,
    Personalisable,
    Recipient,
    Tokens,
    message_link,
    message_tokens,
)
from commhub.store import (
    DOUBT_ALERT,
    PAUSE_ALERT,
    AuditAction,
    Channel,
    Edition,
    EditionRender,
    EditionState,
    MessageStatus,
    Series,
    raise_alert,
    record_action,
    resolve_alerts,
    rowcount,
    session_scope,
)


@dataclass
class SendReport:
    edition_id: int
    state: EditionState
    counts: Counter[MessageStatus] = field(default_factory=Counter)
    reason: str | None = None
    in_doubt: int = 0  # messages found `sending` at start and marked unknown
    # Set when the sender stopped early: what is left is due then (a later wave, a retry).
    waiting_until: datetime | None = None


def installation_id(secret_key: str) -> str:
    """A short, stable, non-secret name for this installation, for Message-IDs."""
    return hmac.new(secret_key.encode(), b"commhub.message-id", hashlib.sha256).hexdigest()[:10]


def envelope_for(series: Series, settings: Settings) -> Envelope:
    """What every message of a series' edition shares."""
    name, address = parseaddr(series.from_address)
    reply_name, reply_address = parseaddr(series.reply_to or "")
    return Envelope(
        sender=Mailbox(name, address),
        reply_to=Mailbox(reply_name, reply_address) if reply_address else None,
        message_id_domain=address.rpartition("@")[2],
        installation=installation_id(settings.secret_key),
        unsubscribe_mailto=settings.unsubscribe_mailto,
    )


# A render of an edition: its role set and variant ("" for the role set's full content).
RenderKey = tuple[str, str]


def load_contents(
    session: Session, edition: Edition, settings: Settings
) -> dict[RenderKey, MessageContent]:
    """The edition's compiled role sets, ready to personalise, keyed by (role set, variant)."""
    envelope = envelope_for(edition.series, settings)
    return {
        (render.role_set, render.variant): MessageContent(
            edition.id,
            f"{render.role_set} ({render.variant})" if render.variant else render.role_set,
            envelope,
            CompiledMessage(
                subject=Personalisable.parse(render.subject, html=False),
                html=Personalisable.parse(render.html, html=True),
                text=Personalisable.parse(render.text, html=False),
            ),
        )
        for render in session.scalars(
            select(EditionRender).where(EditionRender.edition_id == edition.id)
        )
    }


class EditionSender:
    """Carries one edition's queue through a delivery back end until nothing is pending."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        backend: DeliveryBackend,
        settings: Settings,
        clock: Clock,
        policy: SendPolicy | None = None,
        progress: Callable[[int], None] | None = None,
        rng: random.Random | None = None,
        notice: Callable[[str], None] | None = None,
        owner: str | None = None,
        max_wait: float | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.sessions = sessions
        self.backend = backend
        self.settings = settings
        self.clock = clock
        self.policy = policy or SendPolicy()
        self.progress = progress or (lambda _n: None)
        # Tells a person watching why the send is waiting (a retry, an outage).
        self.notice = notice or (lambda _text: None)
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self.tokens: Tokens = message_tokens(settings.secret_keys)
        # A scheduler passes the name it claimed the edition under, so its lease carries on.
        self.owner = owner or new_owner()
        # A scheduler's sender gives its thread back rather than wait longer than this (the
        # next wave of a local-time edition); the scheduler resumes the edition when due.
        self.max_wait = max_wait
        # Asked between batches: a process stopping leaves the rest to the next sender.
        self.should_stop = should_stop or (lambda: False)

    def send(self, edition_id: int) -> SendReport:
        """Send every pending message of an edition in state `sending`."""
        report = SendReport(edition_id, EditionState.SENDING)
        with session_scope(self.sessions) as session:
            now = self.clock.now()
            edition, previous = lease_for_sending(
                session, edition_id, self.owner, now, self.policy.lease_seconds
            )
            report.in_doubt = mark_in_doubt(
                session, edition_id, now,
                f"in doubt: the sender {previous or 'before'} stopped before the back end answered",
            )  # fmt: skip
            if report.in_doubt:
                raise_alert(
                    session, DOUBT_ALERT, f"edition {edition_id}: {report.in_doubt} in doubt",
                    f"{report.in_doubt} messages were being sent when the sender stopped; they "
                    "may or may not have arrived. See which in the edition; resend them once "
                    "you know they did not.",
                    now, edition_id,
                )  # fmt: skip
            channel = edition.series.channel
            contents = load_contents(session, edition, self.settings)
        try:
            with (
                _Heartbeat(
                    self.sessions, edition_id, self.owner, self.clock, self.policy.lease_seconds
                ),
                # The back end works in a thread of its own, so that the next batch can be
                # read and personalised while it waits for the network.
                ThreadPoolExecutor(1, thread_name_prefix=f"deliver-{edition_id}") as deliverer,
            ):
                self._run(edition_id, channel, contents, report, deliverer)
        finally:
            with session_scope(self.sessions) as session:
                release_lease(session, edition_id, self.owner)
                report.counts = status_counts(session, edition_id)
        return report

    def _run(
        self,
        edition_id: int,
        channel: Channel,
        contents: dict[RenderKey, MessageContent],
        report: SendReport,
        deliverer: ThreadPoolExecutor,
    ) -> None:
        loop = SendLoopState(self.policy, self.backend.name, self.rng)
        ahead: _ReadAhead | None = None
        while True:
            if self.should_stop():
                return
            now = self.clock.now()
            with session_scope(self.sessions) as session:
                state = session.scalar(select(Edition.state).where(Edition.id == edition_id))
                if state is not EditionState.SENDING:
                    report.state = state or EditionState.SENDING
                    return
                if not renew_lease(session, edition_id, self.owner, now, self.policy.lease_seconds):
                    raise Conflict(f"edition {edition_id}: another process took over the send")
                if ahead is not None and (now - ahead.read_at).total_seconds() > READ_AHEAD_AGE:
                    ahead = None  # read before a wait: who may be sent to is read afresh
                peeked = ahead.peeked if ahead else self._peek(session, edition_id, now)
                batch, skipped = claim_peeked(session, peeked, channel, now)
            personalised = ahead.outgoing if ahead else {}
            ahead = None
            if skipped:
                self.progress(skipped)
            if not batch:
                if self._finish_or_wait(edition_id, report):
                    return
                continue
            outgoing = [
                personalised.get(claimed.message_id)
                or self._outgoing(edition_id, claimed, contents)
                for claimed in batch
            ]
            delivery = deliverer.submit(self._deliver, outgoing)
            # While the back end works, read and personalise the next batch. None of it is
            # claimed until this batch's outcome is recorded, so a crash still leaves at most
            # one batch in doubt.
            try:
                ahead = self._read_ahead(edition_id, contents)
            except Exception as exc:  # raised once this batch's outcome is recorded
                loop.read_error = exc
            results, blocked = delivery.result()
            now = self.clock.now()
            updates, outcomes = self._updates(batch, results, now, blocked)
            verdict = loop.after_batch(updates, outcomes, results, blocked, now)
            self._record(edition_id, updates, now, verdict.pause_reason)
            self.progress(sum(1 for u in updates if u.status in _FINAL))
            loop.raise_read_error()
            if verdict.pause_reason:
                report.state, report.reason = EditionState.PAUSED, verdict.pause_reason
                return
            if verdict.wait_seconds:
                self.notice(f"{verdict.wait_detail}; trying again in {verdict.wait_seconds:.0f} s")
                self._wait(verdict.wait_seconds)

    def _deliver(
        self, outgoing: list[OutgoingMessage]
    ) -> tuple[list[DeliveryResult], BackendBlocked | None]:
        try:
            return self.backend.send(outgoing), None
        except BackendBlocked as exc:
            return exc.results, exc

    def _peek(self, session: Session, edition_id: int, now: datetime) -> list[ClaimedMessage]:
        return peek_batch(session, edition_id, now, self.backend.max_batch)

    def _read_ahead(
        self, edition_id: int, contents: dict[RenderKey, MessageContent]
    ) -> _ReadAhead | None:
        """The next batch, read and personalised but not claimed; None if the read failed
        (it is read again after this batch is recorded)."""
        try:
            with session_scope(self.sessions) as session:
                peeked = self._peek(session, edition_id, self.clock.now())
        except OperationalError:
            return None
        outgoing = {c.message_id: self._outgoing(edition_id, c, contents) for c in peeked}
        return _ReadAhead(peeked, outgoing, self.clock.now())

    def _record(
        self, edition_id: int, updates: list[StatusUpdate], now: datetime, pause_reason: str | None
    ) -> None:
        """Write a batch's outcome. The back end has spoken, so a database hiccup (a lock
        held by an import, a failover) is waited out rather than turned into doubt."""
        for attempt in range(1, RECORD_ATTEMPTS + 1):
            try:
                with session_scope(self.sessions) as session:
                    record_updates(session, updates, now)
                    _alert_doubt(session, edition_id, updates, now)
                    if pause_reason:
                        _pause(session, edition_id, pause_reason, now)
                return
            except OperationalError as exc:
                if attempt == RECORD_ATTEMPTS:
                    sent = sum(1 for u in updates if u.status is MessageStatus.SENT)
                    raise CommhubError(
                        f"edition {edition_id}: could not record the outcome of {len(updates)} "
                        f"messages ({sent} accepted by the back end) after {attempt} tries: "
                        f"{exc.orig}; they will show as unknown when the edition resumes"
                    ) from exc
                self.clock.sleep(2.0**attempt)

    def _outgoing(
        self, edition_id: int, claimed: ClaimedMessage, contents: dict[RenderKey, MessageContent]
    ) -> OutgoingMessage:
        token = self.tokens.sign(claimed.message_id)
        values = ContactValues.of(
            claimed.first_name, claimed.last_name, claimed.email, claimed.partner, token
        )
        return OutgoingMessage(
            recipient=Recipient(
                message_id=claimed.message_id,
                edition_id=edition_id,
                address=values.email,
                name=f"{values.first_name} {values.last_name}".strip(),
                unsubscribe_url=message_link(self.settings.base_url, LinkKind.UNSUBSCRIBE, token),
                token=token,
            ),
            content=contents[claimed.role_set, claimed.variant],
            values=values,
        )

    def _updates(
        self,
        batch: Sequence[ClaimedMessage],
        results: Sequence[DeliveryResult],
        now: datetime,
        blocked: BackendBlocked | None,
    ) -> tuple[list[StatusUpdate], Counter[Outcome]]:
        """The rows to write, and the outcomes (of every message, answered or not)."""
        by_id = {result.message_id: result for result in results}
        updates: list[StatusUpdate] = []
        outcomes: Counter[Outcome] = Counter()
        for claimed in batch:
            result = by_id.get(claimed.message_id)
            if result is None:
                result = (
                    DeliveryResult(claimed.message_id, Outcome.DEFERRED, "not attempted")
                    if blocked is not None
                    else DeliveryResult(
                        claimed.message_id, Outcome.UNKNOWN, "no answer from the back end"
                    )
                )
            outcomes[result.outcome] += 1
            updates.append(self._update_for(claimed, result, now))
        return updates, outcomes

    def _update_for(
        self, claimed: ClaimedMessage, result: DeliveryResult, now: datetime
    ) -> StatusUpdate:
        attempts = claimed.attempts + 1
        match result.outcome:
            case Outcome.SENT:
                return StatusUpdate(
                    claimed.message_id, MessageStatus.SENT, attempts,
                    provider_message_id=result.provider_message_id,
                )  # fmt: skip
            case Outcome.FAILED:
                return StatusUpdate(
                    claimed.message_id, MessageStatus.FAILED, attempts, result.detail
                )
            case Outcome.UNKNOWN:
                return StatusUpdate(
                    claimed.message_id, MessageStatus.UNKNOWN, attempts, result.detail
                )
            case Outcome.RETRY if attempts >= self.policy.max_attempts:
                return StatusUpdate(
                    claimed.message_id, MessageStatus.FAILED, attempts,
                    f"gave up after {attempts} attempts: {result.detail}",
                )  # fmt: skip
            case Outcome.RETRY:
                delay = retry_delay(
                    attempts, self.policy.retry_base, self.policy.retry_cap, self.rng,
                    result.retry_after,
                )  # fmt: skip
                return StatusUpdate(
                    claimed.message_id, MessageStatus.QUEUED, attempts, result.detail,
                    next_attempt_at=now + timedelta(seconds=delay),
                )  # fmt: skip
            case Outcome.DEFERRED:
                delay = result.retry_after or 0.0
                return StatusUpdate(
                    claimed.message_id, MessageStatus.QUEUED, claimed.attempts, result.detail,
                    next_attempt_at=now + timedelta(seconds=delay) if delay else None,
                )  # fmt: skip

    def _finish_or_wait(self, edition_id: int, report: SendReport) -> bool:
        """Finish the edition if nothing is pending, or stop if the next message is due
        later than max_wait (True); otherwise wait for it."""
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            counts = status_counts(session, edition_id)
            if counts[MessageStatus.QUEUED] == 0 and counts[MessageStatus.SENDING] == 0:
                _finish(session, edition_id, now)
                report.state = EditionState.SENT
                return True
            due = earliest_retry(session, edition_id)
        if due is not None and due > now:
            waiting = counts[MessageStatus.QUEUED]
            seconds = (due - now).total_seconds()
            if self.max_wait is not None and seconds > self.max_wait:
                report.waiting_until = due
                return True
            self.notice(f"{waiting} messages wait; the next is due in {seconds:.0f} s")
            self._wait(seconds)
        return False

    def _wait(self, seconds: float) -> None:
        # In slices, so that the lease is renewed and a pause is noticed while waiting.
        self.clock.sleep(min(seconds, self.policy.lease_seconds / 3))


RECORD_ATTEMPTS = 5


class _ReadAhead(NamedTuple):
    """The next batch, read while the back end worked on this one."""

    peeked: list[ClaimedMessage]
    outgoing: dict[int, OutgoingMessage]
    read_at: datetime


# Seconds a read-ahead batch stays good (whether its contacts may be sent to is asked
# again when it is claimed; their names are not).
READ_AHEAD_AGE = 5.0


class _Heartbeat:
    """Renews the edition's lease from a thread while a batch is with the back end, so
    that a slow relay never lets another sender take over a live send."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        edition_id: int,
        owner: str,
        clock: Clock,
        lease_seconds: float,
    ) -> None:
        self.lease_seconds = lease_seconds
        self.sessions = sessions
        self.edition_id = edition_id
        self.owner = owner
        self.clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lease-{edition_id}", daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.lease_seconds / 3):
            with contextlib.suppress(OperationalError), session_scope(self.sessions) as session:
                renew_lease(
                    session, self.edition_id, self.owner, self.clock.now(), self.lease_seconds
                )

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


_FINAL = frozenset({MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.UNKNOWN})


def _alert_doubt(
    session: Session, edition_id: int, updates: Sequence[StatusUpdate], now: datetime
) -> None:
    """Messages the back end may have taken without saying so need a person's decision."""
    doubtful = [u for u in updates if u.status is MessageStatus.UNKNOWN]
    if doubtful:
        raise_alert(
            session, DOUBT_ALERT, f"edition {edition_id}: in doubt: {doubtful[0].detail}",
            f"The back end may have taken some messages of edition {edition_id} without "
            "answering. See which in the edition; resend them once you know they did not "
            "arrive.",
            now, edition_id,
        )  # fmt: skip


def _pause(session: Session, edition_id: int, reason: str, now: datetime) -> None:
    session.execute(
        update(Edition)
        .where(Edition.id == edition_id, Edition.state == EditionState.SENDING)
        .values(state=EditionState.PAUSED, state_reason=reason[:500])
    )
    raise_alert(
        session, PAUSE_ALERT, f"edition {edition_id} paused",
        f"{reason}. Fix the cause, then release it.", now, edition_id,
    )  # fmt: skip


def _finish(session: Session, edition_id: int, now: datetime) -> None:
    finished = session.execute(
        update(Edition)
        .where(Edition.id == edition_id, Edition.state == EditionState.SENDING)
        .values(state=EditionState.SENT, finished_at=now, state_reason=None)
    )
    resolve_alerts(session, edition_id, now, (PAUSE_ALERT,))
    if rowcount(finished):
        record_action(
            session, AuditAction.SENT, "edition", edition_id, f"edition {edition_id}: sent", now
        )


def send_test(
    preview: Preview, series: Series, address: str, backend: DeliveryBackend, settings: Settings
) -> DeliveryResult:
    """Send a preview to one address through the back end, subject marked [Test]."""
    subject = Personalisable.parse("[Test] " + preview.compiled.subject.source(), html=False)
    compiled = CompiledMessage(subject, preview.compiled.html, preview.compiled.text)
    # Test messages are numbered by time: no message row stands behind them.
    test_id = time.time_ns() // 1000
    content = MessageContent(0, preview.role_set.key, envelope_for(series, settings), compiled)
    recipient = Recipient(
        message_id=test_id,
        edition_id=0,
        address=address,
        name="",
        unsubscribe_url=message_link(settings.base_url, LinkKind.UNSUBSCRIBE, PREVIEW_TOKEN),
        token=PREVIEW_TOKEN,
    )
    [result] = backend.send([OutgoingMessage(recipient, content, preview.values)])
    session = object_session(series)
    if session is not None:
        record_action(
            session, AuditAction.SENT, "series", series.slug,
            f"test of {preview.source} (role set {preview.role_set.key}) to {address}: "
            f"{result.outcome.value}",
        )  # fmt: skip
    return result

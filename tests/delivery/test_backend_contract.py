"""One contract for every delivery back end: the same cases against outbox, SMTP and SendGrid.

Each back end talks to what it talks to in production, or its closest local stand-in: a
directory on disk, a real SMTP server (tests/smtp_sink.py) and the fake SendGrid API
(tests/sendgrid_fake.py). A harness per back end knows how to make that world refuse for
now, refuse for good, drop the connection or be out of reach; the cases themselves speak
only the seam of commhub/delivery/backend.py: DeliveryBackend, Outcome, BackendBlocked.

A case that cannot happen to a back end by its nature leaves that back end out, saying why
where the case names it (nothing is skipped: every parameter generated runs).
"""

from __future__ import annotations

import email
import email.policy
import random
import socket
from collections import Counter
from collections.abc import Iterator, Sequence
from email.utils import parseaddr
from pathlib import Path

import pytest

from commhub.config import check_smtp_url
from commhub.delivery.backend import (
    BackendBlocked,
    DeliveryBackend,
    DeliveryResult,
    Outcome,
    OutgoingMessage,
)
from commhub.delivery.outbox import OutboxBackend
from commhub.delivery.sendgrid import SendGridBackend
from commhub.delivery.smtp import SmtpBackend
from tests.builders import FixedClock, compiled_content, outgoing_message
from tests.sendgrid_fake import INVALID_ADDRESS, FakeSendGrid
from tests.smtp_sink import SmtpSink, accept_only

BACK_ENDS = ("outbox", "smtp", "sendgrid")
# Outcomes that put a message back in the queue for a later try.
WAITS = frozenset({Outcome.RETRY, Outcome.DEFERRED})

OUTBOX_REFUSES_NO_ONE = (
    "the outbox writes files for no recipient server: nothing can refuse one address for good"
)
OUTBOX_HANDS_NOTHING_OVER = (
    "the outbox renames a finished file into place on this machine: there is no hand-over "
    "whose answer could be lost"
)
OUTBOX_HAS_NO_CREDENTIALS = "the outbox takes no credentials, so none can be refused"


class Harness:
    """A back end and the world it sends into, with the levers the cases pull."""

    def __init__(self, backend: DeliveryBackend) -> None:
        self.backend = backend
        self._others: list[DeliveryBackend] = []

    def delivered(self) -> Counter[str]:
        """Each address the world received a message for, with how many it received."""
        raise NotImplementedError

    def refuse_for_now(self, message: OutgoingMessage) -> float | None:
        """Have the world refuse message for a while; the least wait the back end must name
        (None: it names none, and the sender's backoff decides)."""
        raise NotImplementedError

    def end_refusal(self) -> None:
        """The while is over: what was refused for now is taken again."""
        raise NotImplementedError

    def refuse_for_good(self, message: OutgoingMessage) -> str:
        """Have the world refuse message's recipient for good; the reason it gives."""
        raise NotImplementedError

    def drop_after_data(self, message: OutgoingMessage) -> None:
        """Have the connection drop once message has been handed over, before the answer."""
        raise NotImplementedError

    def out_of_reach(self) -> DeliveryBackend:
        """A back end of this kind whose world cannot be reached or written at all."""
        raise NotImplementedError

    def refusing_credentials(self) -> DeliveryBackend:
        """A back end of this kind whose credentials the world refuses."""
        raise NotImplementedError

    def _keep(self, backend: DeliveryBackend) -> DeliveryBackend:
        self._others.append(backend)
        return backend

    def close(self) -> None:
        for backend in [self.backend, *self._others]:
            backend.close()


class OutboxHarness(Harness):
    def __init__(self, directory: Path) -> None:
        super().__init__(OutboxBackend(directory))
        self.directory = directory
        self._obstacles: list[Path] = []

    def delivered(self) -> Counter[str]:
        recipients: Counter[str] = Counter()
        for path in self.directory.rglob("*.eml"):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            recipients[parseaddr(str(message["To"]))[1].lower()] += 1
        return recipients

    def refuse_for_now(self, message: OutgoingMessage) -> float | None:
        # A file where the edition's directory goes fails every write, as a full or
        # read-only disk does; the outbox names a wait of its own, any will do.
        edition_directory = self.directory / str(message.content.edition_id)
        edition_directory.parent.mkdir(parents=True, exist_ok=True)
        edition_directory.write_text("in the way")
        self._obstacles.append(edition_directory)
        return 0.0

    def end_refusal(self) -> None:
        for obstacle in self._obstacles:
            obstacle.unlink()

    def out_of_reach(self) -> DeliveryBackend:
        not_a_directory = self.directory.parent / "outbox-is-a-file"
        not_a_directory.write_text("a file where the outbox directory should be")
        return self._keep(OutboxBackend(not_a_directory))


class SmtpHarness(Harness):
    def __init__(self, sink: SmtpSink) -> None:
        super().__init__(SmtpBackend(check_smtp_url(sink.url), timeout=5))
        self.sinks = [sink]
        self._started: list[SmtpSink] = []

    def delivered(self) -> Counter[str]:
        return sum((sink.counts() for sink in self.sinks), Counter())

    def refuse_for_now(self, message: OutgoingMessage) -> float | None:
        # SMTP's 4xx says nothing of when to come back: the sender's backoff decides.
        self.sinks[0].refuse(message.recipient.address, "451 4.7.1 greylisted, try later")
        return None

    def end_refusal(self) -> None:
        """The sink refused once; the next try is taken."""

    def refuse_for_good(self, message: OutgoingMessage) -> str:
        reason = "550 5.1.1 no such user"
        self.sinks[0].refuse(message.recipient.address, reason)
        return reason

    def drop_after_data(self, message: OutgoingMessage) -> None:
        self.sinks[0].hang_up_after_data(message.recipient.address)

    def out_of_reach(self) -> DeliveryBackend:
        return self._keep(SmtpBackend(check_smtp_url(f"smtp://127.0.0.1:{closed_port()}")))

    def refusing_credentials(self) -> DeliveryBackend:
        # AUTH without TLS, which the back end allows only to a relay on this machine.
        sink = SmtpSink.start(authenticator=accept_only("user", "right"), auth_require_tls=False)
        self.sinks.append(sink)
        self._started.append(sink)
        url = check_smtp_url(f"smtp://user:wrong@127.0.0.1:{sink.port}")
        return self._keep(SmtpBackend(url, timeout=5))

    def close(self) -> None:
        super().close()
        for sink in self._started:
            sink.stop()


class SendGridHarness(Harness):
    def __init__(self, fake: FakeSendGrid) -> None:
        self.clock = FixedClock()
        super().__init__(self._backend(fake.api_key, fake.url))
        self.fake = fake

    def _backend(self, api_key: str, url: str) -> SendGridBackend:
        return SendGridBackend(api_key, url, timeout=5, now=self.clock.now, rng=random.Random(7))

    def delivered(self) -> Counter[str]:
        return self.fake.counts()

    def refuse_for_now(self, message: OutgoingMessage) -> float | None:
        # A rate limit refuses the whole request that carries message.
        self.fake.answer_next(429, retry_after=40)
        return 40.0

    def end_refusal(self) -> None:
        self.clock.sleep(60)  # past the 40 s asked and the jitter added to them

    def refuse_for_good(self, message: OutgoingMessage) -> str:
        self.fake.reject_address(message.recipient.address)
        return INVALID_ADDRESS

    def drop_after_data(self, message: OutgoingMessage) -> None:
        # The next request, the one that carries message, is read and never answered.
        self.fake.drop_next()

    def out_of_reach(self) -> DeliveryBackend:
        return self._keep(self._backend(self.fake.api_key, f"http://127.0.0.1:{closed_port()}"))

    def refusing_credentials(self) -> DeliveryBackend:
        return self._keep(self._backend("SG.wrong-key", self.fake.url))


def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def back_ends(**not_applicable: str) -> list[str]:
    """The back ends a case applies to: all but those named, each with why it cannot apply."""
    assert set(not_applicable) <= set(BACK_ENDS)
    assert all(not_applicable.values()), "say why a back end is left out"
    return [name for name in BACK_ENDS if name not in not_applicable]


@pytest.fixture
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    """The back end named by the test's parameter, in front of its world."""
    name = request.param
    made: Harness
    if name == "outbox":
        made = OutboxHarness(tmp_path / "outbox")
    elif name == "smtp":
        made = SmtpHarness(request.getfixturevalue("smtp_sink"))
    else:
        made = SendGridHarness(request.getfixturevalue("sendgrid_fake"))
    yield made
    made.close()


def answers(
    results: Sequence[DeliveryResult], batch: Sequence[OutgoingMessage], every: bool = True
) -> dict[int, DeliveryResult]:
    """Results by message id, checking each answers a message of the batch, once (and, with
    every, that each message is answered)."""
    ids = [r.message_id for r in results]
    assert len(ids) == len(set(ids)), f"a message answered twice: {results}"
    assert set(ids) <= {m.message_id for m in batch}, f"an answer for no message: {results}"
    if every:
        assert set(ids) == {m.message_id for m in batch}, f"a message not answered: {results}"
    return {r.message_id: r for r in results}


def send_to_the_end(
    backend: DeliveryBackend, batch: Sequence[OutgoingMessage]
) -> tuple[dict[int, DeliveryResult], BackendBlocked | None]:
    """What the back end answered, whether it returned or raised BackendBlocked."""
    try:
        results = backend.send(batch)
    except BackendBlocked as blocked:
        # The messages it did not get to were not attempted: they stay queued.
        return answers(blocked.results, batch, every=False), blocked
    return answers(results, batch), None


def assert_nothing_sent_and_nothing_lost(
    harness: Harness, backend: DeliveryBackend, batch: Sequence[OutgoingMessage]
) -> None:
    """The blocked contract: no message sent or blamed; each waits, answered or not attempted."""
    results, blocked = send_to_the_end(backend, batch)

    outcomes = {r.outcome for r in results.values()}
    assert outcomes <= {Outcome.DEFERRED}, "the back end's trouble is no message's fault"
    assert all(r.detail for r in results.values()), "each answer says why"
    if blocked is None:
        assert len(results) == len(batch), "without BackendBlocked, every message is answered"
    else:
        assert blocked.reason
    assert harness.delivered() == Counter()


@pytest.mark.parametrize("harness", back_ends(), indirect=True)
def test_sent_every_message_of_the_batch_is_accepted_once(harness: Harness) -> None:
    sales, other = compiled_content(), compiled_content(html="<p>Other %%token%%</p>")
    batch = [
        outgoing_message(1, "a@p.example", sales),
        outgoing_message(2, "b@p.example", other),
        outgoing_message(3, "c@p.example", sales),
    ]

    results = answers(harness.backend.send(batch), batch)

    assert {i: r.outcome for i, r in results.items()} == dict.fromkeys([1, 2, 3], Outcome.SENT)
    assert all(r.provider_message_id for r in results.values()), "the provider's id is kept"
    assert harness.delivered() == Counter(["a@p.example", "b@p.example", "c@p.example"])


@pytest.mark.parametrize("harness", back_ends(), indirect=True)
def test_retry_a_transient_refusal_asks_for_a_later_try_and_loses_nothing(
    harness: Harness,
) -> None:
    shared = compiled_content()
    batch = [
        outgoing_message(1, "later@p.example", shared),
        outgoing_message(2, "b@p.example", shared),
    ]
    least_wait = harness.refuse_for_now(batch[0])

    first = answers(harness.backend.send(batch), batch)

    refused = first[1]
    assert refused.outcome in WAITS, refused
    assert refused.detail, "the refusal says why"
    if least_wait is not None:
        assert refused.retry_after is not None, "the back end names how long to wait"
        assert refused.retry_after > 0
        assert refused.retry_after >= least_wait
    # A refusal of the whole hand-over may hold the others back too, but fails no one.
    assert {r.outcome for r in first.values()} <= {Outcome.SENT, *WAITS}
    assert harness.delivered()["later@p.example"] == 0

    harness.end_refusal()
    again = [m for m in batch if first[m.message_id].outcome is not Outcome.SENT]
    second = answers(harness.backend.send(again), again)

    assert {r.outcome for r in second.values()} == {Outcome.SENT}
    assert harness.delivered() == Counter(["later@p.example", "b@p.example"]), "each once"


@pytest.mark.parametrize("harness", back_ends(outbox=OUTBOX_REFUSES_NO_ONE), indirect=True)
def test_failed_a_permanent_refusal_fails_only_that_message(harness: Harness) -> None:
    shared = compiled_content()
    batch = [
        outgoing_message(1, "a@p.example", shared),
        outgoing_message(2, "nobody@p.example", shared),
        outgoing_message(3, "c@p.example", shared),
    ]
    reason = harness.refuse_for_good(batch[1])

    results = answers(harness.backend.send(batch), batch)

    assert results[2].outcome is Outcome.FAILED
    assert reason in results[2].detail, "the failure keeps the world's reason"
    assert results[1].outcome is results[3].outcome is Outcome.SENT
    assert harness.delivered() == Counter(["a@p.example", "c@p.example"])


@pytest.mark.parametrize("harness", back_ends(outbox=OUTBOX_HANDS_NOTHING_OVER), indirect=True)
def test_unknown_a_connection_lost_after_the_data_left_leaves_the_message_in_doubt(
    harness: Harness,
) -> None:
    shared = compiled_content()
    batch = [
        outgoing_message(1, "lost@p.example", shared),
        outgoing_message(2, "b@p.example", shared),
    ]
    harness.drop_after_data(batch[0])

    results = answers(harness.backend.send(batch), batch)

    assert results[1].outcome is Outcome.UNKNOWN, results[1]
    assert results[1].detail, "the doubt says why"
    # What left in the same hand-over is in doubt too; nothing is failed or queued again.
    assert results[2].outcome in {Outcome.SENT, Outcome.UNKNOWN}
    # The world got the message once, and the back end did not send it again by itself.
    assert harness.delivered() == Counter(["lost@p.example", "b@p.example"])


@pytest.mark.parametrize("harness", back_ends(), indirect=True)
def test_blocked_out_of_reach_nothing_is_sent_and_every_message_waits(harness: Harness) -> None:
    shared = compiled_content()
    batch = [outgoing_message(1, "a@p.example", shared), outgoing_message(2, "b@p.example", shared)]

    assert_nothing_sent_and_nothing_lost(harness, harness.out_of_reach(), batch)


@pytest.mark.parametrize("harness", back_ends(outbox=OUTBOX_HAS_NO_CREDENTIALS), indirect=True)
def test_blocked_credentials_refused_nothing_is_sent_and_every_message_waits(
    harness: Harness,
) -> None:
    shared = compiled_content()
    batch = [outgoing_message(1, "a@p.example", shared), outgoing_message(2, "b@p.example", shared)]

    assert_nothing_sent_and_nothing_lost(harness, harness.refusing_credentials(), batch)

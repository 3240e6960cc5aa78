"""Sending an edition through real back ends: the outbox on disk and a real SMTP server."""

from __future__ import annotations

import email
import email.policy
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from commhub.config import check_smtp_url
from commhub.delivery.backend import DeliveryResult, OutgoingMessage
from commhub.delivery.outbox import OutboxBackend
from commhub.delivery.pacing import SendPolicy, retry_delay
from commhub.delivery.sender import EditionSender
from commhub.delivery.smtp import SmtpBackend
from commhub.editions.leases import acquire_lease
from commhub.editions.lifecycle import prepare_resend_unknown, release_edition
from commhub.editions.message_store import status_counts
from commhub.errors import Conflict
from commhub.store.models import (
    Alert,
    Contact,
    ContactStatus,
    Edition,
    EditionState,
    MessageStatus,
    SkipReason,
)
from tests.builders import NOW, QUICK, World
from tests.smtp_sink import SmtpSink


def smtp(sink: SmtpSink) -> SmtpBackend:
    return SmtpBackend(check_smtp_url(sink.url), timeout=5)


def test_the_outbox_writes_one_rfc5322_file_per_message(world: World, tmp_path: Path) -> None:
    edition_id = world.newsletter_to("a@p.example", "b@p.example", first_names=["Ana", "Ben"])
    outbox = OutboxBackend(tmp_path / "outbox")

    report = world.send(edition_id, outbox)

    assert report.state is EditionState.SENT
    files = sorted((tmp_path / "outbox" / str(edition_id)).glob("*.eml"))
    assert len(files) == 2
    parsed = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]
    assert sorted(str(m["To"]) for m in parsed) == [
        "Ana Partner <a@p.example>", "Ben Partner <b@p.example>",
    ]  # fmt: skip
    assert {str(m["Subject"]) for m in parsed} == {"Partner News for Ana", "Partner News for Ben"}


def test_an_outbox_resend_of_a_message_already_written_writes_nothing(
    world: World, tmp_path: Path
) -> None:
    edition_id = world.newsletter_to("a@p.example")
    outbox = OutboxBackend(tmp_path)
    world.send(edition_id, outbox)
    written = next((tmp_path / str(edition_id)).glob("*.eml"))
    before = written.read_bytes()
    with world.session() as session:
        session.execute(update(Edition).values(state=EditionState.SENDING))
        from commhub.store.models import Message

        session.execute(update(Message).values(status=MessageStatus.QUEUED))

    world.send(edition_id, outbox)

    assert written.read_bytes() == before
    assert len(list((tmp_path / str(edition_id)).glob("*.eml"))) == 1


def test_smtp_delivers_each_contact_once_with_the_required_headers(
    world: World, smtp_sink: SmtpSink
) -> None:
    edition_id = world.newsletter_to("a@p.example", "b@p.example")

    report = world.send(edition_id, smtp(smtp_sink))

    assert report.counts == Counter({MessageStatus.SENT: 2})
    assert smtp_sink.counts() == Counter({"a@p.example": 1, "b@p.example": 1})
    message = smtp_sink.received_by("a@p.example")[0].message
    [row] = [m for e, m in world.messages(edition_id).items() if e == "a@p.example"]
    unsubscribe = str(message["List-Unsubscribe"])
    assert unsubscribe.startswith("<http://127.0.0.1:5000/u/")
    assert unsubscribe.endswith(">")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert str(message["Message-ID"]).startswith(f"<m{row.id}.e{edition_id}.")
    assert str(message["From"]) == "Partner Team <team@vendor.example>"
    assert smtp_sink.received_by("a@p.example")[0].mail_from == "team@vendor.example"
    assert message.get_body(("plain",)) is not None
    assert message.get_body(("html",)) is not None


def test_a_transient_refusal_is_retried_after_a_backoff_and_then_sent(
    world: World, smtp_sink: SmtpSink
) -> None:
    edition_id = world.newsletter_to("greylisted@p.example", "b@p.example")
    smtp_sink.refuse("greylisted@p.example", "451 4.7.1 greylisted, try later", times=2)

    report = world.send(edition_id, smtp(smtp_sink))

    assert report.state is EditionState.SENT
    assert smtp_sink.counts() == Counter({"greylisted@p.example": 1, "b@p.example": 1})
    message = world.messages(edition_id)["greylisted@p.example"]
    assert (message.status, message.attempts) == (MessageStatus.SENT, 3)
    assert "1 messages wait; the next is due in" in world.notices[0]
    assert world.clock.slept, "the retry waited (on the test clock) instead of hammering"


def test_a_permanent_refusal_fails_only_that_message_with_the_reason(
    world: World, smtp_sink: SmtpSink
) -> None:
    edition_id = world.newsletter_to("nobody@p.example", "b@p.example", "c@p.example")
    smtp_sink.refuse("nobody@p.example", "550 5.1.1 no such user")

    report = world.send(edition_id, smtp(smtp_sink))

    assert report.state is EditionState.SENT
    assert report.counts == Counter({MessageStatus.SENT: 2, MessageStatus.FAILED: 1})
    failed = world.messages(edition_id)["nobody@p.example"]
    assert failed.last_error == "550 5.1.1 no such user"
    assert smtp_sink.counts() == Counter({"b@p.example": 1, "c@p.example": 1})


def test_a_message_refused_at_every_attempt_fails_after_the_last(
    world: World, smtp_sink: SmtpSink
) -> None:
    edition_id = world.newsletter_to("full@p.example")
    smtp_sink.refuse("full@p.example", "452 4.2.2 mailbox full", times=10)

    report = world.send(edition_id, smtp(smtp_sink), SendPolicy(max_attempts=3, retry_base=1.0))

    message = world.messages(edition_id)["full@p.example"]
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 3)
    assert message.last_error == "gave up after 3 attempts: 452 4.2.2 mailbox full"
    assert report.state is EditionState.SENT


def test_a_run_of_failures_pauses_the_edition_with_an_alert_and_release_goes_on(
    world: World, smtp_sink: SmtpSink
) -> None:
    addresses = [f"c{n}@p.example" for n in range(6)]
    edition_id = world.newsletter_to(*addresses)
    for address in addresses[:3]:
        smtp_sink.refuse(address, "554 5.7.1 rejected by policy")

    report = world.send(edition_id, smtp(smtp_sink), SendPolicy(max_failure_run=3))

    assert report.state is EditionState.PAUSED
    assert "3 messages in a row failed" in (report.reason or "")
    with world.session() as session:
        alert = session.scalar(select(Alert).where(Alert.edition_id == edition_id))
        assert alert is not None
        assert alert.kind == "edition_paused"
        release_edition(session, edition_id, NOW)
    resumed = world.send(edition_id, smtp(smtp_sink), SendPolicy(max_failure_run=3))
    assert resumed.state is EditionState.SENT
    assert resumed.counts == Counter({MessageStatus.FAILED: 3, MessageStatus.SENT: 3})


def test_refused_credentials_pause_the_edition_and_right_ones_send_over_starttls(
    world: World,
) -> None:
    import ssl

    import trustme

    from tests.smtp_sink import accept_only, client_context_for

    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    sink = SmtpSink.start(
        authenticator=accept_only("user", "right"), auth_required=True,
        tls_context=server_tls, require_starttls=True,
    )  # fmt: skip
    try:
        edition_id = world.newsletter_to("a@p.example")

        def backend(password: str) -> SmtpBackend:
            url = check_smtp_url(f"smtp://user:{password}@127.0.0.1:{sink.port}")
            return SmtpBackend(url, timeout=5, tls_context=client_context_for(ca))

        report = world.send(edition_id, backend("wrong"))
        assert report.state is EditionState.PAUSED
        assert "refused the credentials: 535" in (report.reason or "")
        assert world.messages(edition_id)["a@p.example"].status is MessageStatus.QUEUED
        assert sink.counts() == Counter()

        with world.session() as session:
            release_edition(session, edition_id, NOW)
        report = world.send(edition_id, backend("right"))
        assert report.state is EditionState.SENT
        assert sink.counts() == Counter({"a@p.example": 1})
    finally:
        sink.stop()


def test_an_unreachable_server_defers_and_then_pauses_without_spending_attempts(
    world: World,
) -> None:
    edition_id = world.newsletter_to("a@p.example")
    # Port 1 on loopback: nothing listens, so every connection is refused at once.
    backend = SmtpBackend(check_smtp_url("smtp://127.0.0.1:1"), timeout=2)

    report = world.send(edition_id, backend, SendPolicy(outage_base=5.0, max_outage=60.0))

    assert report.state is EditionState.PAUSED
    assert "has taken nothing since" in (report.reason or "")
    message = world.messages(edition_id)["a@p.example"]
    assert (message.status, message.attempts) == (MessageStatus.QUEUED, 0)
    assert world.notices[0].startswith("cannot reach 127.0.0.1:1: ")
    assert "trying again in" in world.notices[0]


def test_a_connection_lost_after_the_data_left_makes_the_message_unknown_not_resent(
    world: World, smtp_sink: SmtpSink
) -> None:
    edition_id = world.newsletter_to("a@p.example", "b@p.example")
    smtp_sink.hang_up_after_data("a@p.example")

    report = world.send(edition_id, smtp(smtp_sink))

    assert report.counts == Counter({MessageStatus.UNKNOWN: 1, MessageStatus.SENT: 1})
    assert smtp_sink.counts() == Counter({"a@p.example": 1, "b@p.example": 1})
    assert "no answer after the message was sent" in (
        world.messages(edition_id)["a@p.example"].last_error or ""
    )
    # Only the operator's explicit command sends it again.
    with world.session() as session:
        assert prepare_resend_unknown(session, edition_id, NOW) == 1
    world.send(edition_id, smtp(smtp_sink))
    assert smtp_sink.counts()["a@p.example"] == 2


def test_the_counts_always_add_up_to_the_recipients(world: World, tmp_path: Path) -> None:
    addresses = [f"c{n}@p.example" for n in range(7)]
    edition_id = world.newsletter_to(*addresses)
    seen: list[int] = []

    class Checking(OutboxBackend):
        max_batch = 2

        def send(self, batch: Sequence[OutgoingMessage]) -> list[DeliveryResult]:
            with world.session() as session:
                seen.append(sum(status_counts(session, edition_id).values()))
            return super().send(batch)

    world.send(edition_id, Checking(tmp_path))

    assert seen == [7, 7, 7, 7]


def test_a_live_sender_keeps_others_off_its_edition(world: World, tmp_path: Path) -> None:
    edition_id = world.newsletter_to("a@p.example")
    with world.session() as session:
        assert acquire_lease(session, edition_id, "elsewhere:1:abcd", NOW) == ""

    with pytest.raises(Conflict, match="is being sent by elsewhere:1:abcd"):
        world.send(edition_id, OutboxBackend(tmp_path))


def test_messages_left_sending_by_a_dead_sender_become_unknown_with_an_alert(
    world: World, tmp_path: Path
) -> None:
    edition_id = world.newsletter_to("a@p.example", "b@p.example")
    with world.session() as session:
        from commhub.store.models import Message

        session.execute(update(Message).where(Message.id == 1).values(status=MessageStatus.SENDING))
        # Its lease has run out: the process that held it is gone.
        acquire_lease(session, edition_id, "elsewhere:1:abcd", NOW.replace(hour=1))

    sender = EditionSender(
        world.runtime.sessions, OutboxBackend(tmp_path), world.runtime.settings, world.clock, QUICK
    )
    report = sender.send(edition_id)

    assert report.in_doubt == 1
    assert report.counts == Counter({MessageStatus.UNKNOWN: 1, MessageStatus.SENT: 1})
    with world.session() as session:
        kinds = set(session.scalars(select(Alert.kind)))
    assert "messages_in_doubt" in kinds


@pytest.mark.parametrize("attempt", [1, 2, 3, 8])
def test_retry_delays_grow_exponentially_with_jitter_and_a_cap(attempt: int) -> None:
    import random

    rng = random.Random(attempt)
    delays = [retry_delay(attempt, 10.0, 60.0, rng) for _ in range(200)]
    full = min(60.0, 10.0 * 2 ** (attempt - 1))
    assert all(full / 2 <= d <= full for d in delays)
    assert len(set(delays)) > 100
    assert retry_delay(attempt, 10.0, 60.0, rng, at_least=500.0) == 500.0


def test_a_connection_the_server_closed_is_reopened_without_losing_the_message(
    world: World, smtp_sink: SmtpSink
) -> None:
    edition_id = world.newsletter_to("a@p.example", "b@p.example")
    # After taking a@'s message the server closes the connection, as idle timeouts do.
    smtp_sink.close_after("a@p.example")
    backend = smtp(smtp_sink)

    report = world.send(edition_id, backend)

    assert report.counts == Counter({MessageStatus.SENT: 2})
    assert smtp_sink.counts() == Counter({"a@p.example": 1, "b@p.example": 1})
    assert backend.connections == 2


def test_a_slow_batch_keeps_its_lease_so_no_one_takes_over_a_live_send(
    world: World, tmp_path: Path
) -> None:
    import time

    from commhub.clock import SystemClock

    edition_id = world.newsletter_to("a@p.example")
    taken_over: list[str | None] = []

    class SlowRelay(OutboxBackend):
        def send(self, batch: Sequence[OutgoingMessage]) -> list[DeliveryResult]:
            time.sleep(1.0)  # three lease lengths: only the heartbeat keeps the claim alive
            with world.session() as session:
                taken_over.append(
                    acquire_lease(session, edition_id, "elsewhere:1:abcd", SystemClock().now())
                )
            return super().send(batch)

    report = world.send(
        edition_id, SlowRelay(tmp_path), SendPolicy(lease_seconds=0.3), clock=SystemClock()
    )

    assert taken_over == [None]
    assert report.counts == Counter({MessageStatus.SENT: 1})


def test_a_garbled_answer_after_the_data_is_unknown_not_retried(
    world: World, smtp_sink: SmtpSink
) -> None:
    edition_id = world.newsletter_to("a@p.example")
    smtp_sink.refuse("a@p.example", "OK, got it", at="data")

    report = world.send(edition_id, smtp(smtp_sink))

    assert report.counts == Counter({MessageStatus.UNKNOWN: 1})
    assert "unexpected answer" in (world.messages(edition_id)["a@p.example"].last_error or "")


def test_a_relay_closing_with_421_defers_the_batch_without_spending_attempts(
    world: World, smtp_sink: SmtpSink
) -> None:
    edition_id = world.newsletter_to("a@p.example", "b@p.example")
    smtp_sink.refuse("a@p.example", "421 4.7.0 too many messages, slow down", times=2)

    report = world.send(edition_id, smtp(smtp_sink))

    assert report.counts == Counter({MessageStatus.SENT: 2})
    assert world.messages(edition_id)["a@p.example"].attempts == 1
    assert smtp_sink.counts() == Counter({"a@p.example": 1, "b@p.example": 1})


def test_smtps_speaks_tls_from_the_first_byte(world: World) -> None:
    import ssl

    import trustme

    from tests.smtp_sink import client_context_for

    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    sink = SmtpSink.start(ssl_context=server_tls)
    try:
        edition_id = world.newsletter_to("a@p.example")
        url = check_smtp_url(f"smtps://127.0.0.1:{sink.port}")
        report = world.send(
            edition_id, SmtpBackend(url, timeout=5, tls_context=client_context_for(ca))
        )
        assert report.counts == Counter({MessageStatus.SENT: 1})
        assert sink.counts() == Counter({"a@p.example": 1})
    finally:
        sink.stop()


def test_an_outbox_that_cannot_be_written_pauses_the_edition_and_loses_nothing(
    world: World, tmp_path: Path
) -> None:
    edition_id = world.newsletter_to("a@p.example", "b@p.example")
    blocked = tmp_path / "outbox"
    blocked.write_text("a file where the outbox directory should be")

    report = world.send(edition_id, OutboxBackend(blocked), SendPolicy(max_outage=60.0))

    assert report.state is EditionState.PAUSED
    assert "cannot write to the outbox" in (report.reason or "")
    assert {m.status for m in world.messages(edition_id).values()} == {MessageStatus.QUEUED}
    assert {m.attempts for m in world.messages(edition_id).values()} == {0}

    blocked.unlink()
    with world.session() as session:
        release_edition(session, edition_id, NOW)
    resumed = world.send(edition_id, OutboxBackend(blocked))
    assert resumed.counts == Counter({MessageStatus.SENT: 2})
    assert len(list(blocked.rglob("*.eml"))) == 2


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"consent_at": None}, SkipReason.NO_CONSENT),
        ({"opted_out_channels": ["newsletter"]}, SkipReason.OPTED_OUT),
        ({"paused_until": NOW.date() + timedelta(days=7)}, SkipReason.PAUSED),
        ({"status": ContactStatus.BOUNCED}, SkipReason.BOUNCED),
        ({"status": ContactStatus.UNSUBSCRIBED}, SkipReason.UNSUBSCRIBED),
    ],
)
def test_a_contact_suppressed_mid_send_is_skipped_by_the_next_claim(
    world: World, tmp_path: Path, change: dict[str, object], reason: SkipReason
) -> None:
    edition_id = world.newsletter_to("first@p.example", "later@p.example")

    class SuppressesLaterDuringFirstBatch(OutboxBackend):
        max_batch = 1

        def send(self, batch: Sequence[OutgoingMessage]) -> list[DeliveryResult]:
            with world.session() as session:
                session.execute(
                    update(Contact).where(Contact.email == "later@p.example").values(**change)
                )
            return super().send(batch)

    report = world.send(edition_id, SuppressesLaterDuringFirstBatch(tmp_path))

    messages = world.messages(edition_id)
    assert messages["first@p.example"].status is MessageStatus.SENT
    later = messages["later@p.example"]
    assert (later.status, later.skip_reason) == (MessageStatus.SKIPPED, reason)
    assert report.counts == Counter({MessageStatus.SENT: 1, MessageStatus.SKIPPED: 1})


def test_a_sender_told_to_stop_ends_after_the_batch_in_flight_and_the_next_finishes(
    world: World, tmp_path: Path
) -> None:
    edition_id = world.newsletter_to(*(f"c{n}@p.example" for n in range(5)))
    batches: list[int] = []

    class Small(OutboxBackend):
        max_batch = 2

        def send(self, batch: Sequence[OutgoingMessage]) -> list[DeliveryResult]:
            batches.append(len(batch))
            return super().send(batch)

    stopping = EditionSender(
        world.runtime.sessions, Small(tmp_path), world.runtime.settings, world.clock, QUICK,
        should_stop=lambda: len(batches) >= 1,
    )  # fmt: skip
    report = stopping.send(edition_id)
    assert report.state is EditionState.SENDING
    assert report.counts[MessageStatus.SENT] == 2
    assert report.counts[MessageStatus.QUEUED] == 3
    # The lease is given back, so the next sender (a scheduler's sweep) goes on at once.
    assert world.send(edition_id, Small(tmp_path)).counts[MessageStatus.SENT] == 5

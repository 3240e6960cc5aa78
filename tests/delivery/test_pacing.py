"""The send loop's memory across batches: failures in a row, outages, waits, pauses."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from commhub.delivery.backend import BackendBlocked, DeliveryResult, Outcome
from commhub.delivery.pacing import SendLoopState, SendPolicy
from commhub.editions.message_store import StatusUpdate
from commhub.store.models import MessageStatus

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
POLICY = SendPolicy(max_failure_run=5, max_outage=60.0, outage_base=2.0, outage_cap=8.0)
STATUS = {
    Outcome.SENT: MessageStatus.SENT,
    Outcome.FAILED: MessageStatus.FAILED,
    Outcome.DEFERRED: MessageStatus.QUEUED,
}


def loop() -> SendLoopState:
    return SendLoopState(POLICY, "smtp", random.Random(7))


def batch(*outcomes: Outcome) -> tuple[list[StatusUpdate], Counter[Outcome], list[DeliveryResult]]:
    results = [DeliveryResult(i, o, f"{o.value} {i}") for i, o in enumerate(outcomes)]
    updates = [StatusUpdate(r.message_id, STATUS[r.outcome], 1, r.detail) for r in results]
    return updates, Counter(outcomes), results


def test_failures_in_a_row_count_across_batches_and_pause_at_the_limit() -> None:
    state = loop()
    assert state.after_batch(*batch(Outcome.FAILED, Outcome.FAILED), None, T0).pause_reason is None
    assert state.after_batch(*batch(Outcome.FAILED, Outcome.FAILED), None, T0).pause_reason is None
    verdict = state.after_batch(*batch(Outcome.FAILED, Outcome.SENT), None, T0)
    assert verdict.pause_reason == "5 messages in a row failed; the last: failed 0"


def test_a_sent_message_breaks_the_run() -> None:
    state = loop()
    state.after_batch(*batch(Outcome.FAILED, Outcome.FAILED, Outcome.FAILED), None, T0)
    state.after_batch(*batch(Outcome.SENT), None, T0)
    verdict = state.after_batch(*batch(Outcome.FAILED, Outcome.FAILED), None, T0)
    assert verdict.pause_reason is None
    assert state.failure_run == 2


def test_an_outage_waits_longer_each_batch_then_pauses() -> None:
    state = loop()
    waits = []
    for seconds in (0, 10, 20, 30):
        verdict = state.after_batch(*batch(Outcome.DEFERRED), None, T0 + timedelta(seconds=seconds))
        assert verdict.pause_reason is None
        assert verdict.wait_detail == "deferred 0"
        waits.append(verdict.wait_seconds)
    assert 1.0 <= waits[0] <= 2.0
    assert 4.0 <= waits[3] <= 8.0
    verdict = state.after_batch(*batch(Outcome.DEFERRED), None, T0 + timedelta(seconds=60))
    assert verdict.pause_reason == (
        "the smtp back end has taken nothing since 2026-12-01 09:00 UTC: deferred 0"
    )


def test_anything_sent_ends_the_outage() -> None:
    state = loop()
    state.after_batch(*batch(Outcome.DEFERRED), None, T0)
    assert state.after_batch(*batch(Outcome.SENT, Outcome.DEFERRED), None, T0).wait_seconds == 0
    assert state.outage_since is None
    assert state.deferrals == 0


def test_a_blocked_back_end_pauses_at_once() -> None:
    verdict = loop().after_batch(*batch(), BackendBlocked("535 bad credentials"), T0)
    assert verdict.pause_reason == "the smtp back end cannot send: 535 bad credentials"


def test_a_read_error_is_raised_only_when_asked() -> None:
    state = loop()
    state.read_error = OSError("database gone")
    with pytest.raises(OSError, match="database gone"):
        state.raise_read_error()
    state.raise_read_error()  # once only


def test_an_outage_past_its_limit_names_it_even_when_nothing_was_attempted() -> None:
    state = loop()
    state.after_batch(*batch(Outcome.DEFERRED), None, T0)
    updates, outcomes, _results = batch(Outcome.DEFERRED)
    blocked = BackendBlocked("421 too busy")
    verdict = state.after_batch(updates, outcomes, [], blocked, T0 + timedelta(seconds=60))
    assert verdict.pause_reason == (
        "the smtp back end has taken nothing since 2026-12-01 09:00 UTC: not attempted"
    )

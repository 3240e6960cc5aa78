"""How patient a send is, and what it remembers from one batch to the next.

The sender's loop hands each batch's outcome to a SendLoopState, which keeps the run of
failures in a row, since when the back end has taken nothing, and how many batches in a row
it deferred, and answers: go on, wait this long, or pause for a person with this reason.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from commhub.delivery.backend import BackendBlocked, DeliveryResult, Outcome
from commhub.editions import LEASE_SECONDS, StatusUpdate
from commhub.store import MessageStatus


@dataclass(frozen=True)
class SendPolicy:
    """How patient a send is. The defaults suit a relay; tests shorten them."""

    max_attempts: int = 6
    retry_base: float = 30.0  # seconds before the first retry of a refused message
    retry_cap: float = 900.0
    outage_base: float = 5.0  # seconds before trying an unreachable back end again
    outage_cap: float = 120.0
    max_outage: float = 900.0  # an outage longer than this pauses the edition
    max_failure_run: int = 50  # this many failures in a row pauses the edition
    # How long a sender's claim on an edition lasts without renewal (renewed every third).
    lease_seconds: float = LEASE_SECONDS


def retry_delay(
    attempt: int, base: float, cap: float, rng: random.Random, at_least: float | None = None
) -> float:
    """Exponential backoff with equal jitter: half the delay fixed, half random."""
    delay = min(cap, base * 2.0 ** max(attempt - 1, 0))
    return float(max(delay / 2 + rng.uniform(0, delay / 2), at_least or 0.0))


@dataclass(frozen=True)
class Verdict:
    """What the loop does after a batch: pause (with the reason), wait, or go on."""

    pause_reason: str | None = None
    wait_seconds: float = 0.0
    wait_detail: str = ""


@dataclass
class SendLoopState:
    """What a send carries across batches, and the rules that read it."""

    policy: SendPolicy
    backend_name: str
    rng: random.Random
    failure_run: int = 0  # messages failed in a row, across batches
    deferrals: int = 0  # batches in a row the back end took nothing of
    outage_since: datetime | None = None
    # A failure reading the next batch, raised once this batch's outcome is recorded.
    read_error: Exception | None = field(default=None, repr=False)

    def after_batch(
        self,
        updates: Sequence[StatusUpdate],
        outcomes: Counter[Outcome],
        results: Sequence[DeliveryResult],
        blocked: BackendBlocked | None,
        now: datetime,
    ) -> Verdict:
        """Take in a batch's outcome (outcomes counts every message of it, those the back end
        did not answer too) and say whether to pause, wait or go on."""
        longest = self._count_failures(updates)
        pause_reason = None
        if blocked is not None:
            pause_reason = f"the {self.backend_name} back end cannot send: {blocked.reason}"
        elif longest >= self.policy.max_failure_run:
            last = next(u.detail for u in reversed(updates) if u.status is MessageStatus.FAILED)
            pause_reason = f"{longest} messages in a row failed; the last: {last}"
        deferred = [r for r in results if r.outcome is Outcome.DEFERRED]
        detail = deferred[0].detail if deferred else "not attempted"
        if outcomes[Outcome.SENT] or not outcomes[Outcome.DEFERRED]:
            self.outage_since, self.deferrals = None, 0
        else:
            self.outage_since = self.outage_since or now
            self.deferrals += 1
            if (now - self.outage_since).total_seconds() >= self.policy.max_outage:
                pause_reason = (
                    f"the {self.backend_name} back end has taken nothing since "
                    f"{self.outage_since:%Y-%m-%d %H:%M} UTC: {detail}"
                )
        if pause_reason:
            return Verdict(pause_reason=pause_reason)
        if not self.deferrals:
            return Verdict()
        # At least as long as the back end asks (a rate limit's reset time).
        asked = max((r.retry_after or 0.0 for r in deferred), default=0.0)
        policy = self.policy
        delay = retry_delay(self.deferrals, policy.outage_base, policy.outage_cap, self.rng, asked)
        return Verdict(wait_seconds=delay, wait_detail=detail or "")

    def raise_read_error(self) -> None:
        """Raise the failure met reading ahead, now that the batch before it is recorded."""
        error, self.read_error = self.read_error, None
        if error is not None:
            raise error

    def _count_failures(self, updates: Sequence[StatusUpdate]) -> int:
        """Extend the run of failures in a row; the longest it reached in this batch."""
        longest = self.failure_run
        for update in updates:
            if update.status is MessageStatus.FAILED:
                self.failure_run += 1
                longest = max(longest, self.failure_run)
            elif update.status is MessageStatus.SENT:
                self.failure_run = 0
        return longest

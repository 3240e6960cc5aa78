"""The delivery seam: what a back end is handed, what it answers, and the protocol between.

One module per back end (outbox, smtp, sendgrid), each a DeliveryBackend. The sending
code never knows which one it talks to; wiring.build_delivery_backend picks it from the
settings.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from functools import cached_property
from typing import NamedTuple, Protocol

from commhub.errors import DeliveryError
from commhub.render import (
    CompiledMessage,
    ContactValues,
    Envelope,
    MimeBody,
    Recipient,
    SubstitutionPlan,
    build_message,
    substitution_plan,
)


class MessageContent:
    """An edition compiled for one role set, with what its messages share."""

    def __init__(
        self, edition_id: int, role_set: str, envelope: Envelope, compiled: CompiledMessage
    ):
        self.edition_id = edition_id
        self.role_set = role_set
        self.envelope = envelope
        self.compiled = compiled

    @cached_property
    def substitution_plan(self) -> SubstitutionPlan:
        """How to fill every placeholder the subject, text and HTML hold."""
        compiled = self.compiled
        return substitution_plan((*compiled.subject.tags, *compiled.text.tags, *compiled.html.tags))

    @cached_property
    def mime(self) -> MimeBody:
        """The body encoded once, for back ends that send whole RFC 5322 messages."""
        return MimeBody(self.compiled.text, self.compiled.html)


class OutgoingMessage(NamedTuple):
    """One message for one contact: shared content plus the contact's values."""

    recipient: Recipient
    content: MessageContent
    values: ContactValues

    @property
    def message_id(self) -> int:
        return self.recipient.message_id

    def tags(self) -> dict[str, str]:
        """Each placeholder of the content mapped to this contact's value."""
        return self.values.tags()

    def as_bytes(self, date: datetime) -> bytes:
        """The RFC 5322 message, CRLF line endings, ready for SMTP or an .eml file."""
        tags = self.tags()
        subject = self.content.compiled.subject.fill(tags)
        return build_message(
            self.content.envelope, self.recipient, subject, self.content.mime, tags, date
        )


class Outcome(enum.StrEnum):
    SENT = "sent"  # the back end accepted the message
    RETRY = "retry"  # refused for now (SMTP 4xx); try again later; counts as an attempt
    # Not taken, through no fault of the message (no connection, a rate limit, a provider's
    # 5xx): tried again without spending an attempt.
    DEFERRED = "deferred"
    FAILED = "failed"  # refused for good (SMTP 5xx, SendGrid's 400 for it), with the reason
    UNKNOWN = "unknown"  # the data left and no answer came: in doubt, never resent silently


class DeliveryResult(NamedTuple):
    message_id: int
    outcome: Outcome
    detail: str = ""
    # Seconds the back end asks us to wait before trying again (RETRY, DEFERRED).
    retry_after: float | None = None
    provider_message_id: str | None = None


class BackendBlocked(DeliveryError):  # noqa: N818 - reads as what happened at the raise site
    """The back end cannot send until a person acts (credentials, a refused sender).

    `results` holds what happened to the messages it got to before it stopped; the rest
    were not attempted and stay queued.
    """

    def __init__(self, reason: str, results: Sequence[DeliveryResult] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.results = list(results)


class DeliveryBackend(Protocol):
    """Hands messages to the world. One result per message, in any order."""

    name: str
    # The most messages handed over at once: a crash leaves at most this many in doubt.
    max_batch: int

    def send(self, batch: Sequence[OutgoingMessage]) -> list[DeliveryResult]:
        """Send batch; raises BackendBlocked when nothing more can be sent until a person acts."""
        ...

    def close(self) -> None:
        """Release connections; the back end may be used again afterwards."""
        ...

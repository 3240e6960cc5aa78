"""Delivery: the seam every back end implements (outbox, SMTP, SendGrid), and the sender that
drives an edition's messages through it in batches, exactly once.

Only the composition root (commhub.wiring) picks a concrete back end.
"""

from __future__ import annotations

from commhub.delivery.backend import DeliveryBackend, Outcome
from commhub.delivery.outbox_reader import (
    count_outbox,
    has_message,
    outbox_editions,
    outbox_page,
    read_message,
)
from commhub.delivery.pacing import SendPolicy
from commhub.delivery.post_sender import PosterFor, PostPolicy, PostReport, PostSender
from commhub.delivery.posting import (
    AccountSettings,
    Poster,
    PostingPolicy,
    PostOutcome,
    PostRequest,
    PostResult,
    account_settings,
)
from commhub.delivery.sender import (
    EditionSender,
    SendReport,
    installation_id,
    send_test,
)

__all__ = [
    "AccountSettings",
    "DeliveryBackend",
    "EditionSender",
    "Outcome",
    "PostOutcome",
    "PostPolicy",
    "PostReport",
    "PostRequest",
    "PostResult",
    "PostSender",
    "Poster",
    "PosterFor",
    "PostingPolicy",
    "SendPolicy",
    "SendReport",
    "account_settings",
    "count_outbox",
    "has_message",
    "installation_id",
    "outbox_editions",
    "outbox_page",
    "read_message",
    "send_test",
]

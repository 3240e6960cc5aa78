"""Is this batch really from SendGrid, and recent? The Event Webhook's signature, checked
with SendGrid's own EventWebhook helper (ECDSA P-256 over the timestamp and the raw body)."""

from __future__ import annotations

import binascii
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import UnsupportedAlgorithm
from sendgrid.helpers.eventwebhook import EventWebhook

DEFAULT_WINDOW = timedelta(minutes=5)


class WebhookKeyError(ValueError):
    """The configured public key is not a base64 DER EC public key."""


class WebhookVerifier:
    """Checks that a batch comes from SendGrid, recently."""

    def __init__(self, public_key: str, window: timedelta = DEFAULT_WINDOW) -> None:
        try:
            self._helper = EventWebhook(public_key.strip())
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise WebhookKeyError(
                f"not a base64 DER public key as SendGrid shows it: {exc}"
            ) from None
        self.window = window

    def verify(
        self, body: bytes, signature: str | None, timestamp: str | None, now: datetime
    ) -> bool:
        """Whether body was signed by the key's owner at a time within the window of now."""
        # ASCII digits only ("²".isdigit() is true), and no more of them than a date needs.
        if not signature or not timestamp or not (timestamp.isascii() and timestamp.isdigit()):
            return False
        if len(timestamp) > 12:
            return False
        try:
            sent_at = datetime.fromtimestamp(int(timestamp), UTC)
        except (OverflowError, OSError, ValueError):
            return False
        if abs(now - sent_at) > self.window:
            return False
        try:
            payload = body.decode("utf-8")
            return bool(self._helper.verify_signature(payload, signature, timestamp))
        except (UnicodeDecodeError, binascii.Error, ValueError):
            return False

"""Webhooks: one JSON POST per post to a URL the account names (Slack, Teams, or our own
JSON for anything else), through the address guard, optionally signed.

The body, by the account's style:

- slack: ``{"text": text}`` (an incoming webhook).
- teams: ``{"@type": "MessageCard", "@context": "http://schema.org/extensions",
  "text": text}`` (the minimal MessageCard an incoming webhook takes).
- json: ``{"text", "link", "item", "title", "series", "account", "post_id",
  "edition_id"}``.

Every request carries ``Idempotency-Key`` (the same for every attempt at a post), which a
receiver may use to drop repeats; nothing says it does, so settles_by_idempotency is False.

Signing, when the account has a secret: ``X-Commhub-Timestamp`` is the Unix time in
seconds, and ``X-Commhub-Signature`` is ``sha256=`` and the hex HMAC-SHA256, keyed with the
secret (its UTF-8 bytes), of the timestamp's ASCII digits, a full stop, and the raw body
bytes exactly as received: ``HMAC(secret, b"1718000000." + body)``. A receiver recomputes
it and compares in constant time (verify_signature does, and can refuse old timestamps).

What each answer means: 2xx POSTED (remote_id and url when the JSON answer has "id" and
"url"); 429 and 5xx RETRY, after Retry-After when given, except 502 and 504, which a gateway
sends after the request reached it: UNKNOWN; a redirect (never followed) and any other 4xx
FAILED; no connection RETRY; a timeout or a broken connection after the request went out
UNKNOWN; an address the guard refuses FAILED. A webhook's URL is often its credential (a
Slack URL is), so reasons name its host only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from commhub.delivery.http_posting import not_posted, posting_client, send_json
from commhub.delivery.posting import (
    WEBHOOK_STYLES,
    AccountSettings,
    Network,
    PostingPolicy,
    PostOutcome,
    PostRequest,
    PostResult,
    env_prefix,
    excerpt,
)
from commhub.store import utcnow

TIMESTAMP_HEADER = "X-Commhub-Timestamp"
SIGNATURE_HEADER = "X-Commhub-Signature"
SIGNATURE_PREFIX = "sha256="


def signature(secret: str, timestamp: str | int, body: bytes) -> str:
    """The X-Commhub-Signature value for a body sent at `timestamp` (Unix seconds)."""
    message = str(timestamp).encode("ascii") + b"." + body
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: str | int | None,
    body: bytes,
    signature_header: str | None,
    *,
    max_age_seconds: float | None = None,
    now: float | None = None,
) -> bool:
    """Whether `signature_header` signs `body` at `timestamp` with `secret`, compared in
    constant time. With max_age_seconds, a timestamp further than that from `now` (default:
    this machine's clock) is refused too, so that a captured request cannot be replayed
    later."""
    if timestamp is None or signature_header is None or not str(timestamp).isdigit():
        return False
    if max_age_seconds is not None:
        current = time.time() if now is None else now
        if abs(current - int(timestamp)) > max_age_seconds:
            return False
    expected = signature(secret, timestamp, body)
    return hmac.compare_digest(expected.encode(), signature_header.encode())


class WebhookPoster:
    """Posts to one webhook URL, in the account's style, signed when it has a secret."""

    network = Network.WEBHOOK
    settles_by_idempotency = False

    def __init__(
        self,
        account: AccountSettings,
        policy: PostingPolicy,
        *,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self._account = account
        self._policy = policy
        self._now = now
        self._client = posting_client(policy)

    def post(self, request: PostRequest) -> PostResult:
        account = self._account
        prefix = env_prefix(account.name)
        if not account.url:
            return PostResult(PostOutcome.FAILED, f"{prefix}URL is not set")
        if account.style not in WEBHOOK_STYLES:
            styles = ", ".join(WEBHOOK_STYLES)
            return PostResult(PostOutcome.FAILED, f"{prefix}STYLE must be one of {styles}")
        body = json.dumps(self._body(request), ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", "Idempotency-Key": request.idempotency_key}
        if account.secret:
            timestamp = str(int(self._now().timestamp()))
            headers[TIMESTAMP_HEADER] = timestamp
            headers[SIGNATURE_HEADER] = signature(account.secret, timestamp, body)
        response = send_json(
            self._client, account.url, body, headers, self._policy, self._host, self._hidden
        )
        return response if isinstance(response, PostResult) else self._answer(response)

    def close(self) -> None:
        self._client.close()

    def _body(self, request: PostRequest) -> dict[str, Any]:
        style = self._account.style
        if style == "slack":
            return {"text": request.text}
        if style == "teams":
            return {
                "@type": "MessageCard",
                "@context": "http://schema.org/extensions",
                "text": request.text,
            }
        return {
            "text": request.text,
            "link": request.link,
            "item": request.item,
            "title": request.title,
            "series": request.series,
            "account": request.account,
            "post_id": request.post_id,
            "edition_id": request.edition_id,
        }

    def _answer(self, response: httpx.Response) -> PostResult:
        if not response.is_success:
            return not_posted(response, "the webhook", self._host, self._said, self._hidden,
                              self._now())  # fmt: skip
        answer = _json(response)
        remote_id = answer.get("id") if answer else None
        url = answer.get("url") if answer else None
        return PostResult(
            PostOutcome.POSTED,
            remote_id=None if remote_id is None else str(remote_id),
            url=url if isinstance(url, str) else None,
        )

    def _said(self, summary: str, response: httpx.Response) -> str:
        """'<summary> (HTTP 400): <what it said>': a JSON answer's error or message, or the
        text (Slack answers "invalid_payload", "no_text" and the like), excerpted."""
        answer = _json(response)
        message: object = None
        if answer is not None:
            message = answer.get("error") or answer.get("message")
        elif response.headers.get("Content-Type", "").startswith("text/"):
            message = response.text
        said = f"{summary} (HTTP {response.status_code})"
        return self._hidden(f"{said}: {message}" if isinstance(message, str) and message else said)

    @property
    def _host(self) -> str:
        return urlsplit(self._account.url or "").hostname or "the webhook"

    def _hidden(self, text: str) -> str:
        return excerpt(text, hide=(self._account.url, self._account.secret), limit=300)


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        answer = response.json()
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None

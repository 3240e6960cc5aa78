"""SendGrid delivery: one Mail Send request per role set and up to 1,000 contacts, through the
official `sendgrid` library.

The compiled content travels once per request with its placeholders in, and SendGrid fills
them per contact from the personalization's substitutions (sendgrid_payload builds the
bodies within SendGrid's limits). What each answer means:

- 202: every message of the request is sent; X-Message-Id is kept as the provider's id.
- 400: SendGrid names the personalizations it refuses; those contacts fail alone, with its
  reason, and the rest of the request is sent again at once. A 400 that names no contact
  (the sender, the content), or refuses all for what they share, pauses the edition.
- 401, 403, 413, a redirect (never followed) and any other 4xx: only a person can fix it;
  the edition pauses.
- 429: nothing is sent until the time Retry-After or X-RateLimit-Reset gives, plus jitter;
  the messages wait in the queue without spending an attempt.
- 500, 503, or no connection before the request was sent: deferred, tried with backoff.
- 502, 504, or a timeout or reset after the request was sent: SendGrid may have taken it
  and has no idempotency key, so its messages become `unknown`, for provider events or an
  operator. Any other answer (a 2xx that is not 202) is `unknown` too, and pauses.
"""

from __future__ import annotations

import http.client
import json
import logging
import random
import urllib.error
import urllib.request
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from email.message import Message
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from commhub.delivery.backend import (
    BackendBlocked,
    DeliveryResult,
    MessageContent,
    Outcome,
    OutgoingMessage,
)
from commhub.delivery.sendgrid_payload import (
    EncodedPersonalization,
    LimitBroken,
    MailRequest,
    Refusal,
    SharedBody,
    describe_errors,
    encode_personalization,
    pack,
    refused_personalizations,
    shared_body,
    too_large,
)
from commhub.store import utcnow

# python_http_client serialises any body whose Content-Type is exactly application/json;
# with the charset named it sends our ready-made JSON string as it is.
CONTENT_TYPE = "application/json; charset=utf-8"
ACCEPTED = 202
# A gateway's timeout or bad answer comes after the request reached it: in doubt.
IN_DOUBT_STATUSES = frozenset({502, 504})
DEFAULT_RATE_LIMIT_WAIT = 5.0  # seconds, when a 429 says nothing about when to come back
# A 400 names the contacts it refuses; each round takes them out and sends the rest again.
MAX_REFUSAL_ROUNDS = 5


class SendGridBackend:
    name = "sendgrid"
    max_batch = 1000  # SendGrid's personalizations per request

    def __init__(
        self,
        api_key: str,
        host: str,
        timeout: float = 30.0,
        now: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        _keep_requests_out_of_debug_logs()
        self._api_key = api_key
        self._endpoint = _mail_send_endpoint(api_key, host)
        self.host = host
        self.timeout = timeout
        self._now = now
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        # Each role set's body, built once and kept while its content is in use.
        self._shared: weakref.WeakKeyDictionary[MessageContent, SharedBody] = (
            weakref.WeakKeyDictionary()
        )
        # After a 429, nothing is sent before this time, whichever edition asks.
        self._not_before: datetime | None = None

    def send(self, batch: Sequence[OutgoingMessage]) -> list[DeliveryResult]:
        results: list[DeliveryResult] = []
        requests: list[MailRequest] = []
        for content, messages in _by_content(batch).items():
            shared = self._shared_body(content)
            problem = too_large(shared)
            if problem:
                # A problem every contact of the role set shares: a person must fix it.
                raise BackendBlocked(f"role set {content.role_set}: {problem}", results)
            parts: list[EncodedPersonalization] = []
            for message in messages:
                encoded = encode_personalization(message, shared)
                if isinstance(encoded, LimitBroken):
                    results.append(
                        DeliveryResult(encoded.message_id, Outcome.FAILED, encoded.reason)
                    )
                else:
                    parts.append(encoded)
            requests += pack(shared, parts)
        for index, request in enumerate(requests):
            try:
                delivered = self._deliver(request)
            except BackendBlocked as exc:
                raise BackendBlocked(exc.reason, results + exc.results) from None
            except Exception as exc:
                # A bug, or a key http.client cannot send: keep what SendGrid has answered.
                reason = self._redacted(f"{type(exc).__name__}: {exc}")
                in_doubt = [
                    DeliveryResult(m, Outcome.UNKNOWN, f"sending failed unexpectedly: {reason}")
                    for m in request.message_ids
                ]
                raise BackendBlocked(
                    f"sending to SendGrid failed unexpectedly: {reason}", results + in_doubt
                ) from exc
            results += delivered.results
            if delivered.stop:
                detail = f"not sent: {delivered.stop.detail}"
                results += [
                    DeliveryResult(message_id, Outcome.DEFERRED, detail, delivered.stop.wait)
                    for later in requests[index + 1 :]
                    for message_id in later.message_ids
                ]
                break
        return results

    def close(self) -> None:
        """Nothing to release: each request opens and closes its own connection."""

    def _shared_body(self, content: MessageContent) -> SharedBody:
        shared = self._shared.get(content)
        if shared is None:
            shared = self._shared[content] = shared_body(content)
        return shared

    def _deliver(self, request: MailRequest) -> _Delivered:
        """Send one request, taking out the contacts a 400 refuses and sending the rest."""
        delivered = _Delivered()
        try:
            for _round in range(MAX_REFUSAL_ROUNDS):
                waiting = self._wait_for_rate_limit()
                if waiting:
                    return delivered.stopped(request, waiting)
                answer = self._post(request)
                if isinstance(answer, _Stop):
                    return delivered.stopped(request, answer)
                if isinstance(answer, _Accepted):
                    delivered.add(request.message_ids, Outcome.SENT, answer.provider_id)
                    return delivered
                for index, refusal in answer.items():
                    delivered.add([request.parts[index].message_id], Outcome.FAILED,
                                  detail=refusal)  # fmt: skip
                request = request.without(request.parts[i].message_id for i in answer)
                if not request.parts:
                    return delivered
        except BackendBlocked as exc:
            raise BackendBlocked(exc.reason, delivered.results + exc.results) from None
        stop = _Stop(f"SendGrid refused contacts in {MAX_REFUSAL_ROUNDS} rounds in a row", None)
        return delivered.stopped(request, stop)

    def _post(self, request: MailRequest) -> _Accepted | dict[int, str] | _Stop:
        """SendGrid's answer: accepted (202), the refused contacts (400), or a stop."""
        try:
            response = self._endpoint.post(request_body=request.body(), timeout=self.timeout)
        except HTTPError as exc:
            return self._refusal(exc, request)
        except urllib.error.URLError as exc:
            # urllib wraps only what fails while connecting or sending: nothing arrived.
            return _Stop(f"cannot reach SendGrid at {self.host}: {exc.reason}", None)
        except (OSError, http.client.HTTPException) as exc:
            # The request left and no answer came: SendGrid may have taken it.
            return _Stop(
                f"no answer from SendGrid after the request was sent: {_describe(exc)}",
                None, in_doubt=True,
            )  # fmt: skip
        if response.status_code != ACCEPTED:
            # Not SendGrid's answer to a mail send (a proxy's?): whether it was taken is
            # unknown, and only a person can tell what answers in its place.
            raise BackendBlocked(
                f"{self.host} answered {response.status_code}, not SendGrid's 202",
                [DeliveryResult(m, Outcome.UNKNOWN, f"answered {response.status_code}")
                 for m in request.message_ids],
            )  # fmt: skip
        return _Accepted(response.headers.get("X-Message-Id") or None)

    def _refusal(self, exc: HTTPError, request: MailRequest) -> dict[int, str] | _Stop:
        status = int(exc.status_code)
        errors = _json(exc.body)
        detail = f"{status} {describe_errors(errors) if errors is not None else exc.reason}"
        if status == 429:
            wait = self._rate_limit_wait(exc.headers)
            self._not_before = self._now() + timedelta(seconds=wait)
            return _Stop(f"SendGrid asks us to slow down ({detail})", wait)
        if status in IN_DOUBT_STATUSES:
            # A gateway gave up waiting for SendGrid, which may have taken the request.
            return _Stop(f"SendGrid's gateway answered {detail}", None, in_doubt=True)
        if status >= 500:
            return _Stop(f"SendGrid is failing: {detail}", _retry_after(exc.headers, self._now()))
        if status == 400:
            refusals = {
                i: refusal
                for i, refusal in refused_personalizations(errors).items()
                if i < len(request.parts)
            }
            if refusals and not _shared_cause(refusals, len(request.parts)):
                return {i: refusal.reason for i, refusal in refusals.items()}
            raise BackendBlocked(f"SendGrid refused the request for every contact: {detail}")
        meaning = {
            401: "the API key was refused (SENDGRID_API_KEY)",
            403: "the API key may not send this (its scopes, or an unverified sender)",
            413: "the request was too large",
        }.get(status, "the request was refused")
        raise BackendBlocked(f"SendGrid: {meaning}: {detail}")

    def _redacted(self, text: str) -> str:
        """text without the API key, as it is or as Python quotes it in an error."""
        key = self._api_key
        forms = {key, repr(key)[1:-1], repr(key.encode())[2:-1]} - {""}
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, "SG.…")
        return text

    def _rate_limit_wait(self, headers: Message | None) -> float:
        now = self._now()
        wait = _retry_after(headers, now)
        if wait is None and headers is not None and headers.get("X-RateLimit-Reset"):
            try:
                reset = float(headers["X-RateLimit-Reset"])
            except ValueError:
                reset = 0.0
            wait = max(0.0, reset - now.timestamp())
        base = DEFAULT_RATE_LIMIT_WAIT if wait is None else wait
        # Jitter, so that senders told the same time do not all come back at once.
        return base + self._rng.uniform(0.0, max(1.0, base * 0.1))

    def _wait_for_rate_limit(self) -> _Stop | None:
        if self._not_before is None:
            return None
        remaining = (self._not_before - self._now()).total_seconds()
        if remaining <= 0:
            self._not_before = None
            return None
        until = f"{self._not_before:%H:%M:%S} UTC"
        return _Stop(f"SendGrid rate limit: nothing is sent before {until}", remaining)


class _Accepted(NamedTuple):
    provider_id: str | None  # SendGrid's X-Message-Id, shared by the request's messages


class _Stop:
    """Why a request and the rest of the batch were not sent, and how long to wait."""

    def __init__(self, detail: str, wait: float | None, in_doubt: bool = False) -> None:
        self.detail = detail
        self.wait = wait
        self.in_doubt = in_doubt


class _Delivered:
    """The results of one request, and whether the batch must stop after it."""

    def __init__(self) -> None:
        self.results: list[DeliveryResult] = []
        self.stop: _Stop | None = None

    def add(
        self,
        message_ids: Sequence[int],
        outcome: Outcome,
        provider_message_id: str | None = None,
        detail: str = "",
    ) -> None:
        self.results += [
            DeliveryResult(m, outcome, detail, provider_message_id=provider_message_id)
            for m in message_ids
        ]

    def stopped(self, request: MailRequest, stop: _Stop) -> _Delivered:
        outcome = Outcome.UNKNOWN if stop.in_doubt else Outcome.DEFERRED
        self.results += [
            DeliveryResult(m, outcome, stop.detail, stop.wait) for m in request.message_ids
        ]
        self.stop = stop
        return self


def _shared_cause(refusals: dict[int, Refusal], parts: int) -> bool:
    """Whether a 400 refusing every contact of a request refuses what they share (a header
    we write alike for all) rather than each contact's own address."""
    return (
        parts > 1
        and len(refusals) == parts
        and not any(".to." in refusal.field for refusal in refusals.values())
    )


def _mail_send_endpoint(api_key: str, host: str) -> Any:
    """The library's client for POST /v3/mail/send, made once, following no redirects.

    urllib follows a 301-303 with a GET that carries the Authorization header to wherever
    it points; a 3xx here is refused (an HTTPError) and pauses the edition instead.
    """
    endpoint = SendGridAPIClient(api_key=api_key, host=host).client.mail.send
    endpoint.request_headers = {**endpoint.request_headers, "Content-Type": CONTENT_TYPE}
    opener = urllib.request.build_opener(_RefuseRedirects)
    library_request = endpoint._make_request
    # python_http_client builds a default opener per call; its documented seam for tests,
    # _make_request, is where ours takes its place.
    endpoint._make_request = lambda _default, request, timeout=None: library_request(
        opener, request, timeout
    )
    return endpoint


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


class _DropDebugRecords(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def _keep_requests_out_of_debug_logs() -> None:
    """python_http_client logs every request's headers (the API key among them) and whole
    body (contacts' data) at DEBUG; a verbose log configuration must not write them out."""
    library_log = logging.getLogger("python_http_client.client")
    if not any(isinstance(f, _DropDebugRecords) for f in library_log.filters):
        library_log.addFilter(_DropDebugRecords())


def _by_content(batch: Sequence[OutgoingMessage]) -> dict[MessageContent, list[OutgoingMessage]]:
    groups: dict[MessageContent, list[OutgoingMessage]] = {}
    for message in batch:
        groups.setdefault(message.content, []).append(message)
    return groups


def _retry_after(headers: Message | None, now: datetime) -> float | None:
    """Seconds a Retry-After header asks for (a number, or an HTTP date), if any."""
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
    except (TypeError, ValueError):
        return None


def _json(body: bytes | None) -> object:
    try:
        return json.loads(body or b"")
    except ValueError:
        return None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__

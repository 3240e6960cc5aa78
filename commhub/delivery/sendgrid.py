"""SendGrid delivery: one Mail Send request per role set and up to 1,000 contacts, as Twilio's
official `sendgrid` library makes it.

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

The HTTP underneath is a SendGridTransport handed to the back end (UrllibTransport unless
a test passes its own): it posts one request and returns whatever came back, or says whether
a request that got no answer could have reached SendGrid (NoAnswerError) or not
(NotSentError). The back end alone decides what each answer means for the messages.
"""

from __future__ import annotations

import http.client
import json
import logging
import random
import urllib.error
import urllib.request
import weakref
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

from python_http_client.client import Response
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

# Our bodies are ready-made JSON in UTF-8, sent as they are. (python_http_client, through
# which the benchmark's baseline posts, would re-serialise a body whose Content-Type is
# exactly application/json; with the charset named it leaves it alone.)
CONTENT_TYPE = "application/json; charset=utf-8"
MAIL_SEND_PATH = "/v3/mail/send"
ACCEPTED = 202
# A gateway's timeout or bad answer comes after the request reached it: in doubt.
IN_DOUBT_STATUSES = frozenset({502, 504})
DEFAULT_RATE_LIMIT_WAIT = 5.0  # seconds, when a 429 says nothing about when to come back
# A 400 names the contacts it refuses; each round takes them out and sends the rest again.
MAX_REFUSAL_ROUNDS = 5


class HttpAnswer(NamedTuple):
    """What the server answered, whatever the status (a refused redirect included)."""

    status: int
    reason: str = ""
    headers: Mapping[str, str] = MappingProxyType({})
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of a header; names compare without case, as HTTP's do."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


class TransportError(Exception):
    """A request that got no answer; str() says why, without the API key."""


class NotSentError(TransportError):
    """The request did not leave this machine whole (no connection): SendGrid has nothing."""


class NoAnswerError(TransportError):
    """The request left and no answer came (a timeout, a reset): SendGrid may have it."""


class SendGridTransport(Protocol):
    """The HTTP under the back end: one POST, answered or not."""

    def post(self, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> HttpAnswer:
        """POST body to url and return the answer, whatever its status, never following a
        redirect; raise NotSentError or NoAnswerError when no answer came."""
        ...


class UrllibTransport:
    """The default transport: urllib as python_http_client drives it, redirects refused.

    The library's own post() builds a fresh opener per call that follows a 301-303 with a
    GET carrying the Authorization header to wherever it points; this one refuses every
    redirect (an answer like any other refusal, which pauses the edition), and reads the
    answers with the library's public Response and HTTPError as its post() does.
    """

    def __init__(self) -> None:
        self._opener = urllib.request.build_opener(_RefuseRedirects)

    def post(self, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> HttpAnswer:
        # The host is an http(s) URL, as load_settings checks (plain http only to this machine).
        request = urllib.request.Request(  # noqa: S310
            url, data=body, headers=dict(headers), method="POST"
        )
        try:
            try:
                response = Response(self._opener.open(request, timeout=timeout))
                return _answer(response.status_code, "", response.headers, response.body)
            except urllib.error.HTTPError as exc:
                # urllib raises every answer outside 2xx; reading its body may still fail,
                # which the handlers below take as no answer.
                error = HTTPError(exc)
                return _answer(error.status_code, error.reason, error.headers, error.body)
        except urllib.error.URLError as exc:
            # urllib wraps only what fails while connecting or sending: nothing arrived.
            raise NotSentError(str(exc.reason)) from exc
        except (OSError, http.client.HTTPException) as exc:
            # The request left and no answer came: SendGrid may have taken it.
            raise NoAnswerError(_describe(exc)) from exc


def _answer(status: Any, reason: Any, headers: Any, body: Any) -> HttpAnswer:
    """An HttpAnswer from the library's reading of a urllib answer (an HTTPMessage)."""
    first: dict[str, str] = {}
    for name, value in headers.items() if headers is not None else ():
        first.setdefault(name, value)  # a repeated header: the first counts, as in .get()
    return HttpAnswer(int(status), str(reason or ""), first, body or b"")


class SendGridBackend:
    """Sends batches as Mail Send requests over a transport (UrllibTransport unless given)."""

    name = "sendgrid"
    max_batch = 1000  # SendGrid's personalizations per request

    def __init__(
        self,
        api_key: str,
        host: str,
        timeout: float = 30.0,
        now: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        *,
        transport: SendGridTransport | None = None,
    ) -> None:
        _keep_requests_out_of_debug_logs()
        self._api_key = api_key
        # The official library says what a request carries (the key, its user agent).
        library = SendGridAPIClient(api_key=api_key, host=host).client
        self._url = f"{host}{MAIL_SEND_PATH}"
        self._headers: dict[str, str] = {**library.request_headers, "Content-Type": CONTENT_TYPE}
        self._transport: SendGridTransport = transport or UrllibTransport()
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
        body = request.body().encode("utf-8")
        try:
            answer = self._transport.post(self._url, self._headers, body, self.timeout)
        except NotSentError as exc:
            return _Stop(f"cannot reach SendGrid at {self.host}: {exc}", None)
        except NoAnswerError as exc:
            return _Stop(
                f"no answer from SendGrid after the request was sent: {exc}", None, in_doubt=True
            )
        if not 200 <= answer.status < 300:
            return self._refusal(answer, request)
        if answer.status != ACCEPTED:
            # Not SendGrid's answer to a mail send (a proxy's?): whether it was taken is
            # unknown, and only a person can tell what answers in its place.
            raise BackendBlocked(
                f"{self.host} answered {answer.status}, not SendGrid's 202",
                [DeliveryResult(m, Outcome.UNKNOWN, f"answered {answer.status}")
                 for m in request.message_ids],
            )  # fmt: skip
        return _Accepted(answer.header("X-Message-Id") or None)

    def _refusal(self, answer: HttpAnswer, request: MailRequest) -> dict[int, str] | _Stop:
        status = answer.status
        errors = _json(answer.body)
        detail = f"{status} {describe_errors(errors) if errors is not None else answer.reason}"
        if status == 429:
            wait = self._rate_limit_wait(answer)
            self._not_before = self._now() + timedelta(seconds=wait)
            return _Stop(f"SendGrid asks us to slow down ({detail})", wait)
        if status in IN_DOUBT_STATUSES:
            # A gateway gave up waiting for SendGrid, which may have taken the request.
            return _Stop(f"SendGrid's gateway answered {detail}", None, in_doubt=True)
        if status >= 500:
            return _Stop(f"SendGrid is failing: {detail}", _retry_after(answer, self._now()))
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

    def _rate_limit_wait(self, answer: HttpAnswer) -> float:
        now = self._now()
        wait = _retry_after(answer, now)
        if wait is None and (reset_header := answer.header("X-RateLimit-Reset")):
            try:
                reset = float(reset_header)
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


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


class _DropDebugRecords(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def _keep_requests_out_of_debug_logs() -> None:
    """python_http_client logs every request's headers (the API key among them) and whole
    body (contacts' data) at DEBUG; a verbose log configuration must not write them out.

    The default transport goes around the library's post(), but a transport passed in may
    well use it.
    """
    library_log = logging.getLogger("python_http_client.client")
    if not any(isinstance(f, _DropDebugRecords) for f in library_log.filters):
        library_log.addFilter(_DropDebugRecords())


def _by_content(batch: Sequence[OutgoingMessage]) -> dict[MessageContent, list[OutgoingMessage]]:
    groups: dict[MessageContent, list[OutgoingMessage]] = {}
    for message in batch:
        groups.setdefault(message.content, []).append(message)
    return groups


def _retry_after(answer: HttpAnswer, now: datetime) -> float | None:
    """Seconds a Retry-After header asks for (a number, or an HTTP date), if any."""
    value = answer.header("Retry-After")
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

"""A fake SendGrid v3 Mail Send API: a real HTTP server on a loopback port.

It exists so that the SendGrid delivery backend is tested the way it runs in production:
the official `sendgrid` library builds the request, urllib sends it over a socket, and this
server answers as SendGrid documents (202 and X-Message-Id; 400 with every validation
error in SendGrid's `{"errors": [...]}` shape and field paths; 401, 413, 415, 429, 5xx).
Nothing inside the library is mocked. Tests script failures on it (`answer_next`,
`hang_next`, `drop_next`, `reject_address`, `slow_down`) and inspect what it accepted.

    with FakeSendGrid() as fake:
        client = SendGridAPIClient(fake.api_key, host=fake.url)
        client.client.mail.send.post(request_body={...})
        fake.counts()["bob@example.com"]  # -> 1

A benchmark runs it as a process: `python -m tests.sendgrid_fake [--port 0] [--api-key K]`
prints its URL on the first line of stdout and serves until SIGTERM or SIGINT.

Messages and limits come from SendGrid's docs: the v3 Mail Send errors page and reference
(1000 personalizations, 1000 recipients, custom_args under 10,000 bytes after merging,
reserved headers, total request under 30 MB) and the substitution tags page
(substitutions limited to 50,000 bytes per personalization block).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import re
import secrets
import signal
import socket
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import urlsplit

DEFAULT_API_KEY = "SG.fake-key"
MAIL_SEND_PATH = "/v3/mail/send"

MAX_BODY_BYTES = 30 * 1024 * 1024
MAX_PERSONALIZATIONS = 1000
MAX_RECIPIENTS = 1000
MAX_CUSTOM_ARGS_BYTES = 10_000  # must be under this, after merging with the top level
MAX_SUBSTITUTIONS_BYTES = 50_000
MAX_ADDRESS_LENGTH = 320
# Headers SendGrid sets itself and refuses from callers (compared in lower case).
RESERVED_HEADERS = frozenset(
    {"x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type"}
    | {"content-transfer-encoding", "to", "from", "subject", "reply-to", "cc", "bcc"}
)
# Rate limit SendGrid documents for mail send (10,000 requests per second); reported in
# X-RateLimit-Limit when a scripted 429 carries rate limit headers.
RATE_LIMIT = 10_000

HELP_URL = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message."
INVALID_ADDRESS = "Does not contain a valid address."
AUTH_FAILED = "The provided authorization grant is invalid, expired, or revoked"
EMAIL_OBJECT_EXAMPLE = (
    'e.g. {"email": "example@example.com"} or '
    '{"email": "example@example.com", "name": "Example Recipient"}'
)
DEFAULT_MESSAGES = {
    400: "Bad Request",
    401: AUTH_FAILED,
    403: "access forbidden",
    404: "resource not found",
    405: "method not allowed",
    413: "The JSON payload you have included in your request is too large.",
    415: "Content-Type should be application/json.",
    429: "too many requests",
    500: "An error occurred on a SendGrid server.",
    503: "The SendGrid v3 Web API is not available.",
}

# A simple check, not RFC 5321: one @, no whitespace, a domain with a dot. SendGrid's own
# is stricter; tests that need an address refused use FakeSendGrid.reject_address.
_ADDRESS = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
_INDEX = re.compile(r"\.\d+")

ErrorDict = dict[str, str | None]


def error(message: str, field: str | None = None, help_url: str | None = None) -> ErrorDict:
    """One entry of SendGrid's `errors` array."""
    return {"message": message, "field": field, "help": help_url}


def errors_body(*errors: ErrorDict) -> dict[str, Any]:
    return {"errors": list(errors)}


def _help(field: str) -> str:
    # SendGrid links each error to its table on the errors page: indices and a final
    # `.email` are dropped, e.g. from.email -> #message.from.
    anchor = _INDEX.sub("", field)
    return HELP_URL + anchor.removesuffix(".email")


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


class _Validation:
    """One pass over a Mail Send body, collecting every error as SendGrid does."""

    def __init__(self, rejected: Mapping[str, str]) -> None:
        self.rejected = rejected
        self.errors: list[ErrorDict] = []

    def add(self, message: str, field: str) -> None:
        self.errors.append(error(message, field, _help(field)))

    def wrong_type(self, expected: str, value: object, field: str) -> None:
        self.add(f"Invalid type. Expected: {expected}, given: {_type_name(value)}.", field)

    def run(self, body: object) -> list[ErrorDict]:
        if not isinstance(body, dict):
            self.errors.append(error(f"Invalid type. Expected: object, given: {_type_name(body)}."))
            return self.errors
        template = body.get("template_id")
        if template is not None and not isinstance(template, str):
            self.add(f"The template ID must be a string, you provided {template}.", "template_id")
        with_template = isinstance(template, str) and bool(template)
        top_args = self.custom_args(body.get("custom_args"), "custom_args")
        every_one_has_subject = self.personalizations(body.get("personalizations"), top_args)
        self.sender(body.get("from"))
        self.reply_to(body)
        self.subject(body, every_one_has_subject or with_template)
        self.content(body, with_template)
        self.headers(body.get("headers"), "headers", top_level=True)
        return self.errors

    # -- personalizations ------------------------------------------------------------

    def personalizations(self, value: object, top_args: dict[str, str] | None) -> bool:
        """Check every personalization; True when each one has its own subject."""
        if value is not None and not isinstance(value, list):
            self.wrong_type("array", value, "personalizations")
            return False
        if not value:
            self.add("You must have at least one personalization.", "personalizations")
            return False
        if len(value) > MAX_PERSONALIZATIONS:
            self.add(
                f"The personalization block is limited to {MAX_PERSONALIZATIONS} "
                f"personalizations per API request. You have provided {len(value)} "
                "personalizations. Please consider splitting this into multiple requests "
                "and resending your request.",
                "personalizations",
            )
        seen: set[str] = set()  # lower-cased addresses, across all personalizations
        recipients = 0
        every_one_has_subject = True
        for i, item in enumerate(value):
            field = f"personalizations.{i}"
            if not isinstance(item, dict):
                self.wrong_type("object", item, field)
                every_one_has_subject = False
                continue
            for kind in ("to", "cc", "bcc"):
                recipients += self.recipients(item.get(kind), kind, f"{field}.{kind}", seen)
            subject = item.get("subject")
            if subject is None:
                every_one_has_subject = False
            elif not isinstance(subject, str) or not subject:
                self.add(
                    "The subject of your email must be a string at least one character in length.",
                    f"{field}.subject",
                )
                every_one_has_subject = False
            self.headers(item.get("headers"), f"{field}.headers", top_level=False)
            self.substitutions(item.get("substitutions"), f"{field}.substitutions")
            self.merged_custom_args(item.get("custom_args"), top_args, f"{field}.custom_args")
        if recipients > MAX_RECIPIENTS:
            self.add(
                f"There is a limit of {MAX_RECIPIENTS} total recipients (to + cc + bcc) per "
                "request.",
                "personalizations",
            )
        return every_one_has_subject

    def recipients(self, value: object, kind: str, field: str, seen: set[str]) -> int:
        """Check one to/cc/bcc list; return how many recipients it holds."""
        if value is None or value == []:
            if kind == "to":
                self.add("The to parameter is required for all personalization objects.", field)
            return 0
        if not isinstance(value, list):
            self.wrong_type("array", value, field)
            return 0
        label = {"to": "To", "cc": "CC", "bcc": "BCC"}[kind]
        for j, recipient in enumerate(value):
            at = f"{field}.{j}"
            if not isinstance(recipient, dict) or not isinstance(recipient.get("email"), str):
                what = '"to" object' if kind == "to" else "recipient object"
                self.add(
                    f"Each {what} must at least have an email address and may also contain a "
                    f"name. {EMAIL_OBJECT_EXAMPLE}",
                    at,
                )
                continue
            address: str = recipient["email"]
            self.address(address, f"{at}.email", label)
            name = recipient.get("name")
            if name is not None and not isinstance(name, str):
                self.wrong_type("string", name, f"{at}.name")
            key = address.lower()
            if key in seen:
                self.add(
                    "Each unique email address in the personalizations array should only be "
                    f"included once. You have included {address} more than once.",
                    f"{at}.email",
                )
            seen.add(key)
        return len(value)

    def address(self, address: str, field: str, label: str) -> None:
        if len(address) > MAX_ADDRESS_LENGTH:
            self.add(
                f"The {label} email exceeds the maximum total length of "
                f"{MAX_ADDRESS_LENGTH} characters",
                field,
            )
        elif not _ADDRESS.fullmatch(address):
            self.add(INVALID_ADDRESS, field)
        elif self.rejected and (message := self.rejected.get(address.lower())):
            self.add(message, field)

    def substitutions(self, value: object, field: str) -> None:
        if value is None:
            return
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            self.add(
                "The substitution values must be an object of key/value pairs, where the "
                "values are all strings.",
                field,
            )
            return
        # A character is at most 4 bytes in UTF-8: measure exactly only when it may matter.
        chars = sum(len(k) + len(v) for k, v in value.items())
        if chars * 4 < MAX_SUBSTITUTIONS_BYTES:
            return
        size = sum(len(k.encode()) + len(v.encode()) for k, v in value.items())
        if size >= MAX_SUBSTITUTIONS_BYTES:
            self.add(
                f"Substitutions are limited to {MAX_SUBSTITUTIONS_BYTES:,} bytes per "
                "personalization block.",
                field,
            )

    def custom_args(self, value: object, field: str) -> dict[str, str] | None:
        """Check a custom_args object; return it when well formed (for merging)."""
        if value is None:
            return None
        if not isinstance(value, dict):
            self.wrong_type("object", value, field)
            return None
        if not value:
            self.add("custom_args cannot be empty.", field)
            return None
        if not all(isinstance(v, str) for v in value.values()):
            self.add("All values of custom arguments object must be strings", field)
            return None
        return value

    def merged_custom_args(
        self, value: object, top_args: dict[str, str] | None, field: str
    ) -> None:
        own = self.custom_args(value, field)
        if own is None and value is not None:
            return  # already reported
        # Personalization keys override the top level's; the limit is on the merged object,
        # measured as its compact JSON in UTF-8.
        merged = {**top_args, **own} if top_args and own else (own or top_args)
        if not merged:
            return
        # Serialising is the costly part, so skip it when even the worst case fits: a
        # character takes at most 6 bytes in JSON (\uXXXX), a pair 6 more ("":"",).
        if 2 + sum(6 * (len(k) + len(v) + 1) for k, v in merged.items()) < MAX_CUSTOM_ARGS_BYTES:
            return
        size = len(json.dumps(merged, separators=(",", ":"), ensure_ascii=False).encode())
        if size >= MAX_CUSTOM_ARGS_BYTES:
            self.add(
                "The combined size of both global and personalization custom arguments may "
                f"not exceed {MAX_CUSTOM_ARGS_BYTES:,} bytes per personalization.",
                field,
            )

    # -- the rest of the message -----------------------------------------------------

    def sender(self, value: object) -> None:
        if not isinstance(value, dict):
            self.add(
                "The from object must be provided for every email send. It is an object that "
                "requires the email parameter, but may also contain a name parameter. "
                + EMAIL_OBJECT_EXAMPLE,
                "from",
            )
            return
        address = value.get("email")
        if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
            self.add("The from email does not contain a valid address.", "from.email")
        elif len(address) > MAX_ADDRESS_LENGTH:
            self.add(
                f"The From email exceeds the maximum total length of {MAX_ADDRESS_LENGTH} "
                "characters",
                "from.email",
            )

    def reply_to(self, body: dict[str, Any]) -> None:
        value = body.get("reply_to")
        if value is None:
            return
        address = value.get("email") if isinstance(value, dict) else None
        if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
            self.add(
                "The reply_to object, when used, must at least have an email parameter with a "
                "valid email address and it may also contain a name parameter. "
                + EMAIL_OBJECT_EXAMPLE,
                "reply_to.email",
            )

    def subject(self, body: dict[str, Any], not_needed: bool) -> None:
        subject = body.get("subject")
        if subject is not None and (not isinstance(subject, str) or not subject):
            self.add(
                "The subject of your email must be a string at least one character in length.",
                "subject",
            )
        elif subject is None and not not_needed:
            self.add(
                "The subject is required. You can get around this requirement if you use a "
                "template with a subject defined or if every personalization has a subject "
                "defined.",
                "subject",
            )

    def content(self, body: dict[str, Any], with_template: bool) -> None:
        value = body.get("content")
        if value is None or value == []:
            if with_template:
                return
            self.add(
                "The content param is required unless you are using a transactional template "
                "and have defined a template_ID."
                if value is None
                else "There must be at least one defined content block. We typically suggest "
                "both text/plain and text/html blocks are included, but only one block is "
                "required.",
                "content",
            )
            return
        if not isinstance(value, list):
            self.wrong_type("array", value, "content")
            return
        # text/plain first, then text/html, then anything else (RFC 1341, section 7.2).
        rank = {"text/plain": 0, "text/html": 1}
        highest = 0
        for i, block in enumerate(value):
            field = f"content.{i}"
            if not isinstance(block, dict):
                self.wrong_type("object", block, field)
                continue
            kind, text = block.get("type"), block.get("value")
            if not isinstance(kind, str) or not kind:
                self.add(
                    "Your content type must be a string with length of at least one character.",
                    f"{field}.type",
                )
            elif ";" in kind or "\r" in kind or "\n" in kind:
                self.add("Cannot contain ';', or CRLF characters.", f"{field}.type")
            elif (order := rank.get(kind.lower(), 2)) < highest:
                self.add(
                    "Following RFC 1341, section 7.2, if either text/html or text/plain are to "
                    "be sent in your email: text/plain needs to be first, followed by "
                    "text/html, followed by any other content.",
                    f"{field}.value",
                )
            else:
                highest = order
            if not isinstance(text, str) or not text:
                self.add(
                    "The content value must be a string at least one character in length.",
                    f"{field}.value",
                )

    def headers(self, value: object, field: str, *, top_level: bool) -> None:
        if value is None:
            return
        if not isinstance(value, dict):
            self.wrong_type("object", value, field)
            return
        # The errors page words these slightly differently for the two levels.
        problems: dict[str, None] = {}  # ordered set: each message once per object
        names: set[str] = set()
        for name, header in value.items():
            lower = name.lower()
            if not isinstance(header, str):
                problems[
                    "The header values must be strings."
                    if top_level
                    else "All values of the headers object must be strings."
                ] = None
            if not name or not name.isascii() or any(c.isspace() for c in name):
                problems[
                    "Header keys cannot contain non-ASCII characters "
                    + ("and empty spaces." if top_level else "or empty spaces.")
                ] = None
            if lower in RESERVED_HEADERS:
                problems[
                    f"Header {'can not' if top_level else 'cannot'} be one of the reserved keys."
                ] = None
            if lower in names:
                problems["The headers cannot contain duplicate keys."] = None
            names.add(lower)
        for message in problems:
            self.add(message, field)


def validate(body: object, rejected: Mapping[str, str] | None = None) -> list[ErrorDict]:
    """Every error SendGrid would report for this Mail Send body; [] when it is acceptable.

    `rejected` maps lower-cased addresses to the message to refuse them with.
    """
    return _Validation(rejected or {}).run(body)


def recipients_of(personalization: Mapping[str, Any]) -> list[str]:
    """The to, cc and bcc addresses of one (valid) personalization."""
    return [
        r["email"]
        for kind in ("to", "cc", "bcc")
        for r in personalization.get(kind) or ()
        if isinstance(r, dict) and isinstance(r.get("email"), str)
    ]


# -- the server ---------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """An answer to send: status, JSON body (None: empty) and extra headers."""

    status: int
    body: dict[str, Any] | None = None
    headers: tuple[tuple[str, str], ...] = ()
    close: bool = False


@dataclass(frozen=True)
class _Hang:
    """Answer nothing until release() is called more often than `generation` times."""

    generation: int


@dataclass(frozen=True)
class _Drop:
    """Close the connection at once, without answering."""


class FakeSendGrid:
    """SendGrid's `POST /v3/mail/send` on 127.0.0.1, in daemon threads of this process."""

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        *,
        port: int = 0,
        keep_requests: bool = True,
        sample_path: Path | None = None,
    ) -> None:
        self.api_key = api_key
        self._port = port
        # A benchmark pushes gigabytes: it keeps only the counts, and one sample body.
        self._keep_requests = keep_requests
        self._sample_path = sample_path
        self._sample_size = 0
        self._lock = threading.Lock()
        self._released = threading.Condition(self._lock)
        self._release_generation = 0
        self._stopping = False
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._requests: list[dict[str, Any]] = []
        self._message_ids: list[str | None] = []
        self._counts: Counter[str] = Counter()
        self._attempts = 0
        self._statuses: list[int] = []
        self._script: deque[Reply | _Drop | None] = deque()  # None: hang
        self._rejected: dict[str, str] = {}
        self._delay = 0.0

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> FakeSendGrid:
        if self._server is not None:
            raise RuntimeError("FakeSendGrid is already started")
        self._stopping = False
        self._server = _Server(("127.0.0.1", self._port), self)
        # A short poll interval so that stop() returns promptly.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="fake-sendgrid",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: hung requests are closed unanswered, open connections dropped."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        with self._lock:
            self._stopping = True
            self._released.notify_all()
        server.shutdown()
        server.server_close()
        # Keep-alive connections would otherwise keep being served by their threads.
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)
        thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeSendGrid:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeSendGrid is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- knobs for tests -------------------------------------------------------------

    def reject_address(self, email: str, message: str = INVALID_ADDRESS) -> None:
        """Refuse requests carrying this recipient with a 400 naming its field."""
        with self._lock:
            self._rejected[email.lower()] = message

    def answer_next(
        self,
        status: int,
        *,
        retry_after: float | None = None,
        rate_limit_reset: float | None = None,
        body: dict[str, Any] | None = None,
        times: int = 1,
        location: str | None = None,
    ) -> None:
        """Answer the next `times` requests with this, before checking them.

        They are not recorded as received, except with status 202. `retry_after` (seconds)
        becomes a Retry-After header; `rate_limit_reset` (epoch seconds) the X-RateLimit-*
        headers of SendGrid's 429; `location` a redirect's Location. Without `body`,
        SendGrid's errors body for the status.
        """
        headers: list[tuple[str, str]] = []
        if location is not None:
            headers.append(("Location", location))
        if retry_after is not None:
            headers.append(("Retry-After", str(math.ceil(retry_after))))
        if rate_limit_reset is not None:
            headers += [
                ("X-RateLimit-Limit", str(RATE_LIMIT)),
                ("X-RateLimit-Remaining", "0"),
                ("X-RateLimit-Reset", str(math.ceil(rate_limit_reset))),
            ]
        if body is None and status >= 300:
            message = DEFAULT_MESSAGES.get(status) or HTTPStatus(status).phrase
            body = errors_body(error(message))
        reply = Reply(status, body, tuple(headers))
        with self._lock:
            self._script.extend([reply] * times)

    def hang_next(self, times: int = 1) -> None:
        """Read the next `times` requests, record them, and never answer.

        Their connections stay open until `release()` or `stop()`, then close without a
        response: SendGrid may have accepted a message whose answer was lost.
        """
        with self._lock:
            self._script.extend([None] * times)

    def drop_next(self, times: int = 1) -> None:
        """Read the next `times` requests, record them, and close their connections at once
        without a response: the request reached SendGrid and its answer was lost."""
        with self._lock:
            self._script.extend([_Drop()] * times)

    def release(self) -> None:
        """Close the connections of the requests hanging now, without answering."""
        with self._lock:
            self._release_generation += 1
            self._released.notify_all()

    def slow_down(self, seconds: float) -> None:
        """Wait this long before answering each request (0 to stop)."""
        with self._lock:
            self._delay = max(0.0, seconds)

    # -- inspection ------------------------------------------------------------------

    def requests(self) -> list[dict[str, Any]]:
        """Every accepted (or hung or dropped) request body, in arrival order."""
        with self._lock:
            return list(self._requests)

    def message_ids(self) -> list[str | None]:
        """The X-Message-Id answered to each of requests() (None: never answered)."""
        with self._lock:
            return list(self._message_ids)

    def counts(self) -> Counter[str]:
        """Recipient address -> how many accepted (or hung or dropped) requests carried it."""
        with self._lock:
            return Counter(self._counts)

    def personalizations(self) -> list[dict[str, Any]]:
        """The personalizations of every accepted (or hung or dropped) request, flattened."""
        with self._lock:
            return [
                p
                for body in self._requests
                if isinstance(ps := body.get("personalizations"), list)
                for p in ps
            ]

    @property
    def attempts(self) -> int:
        """How many HTTP requests reached the server, whatever became of them."""
        with self._lock:
            return self._attempts

    @property
    def statuses(self) -> list[int]:
        """The status codes answered, in order (hung and dropped requests have none)."""
        with self._lock:
            return list(self._statuses)

    # -- request handling (called by _Handler threads) -------------------------------

    def _answer(
        self, method: str, path: str, headers: Message[str, str], raw: bytes
    ) -> Reply | _Hang | _Drop:
        """What to do with one request whose body has been read."""
        with self._lock:
            self._attempts += 1
        if urlsplit(path).path != MAIL_SEND_PATH:
            reply = Reply(404, errors_body(error(DEFAULT_MESSAGES[404])))
        elif method != "POST":
            reply = Reply(405, errors_body(error(DEFAULT_MESSAGES[405])), (("Allow", "POST"),))
        else:
            with self._lock:
                scripted = bool(self._script)
                action = self._script.popleft() if scripted else None
                generation = self._release_generation
            if not scripted:
                reply = self._check(headers, raw)
            elif action is None or isinstance(action, _Drop):
                # SendGrid may have accepted it; the answer is what gets lost.
                if (body := _parse_object(raw)) is not None:
                    self._record(body, None)
                return _Hang(generation) if action is None else action
            elif action.status == 202:
                reply = self._accept(_parse_object(raw), action)
            else:
                reply = action
        with self._lock:
            self._statuses.append(reply.status)
        return reply

    def _check(self, headers: Message[str, str], raw: bytes) -> Reply:
        if headers.get("Authorization") != f"Bearer {self.api_key}":
            return Reply(401, errors_body(error(AUTH_FAILED)))
        media_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if media_type != "application/json":
            return Reply(415, errors_body(error(DEFAULT_MESSAGES[415])))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            # SendGrid's errors page lists this one under 415, not 400.
            return Reply(415, errors_body(error("Invalid UTF8 in request")))
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            return Reply(400, errors_body(error(f"The request body is not valid JSON: {exc}")))
        with self._lock:
            rejected = dict(self._rejected)
        problems = validate(body, rejected)
        if problems:
            return Reply(400, errors_body(*problems))
        return self._accept(body, Reply(202))

    def _accept(self, body: dict[str, Any] | None, reply: Reply) -> Reply:
        # SendGrid's message ids are 22 URL-safe characters, one per request.
        message_id = secrets.token_urlsafe(16)
        if body is not None:
            self._record(body, message_id)
        return Reply(reply.status, reply.body, (*reply.headers, ("X-Message-Id", message_id)))

    def _record(self, body: dict[str, Any], message_id: str | None) -> None:
        personalizations = body.get("personalizations")
        addresses = [
            address.lower()
            for p in (personalizations if isinstance(personalizations, list) else ())
            if isinstance(p, dict)
            for address in recipients_of(p)
        ]
        with self._lock:
            if self._keep_requests:
                self._requests.append(body)
                self._message_ids.append(message_id)
            self._counts.update(addresses)
            if self._sample_path is not None and len(addresses) > self._sample_size:
                self._sample_size = len(addresses)
                self._sample_path.write_text(json.dumps(body, separators=(",", ":")))

    def _refuse_unread(self, status: int, message: str) -> Reply:
        """A reply for a request whose body will not be read: the connection closes."""
        with self._lock:
            self._attempts += 1
            self._statuses.append(status)
        return Reply(status, errors_body(error(message)), close=True)

    def _hang(self, hang: _Hang) -> None:
        with self._lock:
            while not self._stopping and self._release_generation == hang.generation:
                self._released.wait()

    def _delay_seconds(self) -> float:
        with self._lock:
            return self._delay

    def _opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def _closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)


def _parse_object(raw: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a benchmark may open many connections at once

    def __init__(self, address: tuple[str, int], fake: FakeSendGrid) -> None:
        self.fake = fake
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that goes away (timeout, reset) is routine here; anything else is a bug.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive for clients that want it
    disable_nagle_algorithm = True  # headers and body go out in two writes
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.fake._opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._closed(self.connection)

    def do_POST(self) -> None:
        fake = self.server.fake
        length = self._content_length()
        if length is None:
            return
        if length > MAX_BODY_BYTES:
            # Refuse without parsing, then drain what the client still sends so that it
            # reads the 413 rather than a connection reset.
            self._send(fake._refuse_unread(413, DEFAULT_MESSAGES[413]))
            self._drain(length)
            return
        raw = self.rfile.read(length) if length else b""
        if len(raw) < length:
            self.close_connection = True  # the client went away mid-body
            return
        reply = fake._answer(self.command, self.path, self.headers, raw)
        if delay := fake._delay_seconds():
            time.sleep(delay)
        if isinstance(reply, _Hang):
            fake._hang(reply)
        if isinstance(reply, _Hang | _Drop):
            self.close_connection = True  # without a response
            return
        self._send(reply)

    do_GET = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_POST  # noqa: N815

    def _content_length(self) -> int | None:
        header = self.headers.get("Content-Length")
        if header is None:
            if self.headers.get("Transfer-Encoding"):
                self._send(self.server.fake._refuse_unread(411, "Length Required"))
                return None
            return 0
        try:
            length = int(header)
        except ValueError:
            length = -1
        if length < 0:
            self._send(self.server.fake._refuse_unread(400, "Invalid Content-Length"))
            return None
        return length

    def _drain(self, length: int) -> None:
        self.connection.settimeout(10)
        remaining = length
        try:
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                remaining -= len(chunk)
        except OSError:
            pass
        self.close_connection = True

    def _send(self, reply: Reply) -> None:
        data = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        if reply.body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.close:
            self.send_header("Connection", "close")
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the benchmark pushes thousands of requests


# -- as a process -------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.sendgrid_fake", description="Serve a fake SendGrid Mail Send API."
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument(
        "--sample", type=Path, help="write the accepted body with most recipients to this file"
    )
    args = parser.parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with FakeSendGrid(
        args.api_key, port=args.port, keep_requests=False, sample_path=args.sample
    ) as fake:
        print(fake.url, flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())

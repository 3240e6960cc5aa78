"""Fakes of the social networks' APIs: real HTTP servers on 127.0.0.1, ephemeral ports.

So that the posters are tested the way they run: Mastodon.py (over requests) and httpx
make real requests over sockets, and these servers answer as the networks document.
Each records every request it got and checks what it was sent:

- FakeMastodon: ``POST /api/v1/statuses`` (form or JSON, as Mastodon.py sends it), the
  bearer token, Idempotency-Key as Mastodon honours it (the same key answers the status
  made the first time, and makes no other), and the 500-character limit as Mastodon counts
  it (a URL counts as 23), refused with 422 and Mastodon's ``{"error": ...}``.
- FakeLinkedIn: ``POST /rest/posts``, its headers (Authorization, LinkedIn-Version,
  X-Restli-Protocol-Version 2.0.0) and body shape; 201 with ``x-restli-id``.
- FakeWebhook: any path; verifies X-Commhub-Signature when given a secret (401 if wrong).

Failures are scripted: ``answer_next(429, retry_after=30)`` or ``answer_next(500)`` answer
the next requests without looking at them (nothing is made); ``hang_next()`` handles the
next request as usual (the status or post IS made) and holds its answer until
``release()`` or ``stop()``, so a client with a short timeout gives up after its request
left: the outcome in doubt; ``drop_next()`` handles it and closes the connection unanswered.

    with FakeMastodon() as fake:
        fake.url, fake.token    # for the poster's AccountSettings
        fake.statuses()         # what it made

In a conftest (see the fixtures in tests/delivery/test_posters.py):

    @pytest.fixture
    def mastodon_fake() -> Iterator[FakeMastodon]:
        with FakeMastodon() as fake:
            yield fake
"""

from __future__ import annotations

import contextlib
import html
import itertools
import json
import math
import re
import socket
import sys
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from commhub.delivery.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature

MASTODON_TOKEN = "mastodon-token-0123456789"
LINKEDIN_TOKEN = "linkedin-token-0123456789"
LINKEDIN_AUTHOR = "urn:li:organization:2414183"
MASTODON_STATUSES_PATH = "/api/v1/statuses"
LINKEDIN_POSTS_PATH = "/rest/posts"
MASTODON_HOST = "https://mastodon.example"
MASTODON_MAX_CHARACTERS = 500
MASTODON_URL_LENGTH = 23  # Mastodon counts every URL as this many characters
LINKEDIN_MAX_COMMENTARY = 3000
# How long a hung request is held at most, should a test forget to release it.
HANG_LIMIT_SECONDS = 30.0

_URL = re.compile(r"https?://\S+")
_LITTLE_ESCAPE = re.compile(r"\\(.)")


def unused_port() -> int:
    """A loopback port nothing listens on (bound, then closed): connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def mastodon_length(text: str) -> int:
    """A status's length as Mastodon counts it: each URL as 23 characters."""
    return len(_URL.sub("x" * MASTODON_URL_LENGTH, text))


def unescape_little(commentary: str) -> str:
    """LinkedIn commentary in little text as it shows: the backslash escapes removed."""
    return _LITTLE_ESCAPE.sub(r"\1", commentary)


@dataclass(frozen=True)
class Received:
    """One request as the server read it."""

    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        """A form-encoded body, each field's last value."""
        return {k: v[-1] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


@dataclass(frozen=True)
class Reply:
    """An answer: status, body (a dict as JSON, a str as text, None as empty), headers."""

    status: int
    body: dict[str, Any] | str | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class _Drop:
    """Handle the request as usual, then close the connection without an answer."""


class FakeApi:
    """The server, its script and its record; each network's fake says what to answer."""

    name = "fake"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._script: deque[Reply | _Drop | None] = deque()  # None: hang
        self._release = threading.Event()
        self._received: list[Received] = []
        self._statuses: list[int] = []

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError(f"{type(self).__name__} is already started")
        self._server = _Server(("127.0.0.1", 0), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"fake-{self.name}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; answers still held are let go (to clients long gone)."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self.release()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
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
            raise RuntimeError(f"{type(self).__name__} is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- the script ------------------------------------------------------------------

    def answer_next(
        self,
        status: int,
        *,
        retry_after: float | str | None = None,
        body: dict[str, Any] | str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
        times: int = 1,
    ) -> None:
        """Answer the next `times` requests with this, without handling them (nothing is
        made). `retry_after`: seconds (rounded up) or an HTTP date, as Retry-After."""
        extra = list(headers)
        if retry_after is not None:
            value = retry_after if isinstance(retry_after, str) else str(math.ceil(retry_after))
            extra.append(("Retry-After", value))
        reply = Reply(status, self._error_body(status) if body is None else body, tuple(extra))
        with self._lock:
            self._script.extend([reply] * times)

    def hang_next(self, times: int = 1) -> None:
        """Handle the next `times` requests as usual (what they post is made), and hold
        their answers until release() or stop()."""
        with self._lock:
            self._script.extend([None] * times)

    def drop_next(self, times: int = 1) -> None:
        """Handle the next `times` requests as usual (what they post is made), then close
        their connections without an answer: a reset after the request left."""
        with self._lock:
            self._script.extend([_Drop()] * times)

    def release(self) -> None:
        """Let the answers held now go."""
        with self._lock:
            self._release.set()
            self._release = threading.Event()

    # -- the record ------------------------------------------------------------------

    def requests(self) -> list[Received]:
        """Every request that arrived, in order, scripted ones included."""
        with self._lock:
            return list(self._received)

    @property
    def attempts(self) -> int:
        with self._lock:
            return len(self._received)

    @property
    def answered(self) -> list[int]:
        """The statuses answered, in order (a held answer once it is let go)."""
        with self._lock:
            return list(self._statuses)

    # -- for the network's fake ------------------------------------------------------

    def _handle(self, request: Received) -> Reply:
        raise NotImplementedError

    def _error_body(self, status: int) -> dict[str, Any] | str | None:
        """The network's body for a scripted error."""
        return None

    # -- called by the handler threads -----------------------------------------------

    def _dispatch(self, request: Received) -> tuple[Reply | None, threading.Event | None]:
        """The answer (None: close without one), and the event to hold it for, if any."""
        with self._lock:
            self._received.append(request)
            action = self._script.popleft() if self._script else False
            release = self._release
        if isinstance(action, Reply):
            return action, None
        reply = self._handle(request)
        if isinstance(action, _Drop):
            return None, None
        return reply, release if action is None else None

    def _answered(self, status: int) -> None:
        with self._lock:
            self._statuses.append(status)


class FakeMastodon(FakeApi):
    """Mastodon's ``POST /api/v1/statuses``, for one account whose token is `token`."""

    name = "mastodon"

    def __init__(
        self, token: str = MASTODON_TOKEN, max_characters: int = MASTODON_MAX_CHARACTERS
    ) -> None:
        super().__init__()
        self.token = token
        self.max_characters = max_characters
        self._made: list[dict[str, Any]] = []
        self._by_key: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(110_000_000_000_000_001)

    def statuses(self) -> list[dict[str, Any]]:
        """Every status made, in order."""
        with self._lock:
            return list(self._made)

    def _error_body(self, status: int) -> dict[str, Any] | str | None:
        if status == 429:
            return {"error": "Too many requests"}
        return {"error": "We're sorry, but something went wrong on our end."}

    def _handle(self, request: Received) -> Reply:
        if urlsplit(request.path).path != MASTODON_STATUSES_PATH:
            return Reply(404, {"error": "Record not found"})
        if request.method != "POST":
            return Reply(405, {"error": "Method not allowed"})
        if request.header("Authorization") != f"Bearer {self.token}":
            return Reply(401, {"error": "The access token is invalid"})
        params = self._params(request)
        if params is None:
            return Reply(400, {"error": "Unreadable body"})
        key = request.header("Idempotency-Key")
        with self._lock:
            if key and key in self._by_key:  # Mastodon answers the status it made then
                return Reply(200, self._by_key[key])
        text = params.get("status")
        if not isinstance(text, str) or not text.strip():
            return _mastodon_invalid("Text can't be blank")
        if mastodon_length(text) > self.max_characters:
            limit = self.max_characters
            return _mastodon_invalid(f"Text character limit of {limit} exceeded")
        visibility = params.get("visibility", "public")
        if visibility not in ("public", "unlisted", "private", "direct"):
            return _mastodon_invalid("Visibility is not included in the list")
        with self._lock:
            if key and key in self._by_key:  # a repeat that raced the first
                return Reply(200, self._by_key[key])
            status = self._status(str(next(self._ids)), text, str(visibility))
            self._made.append(status)
            if key:
                self._by_key[key] = status
        return Reply(200, status)

    @staticmethod
    def _params(request: Received) -> dict[str, Any] | None:
        kind = (request.header("Content-Type") or "").split(";")[0].strip()
        try:
            if kind == "application/json":
                params = request.json()
                return params if isinstance(params, dict) else None
            return dict(request.form())
        except ValueError:
            return None

    @staticmethod
    def _status(status_id: str, text: str, visibility: str) -> dict[str, Any]:
        """A status as Mastodon's API returns it (the fields Mastodon.py reads, and more)."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {
            "id": status_id,
            "created_at": now,
            "in_reply_to_id": None,
            "in_reply_to_account_id": None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": visibility,
            "language": "en",
            "uri": f"{MASTODON_HOST}/users/vendor/statuses/{status_id}",
            "url": f"{MASTODON_HOST}/@vendor/{status_id}",
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "edited_at": None,
            "content": "<p>" + html.escape(text).replace("\n", "<br />") + "</p>",
            "reblog": None,
            "application": {"name": "commhub", "website": None},
            "account": {
                "id": "109000000000000001",
                "username": "vendor",
                "acct": "vendor",
                "display_name": "Vendor",
                "url": f"{MASTODON_HOST}/@vendor",
                "created_at": "2024-01-01T00:00:00.000Z",
            },
            "media_attachments": [],
            "mentions": [],
            "tags": [],
            "emojis": [],
            "card": None,
            "poll": None,
        }


def _mastodon_invalid(problem: str) -> Reply:
    """Mastodon's 422 for a status it will not make."""
    return Reply(422, {"error": f"Validation failed: {problem}"})


class FakeLinkedIn(FakeApi):
    """LinkedIn's versioned ``POST /rest/posts``, for one access token."""

    name = "linkedin"

    def __init__(self, token: str = LINKEDIN_TOKEN) -> None:
        super().__init__()
        self.token = token
        self._posts: list[dict[str, Any]] = []
        self._ids = itertools.count(7_100_000_000_000_000_001)

    def posts(self) -> list[dict[str, Any]]:
        """Every post made (its body as sent, and its "id"), in order."""
        with self._lock:
            return list(self._posts)

    def _error_body(self, status: int) -> dict[str, Any] | str | None:
        message = "Too Many Requests" if status == 429 else "Internal Server Error"
        return {"status": status, "message": message}

    def _handle(self, request: Received) -> Reply:
        if urlsplit(request.path).path != LINKEDIN_POSTS_PATH:
            return Reply(404, _linkedin_error(404, "NOT_FOUND", "Resource not found"))
        if request.method != "POST":
            return Reply(405, _linkedin_error(405, "METHOD_NOT_ALLOWED", "Method not allowed"))
        if request.header("Authorization") != f"Bearer {self.token}":
            return Reply(401, _linkedin_error(401, "INVALID_ACCESS_TOKEN", "Invalid access token"))
        version = request.header("LinkedIn-Version")
        if not version:
            return Reply(400, _linkedin_error(400, "VERSION_MISSING", "A version must be present"))
        if not re.fullmatch(r"\d{6}(\.\d+)?", version):
            message = f"Requested version {version} is not active"
            return Reply(426, _linkedin_error(426, "NONEXISTENT_VERSION", message))
        if request.header("X-Restli-Protocol-Version") != "2.0.0":
            message = "X-Restli-Protocol-Version 2.0.0 is required"
            return Reply(400, _linkedin_error(400, "INVALID_PROTOCOL_VERSION", message))
        try:
            body = request.json()
        except ValueError:
            return Reply(400, _linkedin_error(400, "INVALID_JSON", "Could not parse the body"))
        problem = _linkedin_problem(body)
        if problem:
            return Reply(422, _linkedin_error(422, "UNPROCESSABLE_ENTITY", problem))
        with self._lock:
            urn = f"urn:li:share:{next(self._ids)}"
            self._posts.append({**body, "id": urn})
        return Reply(201, None, (("x-restli-id", urn), ("x-linkedin-id", urn)))


def _linkedin_error(status: int, code: str, message: str) -> dict[str, Any]:
    return {"status": status, "code": code, "message": message}


def _linkedin_problem(body: object) -> str | None:
    """What LinkedIn would refuse in a text post's body, or None."""
    if not isinstance(body, dict):
        return "The body must be an object"
    author = body.get("author")
    if not isinstance(author, str) or not re.fullmatch(r"urn:li:(organization|person):\w+", author):
        return f"/author :: {author!r} is not a person or organization URN"
    commentary = body.get("commentary")
    if not isinstance(commentary, str):
        return "/commentary :: a string is required"
    if len(commentary) > LINKEDIN_MAX_COMMENTARY:
        return f"/commentary :: longer than {LINKEDIN_MAX_COMMENTARY} characters"
    if body.get("visibility") not in ("PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER"):
        return "/visibility :: not a visibility"
    if body.get("lifecycleState") != "PUBLISHED":
        return "/lifecycleState :: only PUBLISHED posts are made here"
    distribution = body.get("distribution")
    if not isinstance(distribution, dict):
        return "/distribution :: an object is required"
    if distribution.get("feedDistribution") not in ("MAIN_FEED", "NONE"):
        return "/distribution/feedDistribution :: not a feed distribution"
    for name in ("targetEntities", "thirdPartyDistributionChannels"):
        if not isinstance(distribution.get(name), list):
            return f"/distribution/{name} :: an array is required"
    if not isinstance(body.get("isReshareDisabledByAuthor"), bool):
        return "/isReshareDisabledByAuthor :: a boolean is required"
    return None


class FakeWebhook(FakeApi):
    """A webhook receiver on any path; checks the signature when it has a secret."""

    name = "webhook"

    def __init__(self, secret: str | None = None, answer: Reply | None = None) -> None:
        super().__init__()
        self.secret = secret
        self.answer = answer or Reply(200, "ok")  # Slack's answer
        self._bodies: list[Any] = []

    def bodies(self) -> list[Any]:
        """Every body it accepted, parsed as JSON, in order."""
        with self._lock:
            return list(self._bodies)

    def _error_body(self, status: int) -> dict[str, Any] | str | None:
        return "rate_limited" if status == 429 else "internal_error"

    def _handle(self, request: Received) -> Reply:
        if request.method != "POST":
            return Reply(405, "method_not_allowed")
        if self.secret is not None and not verify_signature(
            self.secret,
            request.header(TIMESTAMP_HEADER),
            request.body,
            request.header(SIGNATURE_HEADER),
        ):
            return Reply(401, "invalid_signature")
        try:
            body = request.json()
        except ValueError:
            return Reply(400, "invalid_payload")
        with self._lock:
            self._bodies.append(body)
        return self.answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], fake: FakeApi) -> None:
        self.fake = fake
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away (its timeout) is routine here; anything else is a bug.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the clients use it
    server: _Server

    def do_POST(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply, hold = fake._dispatch(Received(self.command, self.path, headers, body))
        if reply is None:
            self.close_connection = True
            return
        if hold is not None:
            hold.wait(HANG_LIMIT_SECONDS)
            self.close_connection = True
        fake._answered(reply.status)
        self._send(reply)

    do_GET = do_PUT = do_DELETE = do_POST  # noqa: N815

    def _send(self, reply: Reply) -> None:
        if isinstance(reply.body, dict):
            data, kind = json.dumps(reply.body).encode(), "application/json; charset=utf-8"
        elif isinstance(reply.body, str):
            data, kind = reply.body.encode(), "text/plain; charset=utf-8"
        else:
            data, kind = b"", None
        self.send_response(reply.status)
        if kind:
            self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(OSError):  # a client that gave up
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet

"""A real HTTP server on a free loopback port that serves feeds as an upstream site would:
each path's body and headers set by the test, ETag and Last-Modified honoured (304), and
every request recorded."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


@dataclass
class Served:
    body: bytes | Iterable[bytes] = b""
    status: int = 200
    content_type: str = "application/rss+xml"
    etag: str | None = None
    last_modified: str | None = None
    location: str | None = None
    delay: float = 0.0


@dataclass
class FeedServer:
    paths: dict[str, Served] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    _server: BaseWSGIServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def hits(self, path: str) -> int:
        return sum(1 for seen, _headers in self.requests if seen == path)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        self.requests.append((request.path, dict(request.headers)))
        served = self.paths.get(request.path)
        if served is None:
            return Response("no such feed", 404)(environ, start_response)
        if served.delay:
            time.sleep(served.delay)
        if served.etag and request.headers.get("If-None-Match") == served.etag:
            return Response(status=304)(environ, start_response)
        headers = {"Content-Type": served.content_type}
        if served.etag:
            headers["ETag"] = served.etag
        if served.last_modified:
            headers["Last-Modified"] = served.last_modified
        if served.location:
            headers["Location"] = served.location
        response = Response(served.body, served.status, headers)
        return response(environ, start_response)


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """No line per request on the test's output."""


def serve_feeds() -> Iterator[FeedServer]:
    """Start a FeedServer in a thread; stop it when the generator is closed."""
    feeds = FeedServer()
    server = make_server("127.0.0.1", 0, feeds, threaded=True, request_handler=_Quiet)
    feeds._server = server
    thread = threading.Thread(target=server.serve_forever, name="feed-server", daemon=True)
    thread.start()
    try:
        yield feeds
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

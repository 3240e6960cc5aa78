"""Test helpers for commhub.outbound: a local HTTP server, a fake resolver, and a fake
network edge that lets a "public" address lead to that local server.

Nothing here reaches beyond this machine: the resolver answers only the names a test gives
it (and numeric hosts, with AI_NUMERICHOST so that no DNS query is ever made), and the edge
refuses any address that is not loopback, but for the one public-looking address it maps to
127.0.0.1.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from typing import Any

import httpcore
import pytest

# example.com's old address: public, so the guard lets it through, and never really dialled.
PUBLIC_ADDRESS = "93.184.216.34"

Route = Callable[["Handler"], None]


@dataclass(frozen=True)
class Seen:
    """One request the server received."""

    path: str
    headers: Message


class Handler(BaseHTTPRequestHandler):
    server: LocalServer

    def do_GET(self) -> None:
        self.server.seen.append(Seen(self.path, self.headers))
        prefix = max((p for p in self.server.routes if self.path.startswith(p)), key=len)
        self.server.routes[prefix](self)

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests assert on `seen`, not on a log."""


class LocalServer(ThreadingHTTPServer):
    """An HTTP(S) server on a loopback address, in a thread, recording what it was sent.

    Request threads are joined on close (block_on_close), and `release` is set first so
    that a handler waiting on it ends: a test leaves no thread behind.
    """

    daemon_threads = False
    block_on_close = True

    def __init__(
        self, routes: dict[str, Route], host: str = "127.0.0.1", tls: ssl.SSLContext | None = None
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, 0), Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.routes = {"/": _not_found, **routes}
        self.seen: list[Seen] = []
        # What handlers note for the test: events they reached, bytes they wrote.
        self.events: defaultdict[str, threading.Event] = defaultdict(threading.Event)
        self.counts: defaultdict[str, int] = defaultdict(int)
        self.release = threading.Event()
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="test-server"
        )

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def url(self, path: str = "/", host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release.set()
        self.shutdown()
        self._thread.join()
        self.server_close()


def _not_found(handler: Handler) -> None:
    handler.reply(404, b"no such path")


def fake_resolver(monkeypatch: pytest.MonkeyPatch, names: dict[str, list[str]]) -> list[str]:
    """socket.getaddrinfo answering `names` with their addresses; numeric hosts as usual
    (never a DNS query); any other name fails. Returns the names asked, in order."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(
        host: Any,
        port: Any,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> Any:
        if host not in names:
            return real(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        asked.append(host)
        return [_answer(address, int(port)) for address in names[host]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def _answer(address: str, port: int) -> tuple[Any, ...]:
    if ":" in address:
        return (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))
    return (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))


@dataclass
class Edge:
    """The hosts the OS socket layer was asked to connect to, in order."""

    dialled: list[str] = field(default_factory=list)


def public_edge(monkeypatch: pytest.MonkeyPatch) -> Edge:
    """Fake only the network edge (httpcore's SyncBackend, which opens the OS socket):
    PUBLIC_ADDRESS leads to 127.0.0.1 on the same port; loopback as usual; anything else
    fails the test before a packet leaves. All of commhub's own code stays real."""
    real = httpcore.SyncBackend.connect_tcp
    edge = Edge()

    def connect_tcp(self: httpcore.SyncBackend, host: str, port: int, *args: Any) -> Any:
        edge.dialled.append(host)
        if host == PUBLIC_ADDRESS:
            host = "127.0.0.1"
        assert ip_address(host.split("%")[0]).is_loopback, f"test tried to dial {host}"
        return real(self, host, port, *args)

    monkeypatch.setattr(httpcore.SyncBackend, "connect_tcp", connect_tcp)
    return edge

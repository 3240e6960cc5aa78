"""The careful HTTP client against a local server: bodies, conditional GETs, limits,
redirects, and the guard on every hop and at connect time.

Happy paths use allow_private=True, the server being on loopback. The guard's tests keep
the default policy and reach the server through a name: socket.getaddrinfo is faked to
answer `public.example` with a public address (PUBLIC_ADDRESS), and only the network edge,
httpcore's SyncBackend that opens the OS socket, is faked to lead that address to
127.0.0.1 (recording what was dialled, and failing on anything not loopback). commhub's own
code (check_url, resolve_public, GuardedBackend, fetch) runs for real.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from commhub import __version__
from commhub.outbound import FetchFailed, FetchPolicy, fetch, guarded_client
from tests.outbound.servers import (
    PUBLIC_ADDRESS,
    Handler,
    LocalServer,
    Route,
    fake_resolver,
    public_edge,
)

FEED = b"<rss><channel><title>Partner news</title></channel></rss>"
ETAG = '"v1"'
LAST_MODIFIED = "Tue, 02 Jun 2026 08:00:00 GMT"
LOCAL = FetchPolicy(allow_private=True)
HUGE = 64 * 1024 * 1024  # what the streaming route would send if nobody stopped it
CHUNK = b"x" * 65536


def feed(handler: Handler) -> None:
    headers = {"Content-Type": "application/rss+xml", "ETag": ETAG}
    handler.reply(200, FEED, {**headers, "Last-Modified": LAST_MODIFIED})


def conditional(handler: Handler) -> None:
    unchanged = handler.headers.get("If-None-Match") == ETAG or (
        handler.headers.get("If-Modified-Since") == LAST_MODIFIED
    )
    if unchanged:
        handler.reply(304, headers={"ETag": ETAG})
    else:
        feed(handler)


def broken(handler: Handler) -> None:
    handler.reply(500, b"oops")


def slow(handler: Handler) -> None:
    """Answers nothing; notes when the client closes its end (read gives b"")."""
    handler.connection.settimeout(10)
    if handler.rfile.read(1) == b"":
        handler.server.events["client closed"].set()


def drip(handler: Handler) -> None:
    """One byte every 0.1 s for 10 s: each read is quick, the whole is not."""
    handler.send_response(200)
    handler.end_headers()
    for _ in range(100):
        if handler.server.release.wait(0.1) or not _write(handler, b"x"):
            return


def huge(handler: Handler) -> None:
    """Streams up to HUGE bytes (no Content-Length), counting what it could write."""
    handler.send_response(200)
    handler.end_headers()
    while handler.server.counts["written"] < HUGE and _write(handler, CHUNK):
        handler.server.counts["written"] += len(CHUNK)
    handler.server.events["huge done"].set()


def declared(handler: Handler) -> None:
    """Declares 10 MB, sends 1 KiB, then waits for the client to give up."""
    handler.send_response(200)
    handler.send_header("Content-Length", "10000000")
    handler.end_headers()
    _write(handler, CHUNK[:1024])
    handler.connection.settimeout(10)
    handler.rfile.read(1)


def redirect(handler: Handler) -> None:
    hops = int(handler.path.rsplit("/", 1)[1])
    if hops == 0:
        handler.reply(200, b"arrived")
    else:
        handler.reply(302, headers={"Location": f"/redirect/{hops - 1}"})


def to(location: str) -> Route:
    def route(handler: Handler) -> None:
        port = handler.server.port
        handler.reply(302, headers={"Location": location.format(port=port)})

    return route


ROUTES = {
    "/feed": feed,
    "/conditional": conditional,
    "/broken": broken,
    "/slow": slow,
    "/drip": drip,
    "/huge": huge,
    "/declared": declared,
    "/redirect/": redirect,
    "/to-ftp": to("ftp://example.com/feed"),
    "/to-private": to("http://10.0.0.1/feed"),
    "/to-loopback": to("http://[::1]:{port}/feed"),
    "/to-sneaky": to("http://sneaky.example:{port}/feed"),
}


def _write(handler: Handler, data: bytes) -> bool:
    try:
        handler.wfile.write(data)
    except OSError:  # the client closed the connection
        return False
    return True


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer(ROUTES) as running:
        yield running


def paths(server: LocalServer) -> list[str]:
    return [seen.path for seen in server.seen]


# --- bodies, conditional GETs, the User-Agent ---


def test_a_200_gives_the_body_and_its_validators(server: LocalServer) -> None:
    fetched = fetch(server.url("/feed"), LOCAL)
    assert fetched.status == 200
    assert fetched.body == FEED
    assert fetched.url == server.url("/feed")
    assert (fetched.etag, fetched.last_modified) == (ETAG, LAST_MODIFIED)
    assert fetched.content_type == "application/rss+xml"


def test_the_user_agent_names_commhub_and_its_version(server: LocalServer) -> None:
    fetch(server.url("/feed"), LOCAL)
    assert f"commhub/{__version__}" in server.seen[0].headers["User-Agent"]


def test_a_conditional_get_sends_the_validators_and_takes_a_304(server: LocalServer) -> None:
    first = fetch(server.url("/conditional"), LOCAL)
    by_etag = fetch(server.url("/conditional"), LOCAL, etag=first.etag)
    by_date = fetch(server.url("/conditional"), LOCAL, last_modified=first.last_modified)

    assert first.status == 200
    assert "If-None-Match" not in server.seen[0].headers
    assert "If-Modified-Since" not in server.seen[0].headers
    assert (by_etag.status, by_etag.body) == (304, None)
    assert server.seen[1].headers["If-None-Match"] == ETAG
    assert (by_date.status, by_date.body) == (304, None)
    assert server.seen[2].headers["If-Modified-Since"] == LAST_MODIFIED


def test_a_client_passed_in_is_used_and_left_open(server: LocalServer) -> None:
    with guarded_client(LOCAL) as client:
        assert fetch(server.url("/feed"), LOCAL, client=client).body == FEED
        assert fetch(server.url("/feed"), LOCAL, client=client).body == FEED
        assert not client.is_closed
    assert paths(server) == ["/feed", "/feed"]


# --- what is refused: statuses, sizes, time ---


@pytest.mark.parametrize(
    ("path", "message", "status"),
    [("/missing", "HTTP 404 Not Found", 404), ("/broken", "HTTP 500 Internal Server Error", 500)],
)
def test_an_error_status_fails_with_the_status(
    server: LocalServer, path: str, message: str, status: int
) -> None:
    with pytest.raises(FetchFailed, match=message) as failed:
        fetch(server.url(path), LOCAL)
    assert (failed.value.reason, failed.value.status) == ("status", status)


def test_a_body_over_the_cap_is_cut_off_without_reading_it_all(server: LocalServer) -> None:
    policy = FetchPolicy(allow_private=True, max_bytes=100_000)
    with pytest.raises(FetchFailed, match="larger than 100,000 bytes") as failed:
        fetch(server.url("/huge"), policy)
    assert failed.value.reason == "too-large"
    assert server.events["huge done"].wait(10)
    # The server could not write it all: the client closed the connection part way.
    assert server.counts["written"] < HUGE


def test_a_declared_length_over_the_cap_is_refused_before_the_body(server: LocalServer) -> None:
    # The route sends 1 KiB of its declared 10 MB and then stalls: a client that read the
    # body before judging the size would time out instead.
    policy = FetchPolicy(allow_private=True, max_bytes=1_000_000, timeout_seconds=5)
    with pytest.raises(FetchFailed, match="larger than 1,000,000 bytes"):
        fetch(server.url("/declared"), policy)


def test_a_server_that_does_not_answer_times_out_and_leaves_nothing_open() -> None:
    threads_before = set(threading.enumerate())
    with LocalServer(ROUTES) as server:
        policy = FetchPolicy(allow_private=True, timeout_seconds=0.5)
        with pytest.raises(FetchFailed, match=r"^timed out after 0\.5 s$") as failed:
            fetch(server.url("/slow"), policy)
        assert failed.value.reason == "timeout"
        assert server.events["client closed"].wait(10)  # the fetch closed its socket
    assert set(threading.enumerate()) == threads_before


def test_the_deadline_bounds_the_whole_fetch_not_each_read(server: LocalServer) -> None:
    policy = FetchPolicy(allow_private=True, timeout_seconds=1)
    with pytest.raises(FetchFailed, match="timed out after 1 s"):
        fetch(server.url("/drip"), policy)


# --- redirects ---


def test_five_redirects_are_followed(server: LocalServer) -> None:
    fetched = fetch(server.url("/redirect/5"), LOCAL)
    assert (fetched.body, fetched.url) == (b"arrived", server.url("/redirect/0"))
    assert len(server.seen) == 6


def test_a_sixth_redirect_is_refused(server: LocalServer) -> None:
    with pytest.raises(FetchFailed, match=r"too many redirects \(more than 5\)") as failed:
        fetch(server.url("/redirect/6"), LOCAL)
    assert failed.value.reason == "redirects"
    assert paths(server) == [f"/redirect/{n}" for n in range(6, 0, -1)]


def test_a_redirect_to_another_scheme_is_refused(server: LocalServer) -> None:
    message = "redirect to ftp://example.com/feed refused: scheme ftp is not http or https"
    with pytest.raises(FetchFailed, match=message):
        fetch(server.url("/to-ftp"), LOCAL)


# --- the guard, with the default policy ---


def test_the_default_policy_refuses_a_loopback_url(server: LocalServer) -> None:
    with pytest.raises(FetchFailed, match=r"127\.0\.0\.1 is a loopback address") as failed:
        fetch(server.url("/feed"), FetchPolicy())
    assert failed.value.reason == "refused"
    assert server.seen == []


def test_a_name_that_resolves_to_a_private_address_is_refused_before_connecting(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = fake_resolver(monkeypatch, {"feeds.example": ["127.0.0.1"]})
    edge = public_edge(monkeypatch)
    with pytest.raises(FetchFailed, match=r"feeds\.example resolves to 127\.0\.0\.1, a loopback"):
        fetch(server.url("/feed", host="feeds.example"), FetchPolicy())
    assert asked == ["feeds.example"]
    assert edge.dialled == []
    assert server.seen == []


def test_the_connection_goes_to_the_address_checked_not_to_the_name(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resolved once, and the socket is opened to that address: a rebinding name gets no
    second resolution that could answer a private address."""
    asked = fake_resolver(monkeypatch, {"public.example": [PUBLIC_ADDRESS]})
    edge = public_edge(monkeypatch)
    fetched = fetch(server.url("/feed", host="public.example"), FetchPolicy())
    assert fetched.body == FEED
    assert asked == ["public.example"]
    assert edge.dialled == [PUBLIC_ADDRESS]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/to-private", "redirect to http://10.0.0.1/feed refused: 10.0.0.1 is a private address"),
        ("/to-loopback", r"redirect to http://\[::1\]:\d+/feed refused: ::1 is a loopback"),
        ("/to-sneaky", "sneaky.example resolves to 127.0.0.1, a loopback address"),
    ],
)
def test_a_redirect_to_a_private_address_is_refused_on_that_hop(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch, path: str, message: str
) -> None:
    fake_resolver(
        monkeypatch, {"public.example": [PUBLIC_ADDRESS], "sneaky.example": ["127.0.0.1"]}
    )
    edge = public_edge(monkeypatch)
    with pytest.raises(FetchFailed, match=message) as failed:
        fetch(server.url(path, host="public.example"), FetchPolicy())
    assert failed.value.reason == "refused"
    assert edge.dialled == [PUBLIC_ADDRESS]  # the first hop only
    assert paths(server) == [path]


# --- TLS: the name, not the address connected to, is what the certificate is checked for ---


@pytest.fixture
def tls_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[LocalServer, list[str | None]]]:
    """An HTTPS server whose certificate is for public.example only, trusted through
    SSL_CERT_FILE; it records the SNI names clients send."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("public.example").configure_cert(context)
    sni: list[str | None] = []
    context.sni_callback = lambda _socket, name, _context: sni.append(name)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    with LocalServer(ROUTES, tls=context) as running:
        yield running, sni


def test_tls_uses_the_host_name_for_sni_and_the_certificate(
    tls_server: tuple[LocalServer, list[str | None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, sni = tls_server
    fake_resolver(monkeypatch, {"public.example": [PUBLIC_ADDRESS]})
    edge = public_edge(monkeypatch)
    fetched = fetch(server.url("/feed", host="public.example", scheme="https"), FetchPolicy())
    assert fetched.body == FEED
    assert sni == ["public.example"]
    assert edge.dialled == [PUBLIC_ADDRESS]


def test_tls_refuses_a_certificate_for_another_name(
    tls_server: tuple[LocalServer, list[str | None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = tls_server
    fake_resolver(monkeypatch, {"other.example": [PUBLIC_ADDRESS]})
    public_edge(monkeypatch)
    with pytest.raises(FetchFailed, match=r"could not connect: .*CERTIFICATE_VERIFY_FAILED"):
        fetch(server.url("/feed", host="other.example", scheme="https"), FetchPolicy())
    assert server.seen == []

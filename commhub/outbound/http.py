"""A careful HTTP GET for URLs people type in: guarded, bounded, and plain about failure.

Every connection goes through GuardedBackend, which resolves the host once, refuses
addresses that are not public, and connects to exactly the address it checked (so DNS
rebinding cannot swap in a private one between check and connect); TLS still verifies the
URL's own host name. Redirects are followed here, each hop checked again; the body is
streamed and cut off past a size cap; one deadline bounds the whole fetch.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

import httpcore
import httpx

from commhub import __version__
from commhub.errors import CommhubError
from commhub.outbound.guard import UnsafeAddress, check_url, resolve_public

Reason = Literal["refused", "status", "timeout", "too-large", "redirects", "network"]


@dataclass(frozen=True)
class FetchPolicy:
    """The limits of one fetch. allow_private is for tests and trusted local set-ups."""

    timeout_seconds: float = 20.0  # the whole fetch: connects, redirects and the body
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    allow_private: bool = False
    user_agent: str = f"commhub/{__version__} (partner communication scheduler)"


@dataclass(frozen=True)
class Fetched:
    """A fetched resource: 2xx with its body, or 304 Not Modified without one."""

    url: str  # after redirects
    status: int
    body: bytes | None
    etag: str | None
    last_modified: str | None
    content_type: str | None


class FetchFailed(CommhubError):  # noqa: N818 - reads better at the raise site than "...Error"
    """A fetch that gave nothing usable, said in plain words; `reason` is a short code."""

    def __init__(self, message: str, reason: Reason, status: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status


# The deadline of the fetch under way in this thread (or context), read by every socket
# operation: httpx's timeouts bound each read, not the whole, so a server dripping one byte
# at a time could otherwise hold a fetch open forever.
_deadline: ContextVar[float | None] = ContextVar("commhub_outbound_deadline", default=None)


def _bounded(timeout: float | None, expired: type[Exception]) -> float | None:
    """`timeout` shortened to what is left before the deadline; `expired` once it passed."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the fetch's deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connected socket whose every operation ends by the fetch's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        # httpcore passes the URL's host as server_hostname, not the address we connected
        # to: SNI and the certificate check are for the name (tests/outbound prove it).
        timeout = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Resolves once, refuses what is not public, connects to the address it checked."""

    def __init__(self, allow_private: bool = False) -> None:
        self._allow_private = allow_private
        self._sockets = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        # The lookup is the system resolver's, bounded by its own timeouts, not the deadline.
        try:
            addresses = resolve_public(host, port, self._allow_private)  # UnsafeAddress goes up
        except OSError as error:  # the name does not resolve
            raise httpcore.ConnectError(f"{host}: {error}") from error
        failure = httpcore.ConnectError(f"{host}: no address")
        for address in addresses:  # in the resolver's order, as a browser would
            try:
                stream = self._sockets.connect_tcp(
                    str(address),
                    port,
                    _bounded(timeout, httpcore.ConnectTimeout),
                    local_address,
                    socket_options,
                )
            except httpcore.ConnectError as error:
                failure = error
                continue
            return _DeadlineStream(stream)
        raise failure


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport, its connection pool connecting through GuardedBackend."""

    def __init__(self, allow_private: bool = False) -> None:
        super().__init__(trust_env=False)
        # HTTPTransport takes no network backend, so the (unopened) pool it built is
        # replaced here, the one place: its request and error mapping are kept as they are.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            network_backend=GuardedBackend(allow_private),
        )


def guarded_client(policy: FetchPolicy) -> httpx.Client:
    """An httpx client whose every connection is guarded; no proxy or .netrc from the
    environment (trust_env=False), since a proxy would connect on our behalf, unguarded."""
    return httpx.Client(
        transport=GuardedTransport(policy.allow_private),
        trust_env=False,
        follow_redirects=False,
        timeout=policy.timeout_seconds,
        headers={"User-Agent": policy.user_agent},
    )


def fetch(
    url: str,
    policy: FetchPolicy,
    etag: str | None = None,
    last_modified: str | None = None,
    client: httpx.Client | None = None,
) -> Fetched:
    """GET `url` within `policy`, conditionally when `etag`/`last_modified` are given.

    `client`, to reuse connections across fetches, must come from guarded_client (with the
    same allow_private): the guard at connect time is the client's. Raises FetchFailed.
    """
    headers = {"User-Agent": policy.user_agent}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    token = _deadline.set(time.monotonic() + policy.timeout_seconds)
    try:
        if client is not None:
            return _follow(client, url, headers, policy)
        with guarded_client(policy) as own:
            return _follow(own, url, headers, policy)
    except UnsafeAddress as error:  # raised at connect time, by GuardedBackend
        raise FetchFailed(str(error), "refused") from error
    except httpx.TimeoutException as error:
        raise FetchFailed(f"timed out after {policy.timeout_seconds:g} s", "timeout") from error
    except httpx.ConnectError as error:
        raise FetchFailed(f"could not connect: {error}", "network") from error
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        raise FetchFailed(f"the fetch failed: {error}", "network") from error
    finally:
        _deadline.reset(token)


def _follow(
    client: httpx.Client, url: str, headers: dict[str, str], policy: FetchPolicy
) -> Fetched:
    for hop in range(policy.max_redirects + 1):
        try:
            check_url(url, policy.allow_private)
        except UnsafeAddress as error:
            message = f"redirect to {url} refused: {error}" if hop else str(error)
            raise FetchFailed(message, "refused") from error
        with client.stream("GET", url, headers=headers) as response:
            if not response.has_redirect_location:
                return _accept(response, policy)
            url = str(response.url.join(response.headers["Location"]))
    raise FetchFailed(f"too many redirects (more than {policy.max_redirects})", "redirects")


def _accept(response: httpx.Response, policy: FetchPolicy) -> Fetched:
    status = response.status_code
    if status != 304 and not response.is_success:
        raise FetchFailed(f"HTTP {status} {response.reason_phrase}".strip(), "status", status)
    return Fetched(
        url=str(response.url),
        status=status,
        body=None if status == 304 else _read_capped(response, policy.max_bytes),
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
        content_type=response.headers.get("Content-Type"),
    )


def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """The body, refused as soon as it is known to pass max_bytes (decoded: a small gzip
    body cannot smuggle a large one past the cap)."""
    too_large = FetchFailed(f"larger than {max_bytes:,} bytes", "too-large")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)

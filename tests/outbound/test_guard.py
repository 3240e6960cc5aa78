"""The address guard: every spelling of a non-public address is refused, public ones pass.

The loopback spellings are first shown to really reach a server on this machine (a plain
socket connects with them), so that refusing them is not a vacuous test.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from ipaddress import IPv6Address, ip_address

import httpx
import pytest

from commhub.outbound import (
    FetchFailed,
    FetchPolicy,
    UnsafeAddress,
    check_url,
    fetch,
    guarded_client,
    host_address,
    refusal,
    refused,
    resolve_public,
)
from tests.outbound.servers import PUBLIC_ADDRESS, fake_resolver

LOOPBACK = "a loopback address"
UNSPECIFIED = "the unspecified address"
MAPPED_LOOPBACK = "an IPv4-mapped form of 127.0.0.1, a loopback address"

# Spellings a resolver takes to this machine: each is connected to with a plain socket
# before the guard is shown to refuse it.
REACHABLE = [
    ("127.0.0.1", LOOPBACK),
    ("2130706433", LOOPBACK),
    ("0177.0.0.1", LOOPBACK),
    ("017700000001", LOOPBACK),
    ("0x7f.0.0.1", LOOPBACK),
    ("0x7f000001", LOOPBACK),
    ("127.1", LOOPBACK),
    ("127.0.1", LOOPBACK),
    ("0", UNSPECIFIED),
    ("0.0.0.0", UNSPECIFIED),  # noqa: S104 - a spelling to refuse, not a bind
    ("[::ffff:127.0.0.1]", MAPPED_LOOPBACK),
    ("[::ffff:7f00:1]", MAPPED_LOOPBACK),
    ("[0:0:0:0:0:ffff:127.0.0.1]", MAPPED_LOOPBACK),
    ("[::1]", LOOPBACK),
    ("[::]", UNSPECIFIED),
]

# Refused spellings that cannot be reached here (no such network, or, for the trailing dot,
# no DNS), judged only: (spelling, the reason the guard gives).
UNREACHABLE = [
    ("127.0.0.1.", LOOPBACK),
    ("0.1.2.3", "in 0.0.0.0/8"),
    ("[fe80::1%25eth0]", "a link-local address"),
    ("169.254.169.254", "a link-local address (where cloud metadata lives)"),
    ("2852039166", "a link-local address"),
    ("[::ffff:a9fe:a9fe]", "an IPv4-mapped form of 169.254.169.254, a link-local address"),
    ("100.64.0.1", "carrier-grade NAT (100.64.0.0/10)"),
    ("224.0.0.1", "a multicast address"),
    ("[ff02::1]", "a multicast address"),
    ("240.0.0.1", "a reserved address"),
    ("255.255.255.255", "the broadcast address"),
    ("10.0.0.5", "a private address"),
    ("172.16.0.1", "a private address"),
    ("172.31.255.254", "a private address"),
    ("192.168.1.1", "a private address"),
    ("[fc00::1]", "a private address"),
    ("[fd12:3456::1]", "a private address"),
    ("192.0.0.9", "an IETF protocol assignment (192.0.0.0/24)"),
    ("192.0.2.1", "a documentation address (192.0.2.0/24)"),
    ("198.18.0.1", "a benchmarking address (198.18.0.0/15)"),
    ("198.51.100.7", "a documentation address (198.51.100.0/24)"),
    ("203.0.113.9", "a documentation address (203.0.113.0/24)"),
    ("[2001:db8::1]", "a documentation address (2001:db8::/32)"),
    ("[fec0::1]", "site-local (fec0::/10)"),
    ("[64:ff9b::7f00:1]", "a NAT64 form of 127.0.0.1, a loopback address"),
    ("[64:ff9b::a00:5]", "a NAT64 form of 10.0.0.5, a private address"),
    ("[2002:7f00:1::1]", "a 6to4 form of 127.0.0.1, a loopback address"),
    ("[2002:a9fe:a9fe::1]", "a 6to4 form of 169.254.169.254, a link-local address"),
    ("[2001:0:4136:e378:8000:63bf:3fff:fdd2]", "a Teredo form of 192.0.2.45"),
    ("[::7f00:1]", "an IPv4-compatible form of 127.0.0.1, a loopback address"),
]

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "134744072",  # 8.8.8.8 as one decimal number
    "[2606:4700:4700::1111]",
    "[::ffff:8.8.8.8]",
    "[64:ff9b::808:808]",
    "[2002:808:808::1]",
]


@pytest.mark.parametrize(("spelling", "reason"), REACHABLE + UNREACHABLE)
def test_every_non_public_spelling_is_refused_with_its_reason(spelling: str, reason: str) -> None:
    address = host_address(spelling)
    assert address is not None
    assert reason in (refusal(address) or "")
    with pytest.raises(UnsafeAddress, match="is " + re.escape(reason)) as refused:
        check_url(f"http://{spelling}:8080/feed")
    assert str(refused.value).startswith(spelling.strip("[]"))


@pytest.mark.parametrize("spelling", PUBLIC)
def test_public_addresses_pass(spelling: str) -> None:
    address = host_address(spelling)
    assert address is not None
    assert refusal(address) is None
    check_url(f"https://{spelling}/feed.xml")


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("0", "0.0.0.0"),  # noqa: S104 - an address read, not a bind
        ("[::1]", "::1"),
        ("::1", "::1"),  # unbracketed, as httpcore hands a URL's host to the connect step
        ("[fe80::1%25eth0]", "fe80::1"),
        ("fe80::1%eth0", "fe80::1"),
        ("example.com", None),
        ("127.0.0.1.example.com", None),
        ("1.2.3.4.5", None),
        ("4294967296", None),  # past 32 bits: not an address, so a name
    ],
)
def test_host_address_reads_every_literal_spelling(spelling: str, expected: str | None) -> None:
    address = host_address(spelling)
    assert (None if address is None else str(address)) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/feed", "scheme ftp is not http or https"),
        ("file:///etc/passwd", "scheme file is not http or https"),
        ("//example.com/feed", r"scheme \(none\) is not http or https"),
        ("http:///feed", "has no host"),
        ("http://user@example.com/feed", "a user name"),
        ("http://example.com@127.0.0.1/feed", "a user name"),
        ("http://example.com\\@127.0.0.1/feed", "a user name"),
        ("http://example.com:eighty/feed", "not a valid URL"),
        ("http://[example.com]/feed", "not a valid URL"),
    ],
)
def test_check_url_refuses_what_is_not_a_plain_http_url(url: str, message: str) -> None:
    with pytest.raises(UnsafeAddress, match=message):
        check_url(url)


def test_check_url_lets_names_through_to_be_judged_when_resolved() -> None:
    check_url("https://feeds.example.com/rss")
    check_url("HTTP://Example.COM./feed")


def test_a_name_is_resolved_once_and_its_public_addresses_returned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked = fake_resolver(
        monkeypatch, {"feeds.example": [PUBLIC_ADDRESS, "2606:4700::1", PUBLIC_ADDRESS]}
    )
    addresses = resolve_public("feeds.example", 443)
    assert addresses == [ip_address(PUBLIC_ADDRESS), ip_address("2606:4700::1")]
    assert asked == ["feeds.example"]


def test_a_name_with_one_private_answer_among_public_ones_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_resolver(monkeypatch, {"rebind.example": [PUBLIC_ADDRESS, "10.0.0.1"]})
    with pytest.raises(UnsafeAddress, match=r"rebind.example resolves to 10.0.0.1, a private"):
        resolve_public("rebind.example", 80)


def test_allow_private_returns_every_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_resolver(monkeypatch, {"intranet.example": ["10.0.0.1", PUBLIC_ADDRESS]})
    addresses = resolve_public("intranet.example", 80, allow_private=True)
    assert addresses == [ip_address("10.0.0.1"), ip_address(PUBLIC_ADDRESS)]


def test_a_literal_host_is_judged_without_resolving(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _must_not_resolve)
    assert resolve_public("8.8.8.8", 80) == [ip_address("8.8.8.8")]
    with pytest.raises(UnsafeAddress, match=r"0x7f\.1 \(127\.0\.0\.1\) is a loopback address"):
        resolve_public("0x7f.1", 80)


# --- the loopback spellings, proven to reach this machine before they are refused ---


@pytest.fixture(scope="module")
def listeners() -> Iterator[dict[socket.AddressFamily, socket.socket]]:
    """A listening socket on 127.0.0.1 and one on ::1, by address family. Connections are
    taken with accept() by the test itself: what it accepts is exactly what reached it."""
    sockets = {
        socket.AF_INET: socket.create_server(("127.0.0.1", 0)),
        socket.AF_INET6: socket.create_server(("::1", 0), family=socket.AF_INET6),
    }
    for listener in sockets.values():
        listener.settimeout(5)
    yield sockets
    for listener in sockets.values():
        listener.close()


@pytest.mark.parametrize(("spelling", "reason"), REACHABLE)
def test_a_spelling_that_reaches_this_machine_is_refused_by_every_path(
    spelling: str, reason: str, listeners: dict[socket.AddressFamily, socket.socket]
) -> None:
    listener = listeners[_family_reached(spelling)]
    port = listener.getsockname()[1]
    _assert_reaches(listener, spelling.strip("[]"))
    url = f"http://{spelling}:{port}/feed"

    with pytest.raises(UnsafeAddress, match=re.escape(reason)):
        check_url(url)
    with pytest.raises(FetchFailed, match=re.escape(reason)) as failed:
        fetch(url, FetchPolicy())
    assert failed.value.reason == "refused"
    # The connect-time guard on its own, with no check_url before it.
    with guarded_client(FetchPolicy()) as client:
        if spelling == "0177.0.0.1":  # httpx refuses leading zeros in a dotted IPv4 itself
            with pytest.raises(httpx.InvalidURL):
                client.get(url)
        else:
            with pytest.raises(UnsafeAddress, match=re.escape(reason)):
                client.get(url)

    _assert_nothing_else_arrived(listener)


def _family_reached(spelling: str) -> socket.AddressFamily:
    address = host_address(spelling)
    is_ipv6 = isinstance(address, IPv6Address) and address.ipv4_mapped is None
    return socket.AF_INET6 if is_ipv6 else socket.AF_INET


def _assert_reaches(listener: socket.socket, host: str) -> None:
    port = listener.getsockname()[1]
    with socket.create_connection((host, port), timeout=5) as client:
        accepted, peer = listener.accept()
        accepted.close()
        assert peer[1] == client.getsockname()[1]


def _assert_nothing_else_arrived(listener: socket.socket) -> None:
    """Connect once more: the connection accepted next must be this one, so no guarded
    attempt is waiting in the queue before it."""
    host = listener.getsockname()[0]
    with socket.create_connection((host, listener.getsockname()[1]), timeout=5) as barrier:
        accepted, peer = listener.accept()
        accepted.close()
        assert peer[1] == barrier.getsockname()[1]


def _must_not_resolve(*args: object, **kwargs: object) -> object:
    raise AssertionError(f"getaddrinfo called for a literal: {args}")


@pytest.mark.parametrize(
    ("spelling", "allowed"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("172.16.0.9", True),
        ("192.168.1.1", True),
        ("100.64.0.1", True),
        ("::1", True),
        ("fd00::1", True),
        ("::ffff:10.0.0.1", True),
        ("169.254.169.254", False),  # cloud metadata stays out of reach
        ("fe80::1", False),
        ("224.0.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 - an address judged, not bound
        ("240.0.0.1", False),
        ("255.255.255.255", False),
    ],
)
def test_the_operators_switch_opens_private_networks_and_nothing_else(
    spelling: str, allowed: bool
) -> None:
    address = ip_address(spelling)
    assert refusal(address) is not None  # refused by default, every one of them
    assert (refused(address, allow_private=True) is None) == allowed

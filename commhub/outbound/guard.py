"""The address guard: which hosts and addresses an outbound fetch may connect to.

URLs that people type in (feeds now; thumbnails and webhooks later) are the classic way into
a server's private network (SSRF). Only public unicast addresses pass. A literal host is
judged in every spelling the C resolver accepts (``0x7f.1`` is 127.0.0.1), and a name is
resolved once here and its answers judged, so that the connection can go to exactly the
address that was checked (commhub.outbound.http connects through resolve_public).
"""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from urllib.parse import urlsplit

from commhub.errors import CommhubError

IPAddress = IPv4Address | IPv6Address

# Ranges that Python's ipaddress properties do not name, or do not refuse on their own
# (is_global is True for fec0::/10 and for 192.0.0.9, for instance), each with its reason.
_SPECIAL_RANGES = tuple(
    (ip_network(network), reason)
    for network, reason in (
        ("0.0.0.0/8", "in 0.0.0.0/8 ('this network')"),
        ("100.64.0.0/10", "carrier-grade NAT (100.64.0.0/10)"),
        ("192.0.0.0/24", "an IETF protocol assignment (192.0.0.0/24)"),
        ("192.0.2.0/24", "a documentation address (192.0.2.0/24)"),
        ("198.18.0.0/15", "a benchmarking address (198.18.0.0/15)"),
        ("198.51.100.0/24", "a documentation address (198.51.100.0/24)"),
        ("203.0.113.0/24", "a documentation address (203.0.113.0/24)"),
        ("255.255.255.255/32", "the broadcast address"),
        ("2001:db8::/32", "a documentation address (2001:db8::/32)"),
        ("fec0::/10", "site-local (fec0::/10)"),
    )
)
_NAT64 = ip_network("64:ff9b::/96")
# What COMMHUB_FEEDS_ALLOW_PRIVATE opens: the networks an operator's own servers live on.
# Link-local (cloud metadata), multicast, reserved and the rest stay refused even then.
_PRIVATE_NETWORKS = tuple(
    ip_network(network)
    for network in (
        "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
        "::1/128", "fc00::/7",
    )
)  # fmt: skip


class UnsafeAddress(CommhubError):  # noqa: N818 - reads better at the raise site than "...Error"
    """A URL or address that an outbound fetch refuses to connect to, and why."""


def refusal(address: IPAddress) -> str | None:
    """Why `address` may not be connected to, or None when it is a public address."""
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if isinstance(address, IPv6Address) and (embedded := _embedded_ipv4(address)):
        # These forms reach (or are translated to) the IPv4 address inside: judge that one.
        kind, addresses = embedded
        for inner in addresses:
            if reason := refusal(inner):
                return f"{kind} {inner}, {reason}"
        return None
    if address.is_link_local:
        return "a link-local address (where cloud metadata lives)"
    if address.is_multicast:
        return "a multicast address"
    for network, reason in _SPECIAL_RANGES:
        if address.version == network.version and address in network:
            return reason
    if address.is_reserved:  # before is_private, which 240.0.0.0/4 also is
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "not a public address"
    return None


def _embedded_ipv4(address: IPv6Address) -> tuple[str, tuple[IPv4Address, ...]] | None:
    """The IPv4 address(es) an IPv6 address carries, with the name of the form."""
    if address.ipv4_mapped:
        return "an IPv4-mapped form of", (address.ipv4_mapped,)
    if address.sixtofour:
        return "a 6to4 form of", (address.sixtofour,)
    if address.teredo:
        return "a Teredo form of", address.teredo
    if address in _NAT64:
        return "a NAT64 form of", (IPv4Address(int(address) & 0xFFFFFFFF),)
    if int(address) >> 32 == 0:  # ::a.b.c.d, the deprecated IPv4-compatible form
        return "an IPv4-compatible form of", (IPv4Address(int(address)),)
    return None


def host_address(host: str) -> IPAddress | None:
    """The address `host` (a URL's host) denotes when it is a literal; None for a name.

    Takes every spelling a resolver accepts: ``2130706433``, ``0177.0.0.1``, ``0x7f.1``,
    ``127.1``, ``[::ffff:127.0.0.1]``, ``[fe80::1%25eth0]``, and a trailing dot.
    """
    bracketed = host.startswith("[") and host.endswith("]")
    text = host[1:-1] if bracketed else host.removesuffix(".")
    if bracketed or ":" in text:
        try:  # the zone (%eth0, or %25eth0 in a URL) does not change what the address is
            return ip_address(text.split("%", 1)[0])
        except ValueError:
            raise UnsafeAddress(f"{host} is neither a name nor an IPv6 address") from None
    try:
        # inet_aton accepts exactly the C resolver's IPv4 forms: decimal, octal, hex, short.
        return IPv4Address(socket.inet_aton(text))
    except OSError:
        return None


def refused(address: IPAddress, allow_private: bool = False) -> str | None:
    """refusal(address), but None for an address on a private network when allow_private."""
    reason = refusal(address)
    if reason and allow_private:
        inner = address.ipv4_mapped if isinstance(address, IPv6Address) else None
        judged = inner or address
        if any(judged.version == n.version and judged in n for n in _PRIVATE_NETWORKS):
            return None
    return reason


def check_url(url: str, allow_private: bool = False) -> None:
    """Raise UnsafeAddress unless `url` is http(s) with a plain host that is not refused
    (a literal address must be public, unless allow_private; a name is judged when resolved)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        raise UnsafeAddress(f"{url} is not a valid URL: {error}") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeAddress(f"scheme {parts.scheme or '(none)'} is not http or https")
    # Parsers disagree on where the host starts in "a@b", "a\@b" and the like: refuse them.
    if any(char in parts.netloc for char in "@\\") or not parts.netloc.isprintable():
        raise UnsafeAddress(f"{url}: a user name or odd characters before the host")
    if not host:
        raise UnsafeAddress(f"{url} has no host")
    address = host_address(host)
    if address is not None and (reason := refused(address, allow_private)):
        raise UnsafeAddress(f"{_spelt(host, address)} is {reason}")


def resolve_public(host: str, port: int, allow_private: bool = False) -> list[IPAddress]:
    """The addresses to connect to for `host`, resolved once; UnsafeAddress when any of
    them is not public (a name with a public and a private answer may be a rebinding
    trick); with allow_private, an address on a private network passes (link-local and the
    other special ranges never do). A literal host is not resolved."""
    literal = host_address(host)
    addresses = [literal] if literal is not None else _resolve(host, port)
    for address in addresses:
        reason = refused(address, allow_private)
        if reason and literal:
            raise UnsafeAddress(f"{_spelt(host, address)} is {reason}")
        if reason:
            raise UnsafeAddress(f"{host} resolves to {address}, {reason}")
    return addresses


def _resolve(host: str, port: int) -> list[IPAddress]:
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # dict.fromkeys: each address once, in the resolver's order of preference.
    return list(dict.fromkeys(ip_address(sockaddr[0]) for *_, sockaddr in answers))


def _spelt(host: str, address: IPAddress) -> str:
    """The host as written, with the address it means when the spelling hides it."""
    plain = host.strip("[]")
    return plain if plain == str(address) else f"{host} ({address})"

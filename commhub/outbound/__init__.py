"""Outbound fetches of URLs that people type in (feeds; later thumbnails and webhooks).

Every such fetch goes through one address guard, so that a URL cannot reach the server's
own private network: `fetch` refuses loopback, private, link-local (cloud metadata) and the
other non-public addresses in any spelling, on every redirect hop, and at connect time on
the address actually connected to. It also bounds the fetch: a total deadline, a size cap
on the streamed body, a redirect limit, and only 2xx or 304 accepted.
"""

from commhub.outbound.guard import (
    UnsafeAddress,
    check_url,
    host_address,
    refusal,
    refused,
    resolve_public,
)
from commhub.outbound.http import Fetched, FetchFailed, FetchPolicy, fetch, guarded_client

__all__ = [
    "FetchFailed",
    "FetchPolicy",
    "Fetched",
    "UnsafeAddress",
    "check_url",
    "fetch",
    "guarded_client",
    "host_address",
    "refusal",
    "refused",
    "resolve_public",
]

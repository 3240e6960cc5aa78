"""What the HTTP posters (LinkedIn, webhooks) share: a JSON body sent through the address
guard, and what comes back read as a post's outcome.

An exception in place of an answer: a connection never made is retried; a timeout or a
break after the request was sent leaves the post in doubt; a request that could not even be
written fails. An answer: 2xx is the poster's to read; 429 and 5xx are retried (honouring
Retry-After), but 502 and 504, where a gateway may have passed the post on, are in doubt;
a redirect is not followed; any other status is a refusal, with what the network said.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx

from commhub.delivery.posting import PostingPolicy, PostOutcome, PostResult, retry_after_seconds
from commhub.outbound import FetchPolicy, UnsafeAddress, check_url, guarded_client

# A gateway's error: the network behind it may have the post already.
IN_DOUBT_STATUSES = frozenset({502, 504})


def posting_client(policy: PostingPolicy) -> httpx.Client:
    """The guarded HTTP client a poster talks to its network through, on the policy's terms."""
    return guarded_client(
        FetchPolicy(timeout_seconds=policy.timeout_seconds, allow_private=policy.allow_private)
    )


def send_json(
    client: httpx.Client,
    url: str,
    body: bytes,
    headers: dict[str, str],
    policy: PostingPolicy,
    host: str,
    hidden: Callable[[str], str],
) -> httpx.Response | PostResult:
    """POST body to url (checked by the address guard first); the response, or the post's
    outcome when none came."""
    try:
        check_url(url, policy.allow_private)
        return client.post(url, content=body, headers=headers)
    except UnsafeAddress as error:  # from check_url, or at connect time from the guard
        return PostResult(PostOutcome.FAILED, hidden(f"refused: {error}"))
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as error:
        return without_answer(error, host, policy.timeout_seconds, hidden)


def not_posted(
    response: httpx.Response,
    name: str,
    host: str,
    said: Callable[[str, httpx.Response], str],
    hidden: Callable[[str], str],
    now: datetime,
) -> PostResult:
    """The outcome of an answer other than 2xx; name says who answered ("LinkedIn"), said()
    words the answer with what the network put in it."""
    status = response.status_code
    wait = retry_after_seconds(response.headers.get("Retry-After"), now)
    if status == 429:
        return PostResult(
            PostOutcome.RETRY, said(f"{name}'s rate limit", response), retry_after=wait
        )
    if status in IN_DOUBT_STATUSES:
        return PostResult(PostOutcome.UNKNOWN, said(f"{name}'s gateway answered", response))
    if status >= 500:
        return PostResult(PostOutcome.RETRY, said(f"{name} is failing", response), retry_after=wait)
    if response.is_redirect:
        reason = f"{host} answered with a redirect (HTTP {status}), not followed"
        return PostResult(PostOutcome.FAILED, hidden(reason))
    return PostResult(PostOutcome.FAILED, said(f"{name} refused the post", response))


def without_answer(
    error: Exception, host: str, timeout_seconds: float, hidden: Callable[[str], str]
) -> PostResult:
    """The post's outcome when error came instead of an answer; hidden() takes the account's
    secrets out of any text that quotes the error."""
    if isinstance(error, httpx.LocalProtocolError | httpx.UnsupportedProtocol | ValueError):
        # A header or URL that cannot be sent: its text could quote a token.
        return PostResult(
            PostOutcome.FAILED, f"the request could not be made: {type(error).__name__}"
        )
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        # The guard's resolver names the host itself: once is enough.
        detail = str(error).removeprefix(f"{host}: ") or type(error).__name__
        return PostResult(PostOutcome.RETRY, hidden(f"could not connect to {host}: {detail}"))
    if isinstance(error, httpx.TimeoutException):
        return PostResult(
            PostOutcome.UNKNOWN,
            f"no answer from {host} within {timeout_seconds:g} s after the post was sent",
        )
    if isinstance(error, httpx.TransportError):
        detail = f"{type(error).__name__}: {error}"
        return PostResult(
            PostOutcome.UNKNOWN,
            hidden(f"the connection to {host} broke after the post was sent: {detail}"),
        )
    return PostResult(PostOutcome.FAILED, f"the request could not be made: {type(error).__name__}")

"""What the HTTP posters (LinkedIn, webhooks) share: what an exception in place of an answer
means for a post. A connection never made is retried; a timeout or a break after the
request was sent leaves the post in doubt; a request that could not even be written fails.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from commhub.delivery.posting import PostOutcome, PostResult


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

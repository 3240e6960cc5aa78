"""Mastodon: one status per post, through Mastodon.py, made at most once by Idempotency-Key.

Mastodon keeps an Idempotency-Key for an hour and answers a repeat with the status it made
the first time, so a post in doubt is settled by posting it again (settles_by_idempotency).

Mastodon.py speaks through `requests`, not through commhub.outbound's guarded httpx client,
so the address guard runs before each post instead: the instance's URL is checked and its
host resolved (a name with any non-public answer is refused). requests then resolves the
name again to connect; the window between the two lookups is the one thing the guard cannot
close here. The session takes nothing from the environment (no proxy, no .netrc) and follows
no redirect, so neither can send the token, or the post, somewhere unchecked.

What each answer means:

- a status: POSTED, with its id and URL.
- 429: RETRY after Retry-After (seconds or an HTTP date), else after Mastodon's own
  X-RateLimit-Reset. Mastodon.py's MastodonRatelimitError carries no response, so the
  session's response hook keeps the last one to read them from.
- 5xx: RETRY (Retry-After when given); repeating is safe under the same key.
- any other 4xx: FAILED with Mastodon's `error` field, excerpted.
- no connection: RETRY. Mastodon.py wraps every requests exception in a
  MastodonNetworkError raised inside its `except` block, so the requests exception is the
  wrapper's __context__; a requests ConnectionError built from urllib3's MaxRetryError (our
  adapter retries nothing: the connection could not be made, refused or a name that does
  not resolve), a ConnectTimeout or an SSLError means nothing reached the instance.
- a ReadTimeout, or a connection that broke after the request went out (a ConnectionError
  carrying urllib3's ProtocolError, a reset): UNKNOWN; asking again settles it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServerError,
)
from urllib3.exceptions import MaxRetryError

from commhub import __version__
from commhub.delivery.posting import (
    AccountSettings,
    Network,
    PostingPolicy,
    PostOutcome,
    PostRequest,
    PostResult,
    env_prefix,
    excerpt,
    retry_after_seconds,
)
from commhub.outbound import UnsafeAddress, check_url, resolve_public
from commhub.store import utcnow

USER_AGENT = f"commhub/{__version__} (partner communication scheduler)"
STATUSES_PATH = "/api/v1/statuses"


class MastodonPoster:
    """Posts statuses to one Mastodon account (its instance URL and access token), one post
    at a time: the last answer, kept for its rate limit headers, is the poster's own."""

    network = Network.MASTODON
    settles_by_idempotency = True

    def __init__(
        self,
        account: AccountSettings,
        policy: PostingPolicy,
        *,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self._account = account
        self._policy = policy
        self._now = now
        prefix = env_prefix(account.name)
        self._missing = (
            f"{prefix}URL is not set"
            if not account.url
            else f"{prefix}TOKEN is not set"
            if not account.token
            else None
        )
        # Mastodon.py adds https:// to a bare host name; the guard must judge the same URL.
        url = account.url or ""
        self._base_url = (url if "://" in url else f"https://{url}").rstrip("/")
        self._last_response: requests.Response | None = None
        self._session = requests.Session()
        self._session.trust_env = False  # a proxy would connect on our behalf, unguarded
        self._session.max_redirects = 0  # a redirect raises TooManyRedirects, unfollowed
        self._session.hooks["response"].append(self._keep_response)
        self._api: Mastodon | None = None
        if self._missing is None:
            # version_check_mode="none": no request at construction (nor before each call).
            self._api = Mastodon(
                access_token=account.token,
                api_base_url=self._base_url,
                request_timeout=policy.timeout_seconds,
                version_check_mode="none",
                ratelimit_method="throw",
                session=self._session,
                user_agent=USER_AGENT,
            )

    def post(self, request: PostRequest) -> PostResult:
        if self._api is None:
            return PostResult(PostOutcome.FAILED, self._missing or "not configured")
        refused = self._guard()
        if refused is not None:
            return refused
        self._last_response = None
        try:
            status = self._api.status_post(
                request.text, idempotency_key=request.idempotency_key, visibility="public"
            )
        except MastodonRatelimitError:
            return self._rate_limited()
        except MastodonServerError as error:
            return PostResult(
                PostOutcome.RETRY,
                self._reason(f"Mastodon is failing (HTTP {_status(error)})", error),
                retry_after=self._retry_after(),
            )
        except MastodonAPIError as error:
            return self._refused(error)
        except MastodonNetworkError as error:
            return self._no_answer(error)
        except MastodonError as error:  # refused by Mastodon.py itself, before any request
            return PostResult(
                PostOutcome.FAILED, f"Mastodon.py refused the post: {type(error).__name__}"
            )
        return _posted(status)

    def close(self) -> None:
        self._session.close()

    # -- the guard ---------------------------------------------------------------------

    def _guard(self) -> PostResult | None:
        """FAILED when the instance's address is refused, RETRY when its name does not
        resolve; None when it may be posted to."""
        try:
            check_url(self._base_url, self._policy.allow_private)
            parts = urlsplit(self._base_url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            resolve_public(parts.hostname or "", port, self._policy.allow_private)
        except UnsafeAddress as error:
            return PostResult(PostOutcome.FAILED, self._hidden(f"refused: {error}"))
        except OSError as error:  # the name does not resolve (now)
            host = urlsplit(self._base_url).hostname
            return PostResult(PostOutcome.RETRY, self._hidden(f"cannot resolve {host}: {error}"))
        return None

    # -- what went wrong ---------------------------------------------------------------

    def _rate_limited(self) -> PostResult:
        response = self._last_response
        if response is None or response.status_code != 429:
            # Mastodon.py also raises it when it cannot read X-RateLimit-Reset on any
            # answer, a 200 among them: whether the status was made is not known.
            return PostResult(PostOutcome.UNKNOWN, "Mastodon's rate limit headers are unreadable")
        wait = self._retry_after()
        if wait is None:
            wait = _seconds_until(response.headers.get("X-RateLimit-Reset"), self._now())
        return PostResult(PostOutcome.RETRY, "Mastodon's rate limit (HTTP 429)", retry_after=wait)

    def _refused(self, error: MastodonAPIError) -> PostResult:
        status = _status(error)
        if status is None or status < 400:
            # Mastodon.py could not read a successful answer as a status: it may exist.
            return PostResult(PostOutcome.UNKNOWN, "Mastodon's answer was not a status")
        return PostResult(
            PostOutcome.FAILED,
            self._reason(f"Mastodon refused the post (HTTP {status})", error),
        )

    def _no_answer(self, error: MastodonNetworkError) -> PostResult:
        cause = error.__context__  # the requests exception Mastodon.py wrapped
        host = urlsplit(self._base_url).hostname
        if isinstance(cause, requests.TooManyRedirects):
            response = self._last_response
            where, code = "elsewhere", "3xx"
            if response is not None:
                where, code = response.headers.get("Location", where), str(response.status_code)
            return PostResult(
                PostOutcome.FAILED,
                self._hidden(
                    f"{host} answered with a redirect (HTTP {code}) to {where}, which is not "
                    f"followed: set {env_prefix(self._account.name)}URL to the instance itself"
                ),
            )
        if _not_sent(cause):
            return PostResult(
                PostOutcome.RETRY, self._hidden(f"could not connect to {host}: {_describe(cause)}")
            )
        if isinstance(cause, ValueError):
            # requests refused to build it (InvalidHeader, InvalidURL...): nothing left. Its
            # text may quote the Authorization header, escaped past any redaction: not shown.
            return PostResult(
                PostOutcome.FAILED, f"the request could not be made: {type(cause).__name__}"
            )
        if isinstance(cause, requests.Timeout):
            return PostResult(
                PostOutcome.UNKNOWN,
                f"no answer from {host} within {self._policy.timeout_seconds:g} s "
                "after the post was sent",
            )
        if isinstance(cause, requests.ConnectionError):  # reset or closed mid-request
            return PostResult(
                PostOutcome.UNKNOWN,
                self._hidden(f"the connection to {host} broke after the post was sent: "
                             f"{_describe(cause)}"),
            )  # fmt: skip
        name = type(cause).__name__ if cause is not None else type(error).__name__
        return PostResult(PostOutcome.UNKNOWN, f"no readable answer from {host} ({name})")

    # -- helpers -----------------------------------------------------------------------

    def _keep_response(self, response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        self._last_response = response

    def _retry_after(self) -> float | None:
        response = self._last_response
        if response is None:
            return None
        return retry_after_seconds(response.headers.get("Retry-After"), self._now())

    def _reason(self, summary: str, error: MastodonAPIError) -> str:
        said = error.args[3] if len(error.args) > 3 and error.args[3] else None
        return self._hidden(f"{summary}: {said}" if isinstance(said, str) else summary)

    def _hidden(self, text: str) -> str:
        return excerpt(text, hide=(self._account.token,), limit=300)


def _posted(status: Mapping[str, Any]) -> PostResult:
    remote_id = status.get("id")
    url = status.get("url") or status.get("uri")
    return PostResult(
        PostOutcome.POSTED,
        remote_id=None if remote_id is None else str(remote_id),
        url=url if isinstance(url, str) else None,
    )


def _status(error: MastodonError) -> int | None:
    """The HTTP status of a MastodonAPIError: args are (message, status, reason, error)."""
    status = error.args[1] if len(error.args) > 1 else None
    return status if isinstance(status, int) else None


def _not_sent(cause: BaseException | None) -> bool:
    """Whether the requests exception says no request reached the instance."""
    if isinstance(cause, requests.ConnectTimeout | requests.exceptions.SSLError):
        return True
    # A ConnectionError is built from MaxRetryError only when the connection was not made;
    # one that broke mid-request carries urllib3's ProtocolError (or an OSError) instead.
    return (
        isinstance(cause, requests.ConnectionError)
        and bool(cause.args)
        and isinstance(cause.args[0], MaxRetryError)
    )


def _describe(cause: BaseException | None) -> str:
    """The innermost reason a requests exception gives (a refused connection, a reset),
    rather than urllib3's wrappers around it."""
    inner = cause.args[0] if cause is not None and cause.args else cause
    if isinstance(inner, MaxRetryError) and inner.reason is not None:
        inner = inner.reason
    if isinstance(inner, BaseException) and isinstance(inner.__cause__, OSError):
        inner = inner.__cause__  # urllib3's NewConnectionError is raised from the OSError
    if not isinstance(inner, BaseException):
        inner = cause
    if inner is None:
        return "no reason given"
    return str(inner) or type(inner).__name__


def _seconds_until(reset: str | None, now: datetime) -> float | None:
    """Seconds until Mastodon's X-RateLimit-Reset: an ISO 8601 time (Mastodon) or epoch
    seconds (GoToSocial)."""
    if not reset:
        return None
    try:
        return max(0.0, float(reset) - now.timestamp())
    except ValueError:
        pass
    try:
        return max(0.0, (datetime.fromisoformat(reset) - now).total_seconds())
    except (TypeError, ValueError):  # unreadable, or without a zone
        return None

"""LinkedIn: one post per request to the versioned Posts API, through the address guard.

`POST {url}/rest/posts` as an organisation or member (the author URN), with the bearer
token, LinkedIn-Version and X-Restli-Protocol-Version 2.0.0. LinkedIn has no idempotency
key, so a post whose answer was lost is in doubt for a person (settles_by_idempotency is
False). What each answer means:

- 2xx (LinkedIn's is 201): POSTED; the post's URN is the x-restli-id header.
- 429: RETRY after Retry-After when given.
- 502, 504: UNKNOWN. A gateway answered for LinkedIn, which may have taken the post (as
  for SendGrid's gateways); trying again could make it twice.
- other 5xx: RETRY (after Retry-After when given).
- 401, 403, 422 and any other 4xx, or a redirect (never followed): FAILED, with LinkedIn's
  `message`, excerpted.
- no connection (refused, a name that does not resolve, a connect timeout): RETRY.
- a timeout or a broken connection after the request went out: UNKNOWN.
- an address the guard refuses: FAILED.

The commentary is LinkedIn's "little" text format, whose reserved characters must be
escaped: little_text does it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from commhub.delivery.http_posting import without_answer
from commhub.delivery.posting import (
    LINKEDIN_API,
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
from commhub.outbound import FetchPolicy, UnsafeAddress, check_url, guarded_client
from commhub.store import utcnow

POSTS_PATH = "/rest/posts"
RESTLI_PROTOCOL_VERSION = "2.0.0"
POST_URL = "https://www.linkedin.com/feed/update/{urn}"
# A gateway's bad answer or timeout comes after the request reached it: in doubt.
IN_DOUBT_STATUSES = frozenset({502, 504})

# Reserved in little text (LinkedIn's "little text format" page). '#' is reserved too, but
# a plain #tag is little's HashtagElement, which is what a hashtag in a post means.
LITTLE_RESERVED = frozenset("()[]{}<>@|~_*\\")
_ESCAPE = re.compile(r"[()\[\]{}<>@|~_*\\]")
# A link, kept as it is so that LinkedIn still finds and links it. It ends before
# whitespace and before the brackets, pipe and backslash that commonly close it in prose
# ("(see https://…)"); those are escaped like any other. Inside, _ ~ * @ stay as written.
_URL = re.compile(r"https?://[^\s()\[\]{}<>|\\]+")


def little_text(text: str) -> str:
    """`text` as LinkedIn commentary: every reserved character backslash-escaped, except
    inside URLs (so they still link) and '#' (so that hashtags stay hashtags)."""
    parts: list[str] = []
    start = 0
    for link in _URL.finditer(text):
        parts.append(_ESCAPE.sub(r"\\\g<0>", text[start : link.start()]))
        parts.append(link.group())
        start = link.end()
    parts.append(_ESCAPE.sub(r"\\\g<0>", text[start:]))
    return "".join(parts)


class LinkedInPoster:
    """Posts to one LinkedIn organisation or member (its author URN and access token)."""

    network = Network.LINKEDIN
    settles_by_idempotency = False

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
        self._url = (account.url or LINKEDIN_API).rstrip("/") + POSTS_PATH
        self._client = guarded_client(
            FetchPolicy(timeout_seconds=policy.timeout_seconds, allow_private=policy.allow_private)
        )

    def post(self, request: PostRequest) -> PostResult:
        account = self._account
        prefix = env_prefix(account.name)
        if not account.token:
            return PostResult(PostOutcome.FAILED, f"{prefix}TOKEN is not set")
        if not account.author:
            return PostResult(PostOutcome.FAILED, f"{prefix}AUTHOR is not set")
        body = json.dumps(self._body(request), ensure_ascii=False).encode("utf-8")
        headers = {
            "Authorization": f"Bearer {account.token}",
            "LinkedIn-Version": account.version,
            "X-Restli-Protocol-Version": RESTLI_PROTOCOL_VERSION,
            "Content-Type": "application/json",
        }
        try:
            check_url(self._url, self._policy.allow_private)
            response = self._client.post(self._url, content=body, headers=headers)
        except UnsafeAddress as error:  # from check_url, or at connect time from the guard
            return PostResult(PostOutcome.FAILED, self._hidden(f"refused: {error}"))
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as error:
            return without_answer(error, self._host, self._policy.timeout_seconds, self._hidden)
        return self._answer(response)

    def close(self) -> None:
        self._client.close()

    def _body(self, request: PostRequest) -> dict[str, Any]:
        return {
            "author": self._account.author,
            "commentary": little_text(request.text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }

    def _answer(self, response: httpx.Response) -> PostResult:
        status = response.status_code
        if response.is_success:
            urn = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id")
            return PostResult(
                PostOutcome.POSTED, remote_id=urn, url=POST_URL.format(urn=urn) if urn else None
            )
        wait = retry_after_seconds(response.headers.get("Retry-After"), self._now())
        if status == 429:
            reason = self._said("LinkedIn's rate limit", response)
            return PostResult(PostOutcome.RETRY, reason, retry_after=wait)
        if status in IN_DOUBT_STATUSES:
            return PostResult(
                PostOutcome.UNKNOWN, self._said("LinkedIn's gateway answered", response)
            )
        if status >= 500:
            reason = self._said("LinkedIn is failing", response)
            return PostResult(PostOutcome.RETRY, reason, retry_after=wait)
        if response.is_redirect:
            where = response.headers.get("Location", "elsewhere")
            reason = (
                f"{self._host} answered with a redirect (HTTP {status}) to {where}, not followed"
            )
            return PostResult(PostOutcome.FAILED, self._hidden(reason))
        return PostResult(PostOutcome.FAILED, self._said("LinkedIn refused the post", response))

    def _said(self, summary: str, response: httpx.Response) -> str:
        """'<summary> (HTTP 422): <LinkedIn's message>', excerpted and free of the token."""
        try:
            answer = response.json()
        except ValueError:
            answer = None
        message = answer.get("message") if isinstance(answer, dict) else None
        said = f"{summary} (HTTP {response.status_code})"
        return self._hidden(f"{said}: {message}" if isinstance(message, str) and message else said)

    @property
    def _host(self) -> str:
        return urlsplit(self._url).hostname or self._url

    def _hidden(self, text: str) -> str:
        return excerpt(text, hide=(self._account.token,), limit=300)

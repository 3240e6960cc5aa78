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

from commhub.delivery.http_posting import not_posted, posting_client, send_json
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
)
from commhub.store import utcnow

POSTS_PATH = "/rest/posts"
RESTLI_PROTOCOL_VERSION = "2.0.0"
POST_URL = "https://www.linkedin.com/feed/update/{urn}"
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
        self._client = posting_client(policy)

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
        response = send_json(
            self._client, self._url, body, headers, self._policy, self._host, self._hidden
        )
        return response if isinstance(response, PostResult) else self._answer(response)

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
        if not response.is_success:
            return not_posted(response, "LinkedIn", self._host, self._said, self._hidden,
                              self._now())  # fmt: skip
        urn = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id")
        return PostResult(
            PostOutcome.POSTED, remote_id=urn, url=POST_URL.format(urn=urn) if urn else None
        )

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

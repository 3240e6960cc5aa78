"""The social seam: what a poster is handed, what it answers, and the protocol between.

One module per network (mastodon, linkedin, webhook) plus the outbox, each a Poster. The
post sender never knows which one it talks to; wiring picks one per account from the
settings and the account's network.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

from commhub.config import Settings, social_variable

# Re-exported: each poster names the network it posts to.
from commhub.store import Network as Network


@dataclass(frozen=True)
class PostRequest:
    """One post for one account, as composed when its edition was prepared."""

    post_id: int
    edition_id: int
    series: str  # the series' slug
    network: Network
    account: str  # the account's name in the series file
    text: str  # the whole post, its tracked link in it
    link: str  # the tracked short link (also inside text)
    item: str  # the item's slug
    title: str  # the item's title
    # The same for every attempt at this post: a network that honours it (Mastodon's
    # Idempotency-Key) makes one status of any number of requests.
    idempotency_key: str


class PostOutcome(enum.StrEnum):
    POSTED = "posted"  # the network took it; remote_id and url say where it is
    RETRY = "retry"  # refused for now (429, 5xx, no connection): try again after retry_after
    FAILED = "failed"  # refused for good (4xx), with the reason
    UNKNOWN = "unknown"  # the request left and no answer came: in doubt


@dataclass(frozen=True)
class PostResult:
    outcome: PostOutcome
    reason: str = ""  # why, for a person; never a credential
    remote_id: str | None = None
    url: str | None = None  # the live post, where the network tells
    retry_after: float | None = None  # seconds, from Retry-After when the network sent one


class Poster(Protocol):
    """Posts to one account of one network."""

    network: Network
    # True when repeating a request with the same idempotency key cannot make a second post:
    # an outcome in doubt is then settled by asking again, not held for a person.
    settles_by_idempotency: bool

    def post(self, request: PostRequest) -> PostResult:
        """Publish the post. Never raises for what the network answers; the answer is the
        result."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


WEBHOOK_STYLES = ("json", "slack", "teams")
LINKEDIN_API = "https://api.linkedin.com"
LINKEDIN_VERSION = "202405"  # the LinkedIn-Version header: the API's monthly version


@dataclass(frozen=True)
class AccountSettings:
    """One account's endpoint and credentials, read from the environment under its name
    (COMMHUB_SOCIAL_<NAME>_...): never from a file, never shown."""

    name: str
    network: Network
    url: str | None = None  # Mastodon: the instance; LinkedIn: the API; webhook: its URL
    token: str | None = None  # Mastodon and LinkedIn: the bearer token
    author: str | None = None  # LinkedIn: the organisation or member URN posted as
    secret: str | None = None  # webhook: signs each body with HMAC-SHA256 when set
    style: str = "json"  # webhook: json, slack or teams
    max_length: int | None = None  # webhook: the longest text it takes
    version: str = LINKEDIN_VERSION

    def __repr__(self) -> str:  # never a credential in a log line or a traceback
        return f"AccountSettings(name={self.name!r}, network={self.network.value!r})"


@dataclass(frozen=True)
class PostingPolicy:
    """How posters talk to the networks. allow_private is for tests and local set-ups."""

    timeout_seconds: float = 20.0
    allow_private: bool = False


def env_prefix(account: str) -> str:
    """COMMHUB_SOCIAL_VENDOR_DEV_ for the account vendor-dev."""
    return social_variable(account, "")


# -- helpers the posters share (added with the posters) ---------------------------------

EXCERPT_LENGTH = 200  # characters of a network's own words kept in a reason


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds a Retry-After header asks for: delay-seconds or an HTTP date (RFC 9110),
    never negative; None when the header is absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
    except (TypeError, ValueError):  # not a date, or a date without a zone
        return None


def excerpt(text: str, hide: Iterable[str | None] = (), limit: int = EXCERPT_LENGTH) -> str:
    """`text` on one line and at most `limit` characters, each of `hide` (a token, a secret,
    a webhook's URL) replaced by *** first, so that a reason can quote what a network said."""
    for secret in hide:
        if secret:
            text = text.replace(secret, "***")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def account_settings(settings: Settings, name: str, network: Network) -> AccountSettings:
    """The account's endpoint and credentials from COMMHUB_SOCIAL_<NAME>_<KEY>."""

    def setting(key: str) -> str | None:
        return settings.social_setting(name, key)

    max_length = setting("MAX_LENGTH")
    return AccountSettings(
        name=name,
        network=network,
        url=setting("URL") or (LINKEDIN_API if network is Network.LINKEDIN else None),
        token=setting("TOKEN"),
        author=setting("AUTHOR"),
        secret=setting("SECRET"),
        style=(setting("STYLE") or "json").lower(),
        max_length=int(max_length) if max_length and max_length.isdigit() else None,
        version=setting("VERSION") or LINKEDIN_VERSION,
    )

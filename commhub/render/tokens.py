"""Signed tokens for links in messages: one per message, scoped by purpose, never expiring.

A token names one message and is signed with the first secret key; every configured key
verifies, so retiring a key does not break the unsubscribe links already in inboxes. The
purpose is the signer's salt: a token minted for one purpose never verifies for another.
"""

from __future__ import annotations

import enum
import hmac
from base64 import urlsafe_b64encode
from collections.abc import Sequence

from itsdangerous import BadData, URLSafeSerializer

from commhub.store import MAX_ID


class TokenPurpose(enum.StrEnum):
    """What a token may be used for; part of the signature."""

    MESSAGE = "message"  # every per-contact link of one message
    CALENDAR = "calendar"  # the team's subscribable calendar feed (scheduling)
    PERSONAL_FEED = "personal_feed"  # a contact's own Atom feed, and the clicks in it
    SOCIAL_POST = "social_post"  # the short link in one social post
    # The first-party cookie that lets a consented contact's click on a post count for them.
    ATTRIBUTION = "attribution"


# Longer than any token commhub signs: a longer one is not even verified.
MAX_TOKEN_LENGTH = 200
FAST_PATH_LIMIT = 10**12


class Tokens:
    """Signs and reads the tokens of one purpose with the installation's keys."""

    def __init__(self, secret_keys: Sequence[str], purpose: TokenPurpose) -> None:
        if not secret_keys:
            raise ValueError("at least one secret key is needed")
        # itsdangerous signs with the last key and verifies with all of them.
        self._serializer = URLSafeSerializer(
            list(reversed(secret_keys)), salt=f"commhub.{purpose.value}.v1"
        )
        # Every message is signed on the send path, where itsdangerous' dumps costs more than
        # the rest of a SendGrid personalization: it derives the key and builds a signer per
        # call. Here the key is derived and the HMAC keyed once; the tokens are the same
        # bytes, which is checked now, so a change in itsdangerous' defaults is no risk.
        self._keyed_mac = hmac.new(self._serializer.make_signer().derive_key(), None, "sha1")
        self._fast = self._keyed_sign(1) == self._serializer.dumps(1)

    def sign(self, object_id: int) -> str:
        """A URL-safe token naming object_id."""
        # itsdangerous zlib-compresses a payload when that makes it shorter, which can only
        # happen from 13 digits on; the direct path covers the ids below that.
        if self._fast and 0 <= object_id < FAST_PATH_LIMIT:
            return self._keyed_sign(object_id)
        return str(self._serializer.dumps(object_id))

    def _keyed_sign(self, object_id: int) -> str:
        payload = urlsafe_b64encode(str(object_id).encode()).rstrip(b"=")
        mac = self._keyed_mac.copy()
        mac.update(payload)
        signature = urlsafe_b64encode(mac.digest()).rstrip(b"=")
        return (payload + b"." + signature).decode("ascii")

    def read(self, token: str) -> int | None:
        """The id a genuine token names, or None for anything forged, altered or foreign, or
        naming an id no row can have (the databases' ids are 64-bit).

        itsdangerous compares signatures in constant time, so a near-miss takes no longer
        to refuse than a wild guess; a token longer than any commhub signs is not looked at.
        """
        if len(token) > MAX_TOKEN_LENGTH:
            return None
        try:
            value = self._serializer.loads(token)
        except BadData:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
            return None
        return value


def message_tokens(secret_keys: Sequence[str]) -> Tokens:
    """The tokens that put one message's contact behind every link of that message."""
    return Tokens(secret_keys, TokenPurpose.MESSAGE)


def post_tokens(secret_keys: Sequence[str]) -> Tokens:
    """The tokens in social posts' short links, each naming one post."""
    return Tokens(secret_keys, TokenPurpose.SOCIAL_POST)


def attribution_tokens(secret_keys: Sequence[str]) -> Tokens:
    """The tokens in the attribution cookie, each naming one consented contact."""
    return Tokens(secret_keys, TokenPurpose.ATTRIBUTION)


class FeedTokens:
    """Signs the random name of a feed (the team's calendar, a contact's own): not its row
    number, which a database rebuilt or restored would hand to another feed, bringing a
    revoked URL back. The purpose is the salt: a calendar token is no personal feed's."""

    def __init__(
        self, secret_keys: Sequence[str], purpose: TokenPurpose = TokenPurpose.CALENDAR
    ) -> None:
        if not secret_keys:
            raise ValueError("at least one secret key is needed")
        self._serializer = URLSafeSerializer(
            list(reversed(secret_keys)), salt=f"commhub.{purpose.value}.v1"
        )

    def sign(self, name: str) -> str:
        return str(self._serializer.dumps(name))

    def read(self, token: str) -> str | None:
        """The name a genuine token of this purpose carries, or None (compared in constant
        time)."""
        if len(token) > MAX_TOKEN_LENGTH:
            return None
        try:
            value = self._serializer.loads(token)
        except BadData:
            return None
        return value if isinstance(value, str) and value else None


def calendar_tokens(secret_keys: Sequence[str]) -> FeedTokens:
    """The tokens in the team's calendar feed URLs, each naming one revocable feed."""
    return FeedTokens(secret_keys)


def personal_feed_tokens(secret_keys: Sequence[str]) -> FeedTokens:
    """The tokens in contacts' personal feed URLs, each naming one revocable feed."""
    return FeedTokens(secret_keys, TokenPurpose.PERSONAL_FEED)

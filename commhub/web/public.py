"""What every public, token-authorised page shares: finding the message, and headers that
keep the token in the URL out of referrers, caches and search engines."""

from __future__ import annotations

from flask import Blueprint, abort
from werkzeug.wrappers import Response

from commhub.tracking import MessageOwner, find_message
from commhub.web.runtime import db_session, runtime

LINK_NOT_VALID = (
    "This link is not valid. If it came from a preview or a test email, that is expected: "
    "links there are not tied to a contact."
)


def owner_or_404(token: str) -> MessageOwner:
    """The message a token names; a 404 for anything else, forged or unknown alike."""
    owner = find_message(db_session(), runtime().tokens, token)
    if owner is None:
        abort(404, description=LINK_NOT_VALID)
    return owner


def protect_token_pages(blueprint: Blueprint) -> None:
    """Add the headers every page behind a message token needs."""

    @blueprint.after_request
    def _headers(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # No page behind a token may be framed (a click-jacked unsubscribe or vote).
        response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
        return response

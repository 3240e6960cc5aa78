"""Every per-contact link in a message, built by one function.

A link is the installation's base URL, a path naming what the link does, the contact's
message token and, for items, the edition's link id (the same for every contact). Nothing
else in commhub builds these URLs: the public endpoints parse exactly what this writes.
"""

from __future__ import annotations

import enum


class LinkKind(enum.StrEnum):
    OPEN = "open"
    CLICK = "click"
    VOTE_YES = "vote_yes"
    VOTE_NO = "vote_no"
    UNSUBSCRIBE = "unsubscribe"
    PREFERENCES = "preferences"
    WEB_VERSION = "web_version"


ITEM_LINKS = frozenset({LinkKind.CLICK, LinkKind.VOTE_YES, LinkKind.VOTE_NO})


def message_link(base_url: str, kind: LinkKind, token: str, link_id: int | None = None) -> str:
    """The URL of one link of one message; item links need the edition's link id."""
    if (kind in ITEM_LINKS) != (link_id is not None):
        raise ValueError(f"a {kind.value} link {'needs' if kind in ITEM_LINKS else 'takes no'} id")
    match kind:
        case LinkKind.OPEN:
            path = f"/t/o/{token}.gif"
        case LinkKind.CLICK:
            path = f"/t/c/{token}/{link_id}"
        case LinkKind.VOTE_YES:
            path = f"/t/v/{token}/{link_id}/yes"
        case LinkKind.VOTE_NO:
            path = f"/t/v/{token}/{link_id}/no"
        case LinkKind.UNSUBSCRIBE:
            path = f"/u/{token}"
        case LinkKind.PREFERENCES:
            path = f"/p/{token}"
        case LinkKind.WEB_VERSION:
            path = f"/w/{token}"
    return base_url + path

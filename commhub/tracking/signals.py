"""What a contact does with a message: opens, clicks and relevance votes, stored as events.

An open is stored every time, but one that looks automated is flagged as a machine open, to
be kept out of the human open rate: within MACHINE_OPEN_SECONDS of delivery (a scanner or a
prefetch, not a person), from an address of a mail privacy proxy that fetches images for
every message it receives, or with a user agent of such a proxy. The proxies' ranges are a
dated list below, replaceable through COMMHUB_MAIL_PROXY_RANGES.

A click sends the contact to the URL the edition stored for the link, with UTM parameters
naming the series, the channel and the contact's roles, unless the URL sets its own.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast
from urllib.parse import parse_qsl, urlencode, urlsplit

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from commhub.contacts import record_engaged
from commhub.store import FORMAT_OF, Event, EventKind
from commhub.tracking.exposures import key_messages_of_links, record_exposures
from commhub.tracking.message_figures import (
    MessageGroup,
    count_item_click,
    count_signal,
    count_vote,
)
from commhub.tracking.subscriptions import CarriedLink, MessageOwner

MACHINE_OPEN_SECONDS = 10
# Networks commonly reported, as of 2026-11, to fetch every image of every message on the
# reader's behalf (so an open from them says nothing about a person): Google's image proxy,
# and Apple's Mail Privacy Protection, which fetches from Apple's own network. Not checked
# against the providers' own lists (none reachable here): replace it with a file of your own
# (one CIDR a line, # comments) through COMMHUB_MAIL_PROXY_RANGES.
MAIL_PROXY_RANGES_2026_11 = (
    "66.102.0.0/20",  # Google (GoogleImageProxy)
    "66.249.64.0/19",  # Google (GoogleImageProxy)
    "17.0.0.0/8",  # Apple (Mail Privacy Protection)
)
PROXY_AGENTS = ("googleimageproxy", "yahoomailproxy", "ymailproxy")


@dataclass(frozen=True)
class MailProxies:
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def of(cls, ranges: Iterable[str]) -> MailProxies:
        return cls(tuple(ipaddress.ip_network(r.strip(), strict=False) for r in ranges))

    @classmethod
    def from_file(cls, path: Path) -> MailProxies:
        """One CIDR a line; blank lines and # comments skipped. ValueError names the line."""
        ranges = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            try:
                ipaddress.ip_network(text, strict=False)
            except ValueError:
                raise ValueError(f"{path}:{number}: not a network: {text!r}") from None
            ranges.append(text)
        return cls.of(ranges)

    def covers(self, address: str | None) -> bool:
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        return any(ip in network for network in self.networks)


DEFAULT_PROXIES = MailProxies.of(MAIL_PROXY_RANGES_2026_11)


def record_open(
    session: Session,
    owner: MessageOwner,
    now: datetime,
    client_address: str | None,
    user_agent: str | None,
    proxies: MailProxies = DEFAULT_PROXIES,
) -> str | None:
    """Store an open; returns why it looks automated, or None for a person's."""
    why = None
    agent = (user_agent or "").lower()
    if owner.sent_at is not None and now - owner.sent_at < timedelta(seconds=MACHINE_OPEN_SECONDS):
        why = "within seconds of delivery"
    elif proxies.covers(client_address) or any(marker in agent for marker in PROXY_AGENTS):
        why = "a mail privacy proxy"
    data = {"machine": why is not None, **({"why": why} if why else {})}
    _store(session, owner, EventKind.OPEN, now, None, None, data)
    if why is None:
        count_signal(session, "human_open", [_group(owner)], now)
        record_engaged(session, [(owner.contact_id, now)])
        seen = key_messages_of_links(session, owner.edition_id, owner.link_ids)
        _exposed(session, owner, seen, now)
    return why


def record_click(
    session: Session, owner: MessageOwner, link_id: int, link: CarriedLink, now: datetime
) -> str:
    """Store a click; returns where to send the contact (the stored URL, with UTM tags)."""
    url = link.url or ""
    target = with_utm(url, owner.series_slug, FORMAT_OF[owner.channel].value, owner.role_set)
    data = {"link_id": link_id, "url": url}
    _store(session, owner, EventKind.CLICK, now, link.content_item_id, link_id, data)
    count_signal(session, "click", [_group(owner)], now)
    record_engaged(session, [(owner.contact_id, now)])
    if link.content_item_id is not None:
        count_item_click(session, _group(owner), link.content_item_id, now)
    _exposed(session, owner, [link.key_message_id] if link.key_message_id else [], now)
    return target


def record_vote(
    session: Session,
    owner: MessageOwner,
    link_id: int,
    link: CarriedLink,
    answer: str,
    now: datetime,
) -> None:
    """Store a relevance vote for the item behind the link (the last one counts)."""
    data = {"link_id": link_id, "answer": answer}
    _store(session, owner, EventKind.VOTE, now, link.content_item_id, link_id, data)
    if link.content_item_id is not None:
        count_vote(session, _group(owner), link.content_item_id, answer, now)
    _exposed(session, owner, [link.key_message_id] if link.key_message_id else [], now)


def _group(owner: MessageOwner) -> MessageGroup:
    return MessageGroup(owner.message_id, owner.edition_id, owner.role_set, owner.variant)


def _exposed(
    session: Session, owner: MessageOwner, key_message_ids: list[int], now: datetime
) -> None:
    """A person saw these key messages in this message: one exposure each, per message."""
    record_exposures(
        session, owner.contact_id, key_message_ids, FORMAT_OF[owner.channel], "message",
        owner.message_id, now,
    )  # fmt: skip


def with_utm(url: str, campaign: str, medium: str, content: str) -> str:
    """url with utm_source, utm_medium, utm_campaign and utm_content added, keeping any the
    URL already has (a marketer's own tags win). The URL's own characters are kept as they
    are, the tags only appended: a target whose query is signed must not be re-encoded."""
    present = {key for key, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)}
    tags = {
        "utm_source": "commhub",
        "utm_medium": medium,
        "utm_campaign": campaign,
        "utm_content": content.replace(",", "+"),
    }
    added = urlencode([(k, v) for k, v in tags.items() if k not in present and v])
    if not added:
        return url
    base, hash_mark, fragment = url.partition("#")
    joiner = "" if base.endswith(("?", "&")) else "&" if "?" in base else "?"
    return f"{base}{joiner}{added}{hash_mark}{fragment}"


def _store(
    session: Session,
    owner: MessageOwner,
    kind: EventKind,
    now: datetime,
    item_id: int | None,
    link_id: int | None,
    data: dict[str, object],
) -> None:
    session.connection().execute(
        _INSERT_EVENT,
        {
            "kind": kind,
            "message_id": owner.message_id,
            "contact_id": owner.contact_id,
            "content_item_id": item_id,
            "format": FORMAT_OF[owner.channel],
            "occurred_at": now,
            "recorded_at": now,
            "provider_event_id": None,
            "data": data,
        },
    )


# Built once and run on the session's connection (Core, not the ORM's bulk path): the open
# pixel and the click redirect run it on every request.
_INSERT_EVENT = insert(cast(Table, Event.__table__))

"""Exposures and the rule of seven: who has seen which key message, how often, in which formats.

An exposure is a human signal that a contact saw an item's key message in a format (email,
video, social, rss): at most one per (contact, key message, source), so an email opened five
times is one exposure. Each new exposure bumps the contact's tally for that key message in
the same transaction; reports read the tallies and never recount events.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple, cast

from sqlalchemy import ColumnElement, Table, bindparam, case, select
from sqlalchemy.orm import Session

from commhub.contacts import record_formats_seen, record_months
from commhub.store import (
    BulkInsert,
    ContentItem,
    EditionLink,
    EditionRender,
    Exposure,
    ExposureTally,
)
from commhub.tracking.reach_figures import FORMATS as FORMATS
from commhub.tracking.reach_figures import SEVEN as SEVEN
from commhub.tracking.reach_figures import TALLIES as TALLIES
from commhub.tracking.reach_figures import THREE as THREE
from commhub.tracking.reach_figures import follow_bumps

EXPOSURES = cast(Table, Exposure.__table__)
# Only the exposures not recorded before come back, so only they bump a tally.
_NEW_EXPOSURES = BulkInsert(
    EXPOSURES,
    ("contact_id", "key_message_id", "format", "source_kind", "source_id", "occurred_at"),
    "ON CONFLICT (contact_id, key_message_id, source_kind, source_id) DO NOTHING",
    returning=("id", "contact_id", "key_message_id", "source_kind", "source_id"),
    order_by=("contact_id", "key_message_id", "source_kind", "source_id"),
)
# One row per tally, in one statement (an upsert may not touch a row twice). It returns the
# new counts, and the times as they were (it leaves them alone; a new row has none): what
# follow_bumps needs to move the contact in reach_cells and reach_weeks.
_BUMP_TALLIES = BulkInsert(
    TALLIES,
    ("contact_id", "key_message_id", *FORMATS, "updated_at"),
    "ON CONFLICT (contact_id, key_message_id) DO UPDATE SET "
    + ", ".join(f"{fmt} = {TALLIES.name}.{fmt} + excluded.{fmt}" for fmt in FORMATS)
    + ", updated_at = excluded.updated_at",
    returning=("contact_id", "key_message_id", *FORMATS, "targeted_at", "met_at"),
    order_by=("contact_id", "key_message_id"),
)


class Seen(NamedTuple):
    """One exposure to record: a contact saw a key message in a format, through a source."""

    contact_id: int
    key_message_id: int
    format: str
    source_kind: str  # message, feed_item, post
    source_id: int
    occurred_at: datetime


def record_exposures(
    session: Session,
    contact_id: int,
    key_message_ids: Iterable[int],
    fmt: str,
    source_kind: str,
    source_id: int,
    now: datetime,
) -> int:
    """Record the exposures not recorded before and bump their tallies; how many were new."""
    return record_seen(
        session,
        [Seen(contact_id, key_id, fmt, source_kind, source_id, now) for key_id in key_message_ids],
        now,
    )


def record_seen(session: Session, seen: Iterable[Seen], now: datetime) -> int:
    """Record, in a few statements whatever their number, the exposures not recorded before,
    and bump their tallies and the reach figures kept from them; how many were new.

    Exposures go in with ON CONFLICT DO NOTHING ... RETURNING, so only the new ones bump a
    tally, and a batch recorded twice (or two processes recording the same open) counts once.
    """
    unique: dict[tuple[int, int, str, int], Seen] = {}
    for exposure in seen:
        if exposure.format not in FORMATS:
            raise ValueError(f"unknown format {exposure.format!r} (known: {', '.join(FORMATS)})")
        contact_id, key_id, _fmt, source_kind, source_id, _at = exposure
        unique.setdefault((contact_id, key_id, source_kind, source_id), exposure)
    if not unique:
        return 0
    new = _NEW_EXPOSURES(session, [unique[key] for key in sorted(unique)])
    fresh: dict[tuple[int, int], list[tuple[str, datetime, int]]] = defaultdict(list)
    for exposure_id, contact_id, key_id, source_kind, source_id in new:
        exposure = unique[(contact_id, key_id, source_kind, source_id)]
        fresh[(contact_id, key_id)].append((exposure.format, exposure.occurred_at, exposure_id))
    # In key order, so that two processes bumping the same tallies cannot deadlock.
    rows = [
        (contact_id, key_id, *_per_format(exposures), now)
        for (contact_id, key_id), exposures in sorted(fresh.items())
    ]
    follow_bumps(session, _BUMP_TALLIES(session, rows), fresh)
    firsts = sorted(
        {(contact_id, fmt) for (contact_id, _key), found in fresh.items() for fmt, *_ in found}
    )
    record_formats_seen(session, firsts, now)  # the partner heat map's cells
    record_months(  # the partner's months
        session,
        [
            (contact_id, fmt, at)
            for (contact_id, _key), found in fresh.items()
            for fmt, at, _ in found
        ],
    )
    return len(new)


def _per_format(exposures: Sequence[tuple[str, datetime, int]]) -> tuple[int, ...]:
    counts = Counter(fmt for fmt, _at, _id in exposures)
    return tuple(counts[fmt] for fmt in FORMATS)


def key_messages_of_message(
    session: Session, edition_id: int, role_set: str, variant: str = ""
) -> list[int]:
    """The key messages of the items a message carried (its role set's render, the variant
    the message names: "" is the role set's full content)."""
    link_ids = session.scalar(
        select(EditionRender.link_ids).where(
            EditionRender.edition_id == edition_id,
            EditionRender.role_set == role_set,
            EditionRender.variant == variant,
        )
    )
    return key_messages_of_links(session, edition_id, link_ids or ())


def key_messages_of_links(session: Session, edition_id: int, link_ids: Iterable[int]) -> list[int]:
    """The key messages of the items behind these links of an edition."""
    wanted = sorted(link_ids)
    if not wanted:
        return []
    found = session.connection().execute(
        _KEY_MESSAGES_OF_LINKS, {"edition_id": edition_id, "links": wanted}
    )
    return [key_id for (key_id,) in found if key_id is not None]


# Built once, and run on the session's connection (Core, without the ORM's overhead): the
# open pixel runs it on every request.
_KEY_MESSAGES_OF_LINKS = (
    select(ContentItem.key_message_id)
    .join(EditionLink, EditionLink.content_item_id == ContentItem.id)
    .where(
        EditionLink.edition_id == bindparam("edition_id"),
        EditionLink.link_id.in_(bindparam("links", expanding=True)),
        ContentItem.key_message_id.is_not(None),
    )
    .distinct()
)


_TALLY_FORMATS = (ExposureTally.email, ExposureTally.video, ExposureTally.social, ExposureTally.rss)


def exposures_in_total() -> ColumnElement[int]:
    """SQL: a tally's exposures, all formats together."""
    email, video, social, rss = _TALLY_FORMATS
    return email + video + social + rss


def formats_seen_in() -> ColumnElement[int]:
    """SQL: in how many formats a tally's contact has seen its key message."""
    email, video, social, rss = (case((count > 0, 1), else_=0) for count in _TALLY_FORMATS)
    return email + video + social + rss


def seen_enough(session: Session, key_message_ids: Iterable[int]) -> dict[int, frozenset[int]]:
    """Contact id -> which of these key messages the contact has seen seven times or more
    across three formats or more (the rule of seven met), in one query."""
    wanted = sorted(set(key_message_ids))
    if not wanted:
        return {}
    found: dict[int, set[int]] = defaultdict(set)
    for contact_id, key_message_id in session.execute(
        select(ExposureTally.contact_id, ExposureTally.key_message_id).where(
            ExposureTally.key_message_id.in_(wanted),
            exposures_in_total() >= SEVEN,
            formats_seen_in() >= THREE,
        )
    ):
        found[contact_id].add(key_message_id)
    return {contact_id: frozenset(keys) for contact_id, keys in found.items()}

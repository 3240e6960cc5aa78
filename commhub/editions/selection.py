"""What an edition carries: for each audience, the newest relevant items not sent to it before.

For an edition, each audience of the series gets the published, unexpired items tagged for
it that no earlier edition of the series carried to that audience, by priority and then
date, up to the series' max_items. A contact with several roles gets one email with a
section per role, and no item twice: an item is shown in the first of the contact's
sections that carries it.

A series with the rule of seven prefers, within a priority, the items whose key message
fewer of the audience's contacts have seen seven times or more, so that max_items spends
its places on what has not yet stuck.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Subquery, delete, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from commhub.render import AudienceInfo, ContentPlan, PickedItem
from commhub.store import (
    Audience,
    Channel,
    Contact,
    ContactStatus,
    ContentItem,
    ContentKind,
    ContentStatus,
    Edition,
    EditionItem,
    EditionState,
    ExposureTally,
    Series,
    contact_roles,
    content_item_audiences,
)
from commhub.tracking import SEVEN, exposures_in_total

# Editions whose content counts as carried: once picked for people, never picked again.
CARRIED_STATES = (
    EditionState.HELD,
    EditionState.SENDING,
    EditionState.PAUSED,
    EditionState.SENT,
)


def series_audiences(session: Session, series: Series) -> list[Audience]:
    """The audiences a series serves, by slug (all of them for `audiences: all`)."""
    if series.all_audiences:
        return list(session.scalars(select(Audience).order_by(Audience.slug)))
    return sorted(series.audiences, key=lambda a: a.slug)


def kinds_of(series: Series) -> tuple[ContentKind, ...] | None:
    """The kinds of item the series' editions carry (None: every kind). A video digest
    carries videos unless its file says otherwise; a newsletter carries everything."""
    if series.kinds:
        return tuple(ContentKind(kind) for kind in series.kinds)
    if series.channel is Channel.VIDEO_DIGEST:
        return (ContentKind.VIDEO,)
    return None


def pick_content(
    session: Session, series: Series, now: datetime, edition_id: int | None = None
) -> ContentPlan:
    """Pick each audience's items for an edition of series at time now.

    edition_id names the edition being picked for, so that its own earlier picks (if it is
    picked again before it is sent) do not count as carried.
    """
    audiences = series_audiences(session, series)
    carried = (
        select(EditionItem.content_item_id)
        .join(Edition, Edition.id == EditionItem.edition_id)
        .where(
            Edition.series_id == series.id,
            Edition.state.in_(CARRIED_STATES),
            EditionItem.audience_id == content_item_audiences.c.audience_id,
            EditionItem.content_item_id == ContentItem.id,
        )
    )
    if edition_id is not None:
        carried = carried.where(Edition.id != edition_id)
    audience_ids = [a.id for a in audiences]
    query = (
        select(content_item_audiences.c.audience_id, ContentItem)
        .join(ContentItem, ContentItem.id == content_item_audiences.c.content_item_id)
        .where(
            content_item_audiences.c.audience_id.in_(audience_ids),
            ContentItem.status == ContentStatus.PUBLISHED,
            or_(ContentItem.publish_at.is_(None), ContentItem.publish_at <= now),
            or_(ContentItem.expires_at.is_(None), ContentItem.expires_at > now),
            ~exists(carried),
        )
        .options(selectinload(ContentItem.key_message))
    )
    kinds = kinds_of(series)
    if kinds is not None:
        query = query.where(ContentItem.kind.in_(kinds))
    order: list[ColumnElement[Any]] = [ContentItem.priority.desc()]
    if series.rule_of_seven:
        seen = _seen_seven_times(audience_ids)
        query = query.outerjoin(
            seen,
            (seen.c.audience_id == content_item_audiences.c.audience_id)
            & (seen.c.key_message_id == ContentItem.key_message_id),
        )
        order.append(func.coalesce(seen.c.contacts, 0).asc())
    order += [ContentItem.publish_at.desc().nulls_last(), ContentItem.id.desc()]
    rows = session.execute(query.order_by(*order))
    slug_of = {a.id: a.slug for a in audiences}
    picks: dict[str, list[PickedItem]] = defaultdict(list)
    for audience_id, item in rows:
        bucket = picks[slug_of[audience_id]]
        if series.max_items is None or len(bucket) < series.max_items:
            bucket.append(PickedItem.of(item))
    return ContentPlan(
        audiences=tuple(AudienceInfo(a.slug, a.name, a.description) for a in audiences),
        picks={slug: tuple(items) for slug, items in picks.items()},
    )


def _seen_seven_times(audience_ids: list[int]) -> Subquery:
    """Per audience and key message, how many of the audience's active contacts have seen
    the key message seven times or more, in any formats."""
    total = exposures_in_total()
    return (
        select(
            contact_roles.c.audience_id,
            ExposureTally.key_message_id,
            func.count().label("contacts"),
        )
        .join(contact_roles, contact_roles.c.contact_id == ExposureTally.contact_id)
        .join(Contact, Contact.id == ExposureTally.contact_id)
        .where(
            contact_roles.c.audience_id.in_(audience_ids),
            Contact.status == ContactStatus.ACTIVE,
            total >= SEVEN,
        )
        .group_by(contact_roles.c.audience_id, ExposureTally.key_message_id)
        .subquery("seen_seven_times")
    )


def carried_content(session: Session, edition: Edition) -> ContentPlan:
    """The content an edition was prepared with, as recorded when it was picked."""
    audiences = series_audiences(session, edition.series)
    rows = session.execute(
        select(EditionItem.audience_id, ContentItem)
        .join(ContentItem, ContentItem.id == EditionItem.content_item_id)
        .where(EditionItem.edition_id == edition.id)
        .options(selectinload(ContentItem.key_message))
        .order_by(EditionItem.audience_id, EditionItem.position)
    )
    slug_of = {a.id: a.slug for a in audiences}
    picks: dict[str, list[PickedItem]] = defaultdict(list)
    for audience_id, item in rows:
        if audience_id in slug_of:
            picks[slug_of[audience_id]].append(PickedItem.of(item))
    return ContentPlan(
        audiences=tuple(AudienceInfo(a.slug, a.name, a.description) for a in audiences),
        picks={slug: tuple(items) for slug, items in picks.items()},
    )


def record_picks(session: Session, edition: Edition, plan: ContentPlan) -> None:
    """Store what the edition carries to each audience (the record that stops repeats)."""
    audience_ids = {a.slug: a.id for a in session.scalars(select(Audience))}
    session.execute(delete(EditionItem).where(EditionItem.edition_id == edition.id))
    rows = [
        EditionItem(
            edition_id=edition.id,
            audience_id=audience_ids[slug],
            content_item_id=item.id,
            position=position,
        )
        for slug, items in plan.picks.items()
        for position, item in enumerate(items)
    ]
    session.add_all(rows)
    session.flush()

"""Who an edition is for, and who of them may not be sent to, and why.

A contact is in an edition's audience when one of their roles is an audience of the series
and their partner passes the series' partner filter. Their role set is those roles. Whether
they may be sent to is asked twice: when the edition queues its messages, and again just
before each batch goes out, so that an unsubscribe takes effect within an edition.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from commhub.store import (
    Audience,
    Channel,
    Contact,
    ContactStatus,
    Partner,
    SkipReason,
    contact_roles,
)

RoleSet = tuple[str, ...]
PARTNER_FILTER_FIELDS = {"types": Partner.type, "tiers": Partner.tier, "regions": Partner.region}
_STATUS_REASONS = {
    ContactStatus.UNSUBSCRIBED: SkipReason.UNSUBSCRIBED,
    ContactStatus.BOUNCED: SkipReason.BOUNCED,
    ContactStatus.COMPLAINED: SkipReason.COMPLAINED,
}
_STREAM_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class AudienceMember:
    contact_id: int
    role_set: RoleSet
    skip_reason: SkipReason | None
    timezone: str | None = None


def skip_reason(
    status: ContactStatus,
    has_consent: bool,
    opted_out_channels: Sequence[str],
    paused_until: date | None,
    channel: Channel,
    today: date,
) -> SkipReason | None:
    """Why a contact may not be sent a message on channel today, or None if they may."""
    if status in _STATUS_REASONS:
        return _STATUS_REASONS[status]
    if not has_consent:
        return SkipReason.NO_CONSENT
    if channel.value in opted_out_channels:
        return SkipReason.OPTED_OUT
    if paused_until is not None and paused_until >= today:
        return SkipReason.PAUSED
    return None


def partner_filter_clause(partner_filter: Mapping[str, Sequence[str]]) -> ColumnElement[bool]:
    """The SQL condition a contact's partner must meet (true when the filter is empty)."""
    conditions = [
        PARTNER_FILTER_FIELDS[key].in_(list(values))
        for key, values in partner_filter.items()
        if values
    ]
    return and_(True, *conditions)


def audience_members(
    session: Session,
    audiences: Sequence[Audience],
    partner_filter: Mapping[str, Sequence[str]],
    channel: Channel,
    today: date,
) -> Iterator[AudienceMember]:
    """Every contact in the audiences, in id order, streamed, with their role set."""
    slug_of = {a.id: a.slug for a in audiences}
    query = (
        select(
            Contact.id,
            Contact.status,
            Contact.consent_at,
            Contact.opted_out_channels,
            Contact.paused_until,
            Contact.timezone,
            contact_roles.c.audience_id,
        )
        .join(contact_roles, contact_roles.c.contact_id == Contact.id)
        .where(contact_roles.c.audience_id.in_(list(slug_of)))
        .order_by(Contact.id)
    )
    if any(partner_filter.values()):
        query = query.join(Partner, Partner.id == Contact.partner_id).where(
            partner_filter_clause(partner_filter)
        )
    current: Any = None
    roles: list[str] = []
    for row in session.execute(query.execution_options(yield_per=_STREAM_CHUNK)):
        if current is not None and row.id != current.id:
            yield _member(current, roles, channel, today)
            roles = []
        current = row
        roles.append(slug_of[row.audience_id])
    if current is not None:
        yield _member(current, roles, channel, today)


def _member(row: Any, roles: list[str], channel: Channel, today: date) -> AudienceMember:
    reason = skip_reason(
        row.status, row.consent_at is not None, row.opted_out_channels, row.paused_until,
        channel, today,
    )  # fmt: skip
    return AudienceMember(row.id, tuple(sorted(roles)), reason, row.timezone)

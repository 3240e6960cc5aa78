"""Who an edition is for, and who of them may not be sent to, and why.

A contact is in an edition's audience when one of their roles is an audience of the series
and their partner passes the series' partner filter. Their role set is those roles. Whether
they may be sent to is asked when the edition queues its messages, again just before each
batch goes out (so that an unsubscribe takes effect within an edition), and by the calendar
when it counts expected recipients: all three ask the SQL built here, so that the rule is
written once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVarTuple

from sqlalchemy import ColumnElement, Select, Text, and_, case, not_, select, type_coerce
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from commhub.store import (
    Audience,
    Channel,
    Contact,
    ContactStatus,
    Message,
    Partner,
    RoleSet,
    SkipReason,
    contact_roles,
)

PARTNER_FILTER_FIELDS = {"types": Partner.type, "tiers": Partner.tier, "regions": Partner.region}
_STATUS_REASONS = {
    ContactStatus.UNSUBSCRIBED: SkipReason.UNSUBSCRIBED,
    ContactStatus.BOUNCED: SkipReason.BOUNCED,
    ContactStatus.COMPLAINED: SkipReason.COMPLAINED,
}
_STREAM_CHUNK = 5000
_Columns = TypeVarTuple("_Columns")


@dataclass(frozen=True, slots=True)
class AudienceMember:
    contact_id: int
    role_set: RoleSet
    skip_reason: SkipReason | None
    timezone: str | None = None


def opted_out_of(channel: Channel) -> ColumnElement[bool]:
    """The SQL condition: the contact opted out of channel."""
    # opted_out_channels is a JSON list of channel values, written by json.dumps: the quoted
    # value appears in its text exactly when the list holds it. One LIKE reads the same on
    # SQLite and PostgreSQL, where JSON functions differ (json_each, jsonb operators).
    # autoescape: the `_` of video_digest is a literal, not LIKE's any-character.
    return sql_cast(Contact.opted_out_channels, Text).contains(
        f'"{channel.value}"', autoescape=True
    )


def _refusals(channel: Channel, today: date) -> list[tuple[ColumnElement[bool], SkipReason]]:
    """The one rule: why a contact may not be sent on channel today, first match wins."""
    # Each condition is true or false, never NULL, so that negating them all (may_be_sent)
    # keeps exactly the contacts for whom the CASE (skip_reason_of) finds no reason.
    return [
        *((Contact.status == status, reason) for status, reason in _STATUS_REASONS.items()),
        (Contact.consent_at.is_(None), SkipReason.NO_CONSENT),
        (opted_out_of(channel), SkipReason.OPTED_OUT),
        (
            and_(Contact.paused_until.is_not(None), Contact.paused_until >= today),
            SkipReason.PAUSED,
        ),
    ]


def skip_reason_of(channel: Channel, today: date) -> ColumnElement[SkipReason | None]:
    """The SQL value: why a contact may not be sent on channel today, NULL if they may."""
    reasons = case(
        *((condition, reason.value) for condition, reason in _refusals(channel, today)),
        else_=None,
    )
    # Read back as a SkipReason, as the messages' column is.
    return type_coerce(reasons, Message.skip_reason.type)


def may_be_sent(channel: Channel, today: date) -> ColumnElement[bool]:
    """The SQL condition: the contact may be sent on channel today."""
    return and_(*(not_(condition) for condition, _reason in _refusals(channel, today)))


def partner_filter_clause(partner_filter: Mapping[str, Sequence[str]]) -> ColumnElement[bool]:
    """The SQL condition a contact's partner must meet (true when the filter is empty)."""
    conditions = [
        PARTNER_FILTER_FIELDS[key].in_(list(values))
        for key, values in partner_filter.items()
        if values
    ]
    return and_(True, *conditions)


def in_audience(
    query: Select[*_Columns],
    audience_ids: Sequence[int] | None,
    partner_filter: Mapping[str, Sequence[str]],
) -> Select[*_Columns]:
    """query over Contact narrowed to the contacts with a role among audience_ids (None:
    any audience) whose partner passes partner_filter, one row per such role."""
    query = query.join(contact_roles, contact_roles.c.contact_id == Contact.id)
    if audience_ids is not None:
        query = query.where(contact_roles.c.audience_id.in_(list(audience_ids)))
    if any(partner_filter.values()):
        query = query.join(Partner, Partner.id == Contact.partner_id).where(
            partner_filter_clause(partner_filter)
        )
    return query


def audience_members(
    session: Session,
    audiences: Sequence[Audience],
    partner_filter: Mapping[str, Sequence[str]],
    channel: Channel,
    today: date,
) -> Iterator[AudienceMember]:
    """Every contact in the audiences, in id order, streamed, with their role set."""
    slug_of = {a.id: a.slug for a in audiences}
    query = in_audience(
        select(
            Contact.id,
            Contact.timezone,
            contact_roles.c.audience_id,
            skip_reason_of(channel, today).label("skip_reason"),
        ),
        list(slug_of),
        partner_filter,
    ).order_by(Contact.id)
    current: Any = None
    roles: list[str] = []
    for row in session.execute(query.execution_options(yield_per=_STREAM_CHUNK)):
        if current is not None and row.id != current.id:
            yield _member(current, roles)
            roles = []
        current = row
        roles.append(slug_of[row.audience_id])
    if current is not None:
        yield _member(current, roles)


def _member(row: Any, roles: list[str]) -> AudienceMember:
    return AudienceMember(row.id, RoleSet(roles), row.skip_reason, row.timezone)

"""The preference centre's rules: a contact's roles, the formats they want, a pause.

Saved at once and honoured by every send dispatched afterwards: roles decide the next
edition's audience; formats and pauses are asked again before every batch.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from commhub.errors import CommhubError
from commhub.store import (
    Audience,
    Channel,
    Contact,
    ContactStatus,
    Event,
    EventKind,
    contact_roles,
)
from commhub.tracking.subscriptions import MessageOwner

# The channels a contact can choose to get, in the words the page uses.
CHANNEL_CHOICES = {
    Channel.NEWSLETTER.value: "The newsletter for your roles",
    Channel.VIDEO_DIGEST.value: "The video digest",
    Channel.SOCIAL.value: "Posts on social networks",
    Channel.FEED.value: "Your RSS feed",
}
PAUSES = {0: "No pause", 30: "Pause for 30 days", 90: "Pause for 90 days"}
# Why choices would not be used for a contact commhub no longer sends to.
NOT_SENT_TO = {
    ContactStatus.UNSUBSCRIBED: "this address is unsubscribed from everything, so these "
    "choices would not be used; write to us to be subscribed again",
    ContactStatus.BOUNCED: "mail to this address bounced, so nothing is sent to it and these "
    "choices would not be used",
    ContactStatus.COMPLAINED: "this address reported our mail as spam, so nothing is sent to "
    "it and these choices would not be used",
}


class PreferencesError(CommhubError):
    """A preference form that cannot be saved; the message says what to change."""


@dataclass(frozen=True)
class Preferences:
    roles: frozenset[str]  # audience slugs
    formats: frozenset[str]  # channel values wanted
    paused_until: date | None


def current_preferences(session: Session, contact_id: int) -> Preferences:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise PreferencesError("no such contact")
    return Preferences(
        roles=frozenset(a.slug for a in contact.roles),
        formats=frozenset(CHANNEL_CHOICES) - frozenset(contact.opted_out_channels),
        paused_until=contact.paused_until,
    )


def role_choices(session: Session) -> list[tuple[str, str]]:
    """(slug, name) of every audience, for the form."""
    return list(session.execute(select(Audience.slug, Audience.name).order_by(Audience.name)))


def not_sent_to(owner: MessageOwner) -> str | None:
    """Why nothing is sent to the contact any more (so choices would not be used), or None."""
    return NOT_SENT_TO.get(owner.status)


def save_preferences(
    session: Session,
    owner: MessageOwner,
    roles: Collection[str],
    formats: Collection[str],
    pause_days: int,
    now: datetime,
) -> Preferences:
    """Check and save a contact's choices; PreferencesError names what is wrong."""
    refusal = not_sent_to(owner)
    if refusal is not None:
        raise PreferencesError(refusal)
    roles, formats = set(roles), set(formats)  # a form may repeat a choice
    audience_ids = dict(session.execute(select(Audience.slug, Audience.id)).all())
    unknown = sorted(set(roles) - set(audience_ids)) + sorted(set(formats) - set(CHANNEL_CHOICES))
    if unknown:
        raise PreferencesError(f"unknown choice: {', '.join(unknown)}")
    if not roles:
        raise PreferencesError("choose at least one role, or unsubscribe from all")
    if pause_days not in PAUSES:
        raise PreferencesError("choose one of the pauses offered")
    paused_until = now.date() + timedelta(days=pause_days) if pause_days else None
    session.execute(
        update(Contact)
        .where(Contact.id == owner.contact_id)
        .values(
            opted_out_channels=sorted(set(CHANNEL_CHOICES) - set(formats)),
            paused_until=paused_until,
            updated_at=now,
        )
    )
    session.execute(delete(contact_roles).where(contact_roles.c.contact_id == owner.contact_id))
    session.execute(
        insert(contact_roles),
        [{"contact_id": owner.contact_id, "audience_id": audience_ids[r]} for r in sorted(roles)],
    )
    session.add(
        Event(
            kind=EventKind.PREFERENCES,
            message_id=owner.message_id,
            contact_id=owner.contact_id,
            occurred_at=now,
            recorded_at=now,
            data={"roles": sorted(roles), "formats": sorted(formats), "pause_days": pause_days},
        )
    )
    session.flush()
    return Preferences(frozenset(roles), frozenset(formats), paused_until)

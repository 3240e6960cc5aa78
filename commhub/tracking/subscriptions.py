"""What a contact can do from a message's links: see it on the web, see their settings,
leave. Every function starts from a message token; a token that does not verify, or names
a message that is gone, finds nothing, and the caller answers as for any unknown link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.orm import Session

from commhub.render import ContactValues, Personalisable, Tokens
from commhub.store import (
    Channel,
    Contact,
    ContactStatus,
    ContentItem,
    Edition,
    EditionLink,
    EditionRender,
    Event,
    EventKind,
    Message,
    Partner,
    Series,
    rowcount,
)
from commhub.tracking.message_figures import MessageGroup, count_signal


@dataclass(frozen=True)
class MessageOwner:
    """The message a token names, and the contact it was for."""

    message_id: int
    edition_id: int
    contact_id: int
    channel: Channel
    role_set: str
    email: str
    first_name: str
    last_name: str
    partner: str
    status: ContactStatus
    series_name: str
    series_slug: str
    sent_at: datetime | None
    # Which render of the role set the message carried ("" for its full content).
    variant: str = ""
    # The edition's links this message holds: the only ones its token may follow.
    link_ids: frozenset[int] = frozenset()


def find_message(session: Session, tokens: Tokens, token: str) -> MessageOwner | None:
    """The message and contact behind a token, or None."""
    message_id = tokens.read(token)
    if message_id is None:
        return None
    row = session.connection().execute(_FIND_MESSAGE, {"message_id": message_id}).one_or_none()
    if row is None:
        return None
    return MessageOwner(
        message_id=row.id,
        edition_id=row.edition_id,
        contact_id=row.contact_id,
        channel=row.channel,
        role_set=row.role_set,
        email=row.email,
        first_name=row.first_name,
        last_name=row.last_name,
        partner=row.partner or "",
        status=row.status,
        series_name=row.series_name,
        series_slug=row.series_slug,
        sent_at=row.sent_at,
        variant=row.variant,
        link_ids=frozenset(row.link_ids or ()),
    )


# Built once, and run on the session's connection (Core, without the ORM's overhead): the
# open pixel and the click redirect run it on every request.
_FIND_MESSAGE = (
    select(
        Message.id,
        Message.edition_id,
        Message.contact_id,
        Message.channel,
        Message.role_set,
        Contact.email,
        Contact.first_name,
        Contact.last_name,
        Contact.status,
        Partner.name.label("partner"),
        Series.name.label("series_name"),
        Series.slug.label("series_slug"),
        Message.sent_at,
        Message.variant,
        EditionRender.link_ids,
    )
    .join(Contact, Contact.id == Message.contact_id)
    .outerjoin(Partner, Partner.id == Contact.partner_id)
    .join(Edition, Edition.id == Message.edition_id)
    .join(Series, Series.id == Edition.series_id)
    .outerjoin(
        EditionRender,
        and_(
            EditionRender.edition_id == Message.edition_id,
            EditionRender.role_set == Message.role_set,
            EditionRender.variant == Message.variant,
        ),
    )
    .where(Message.id == bindparam("message_id"))
)


def unsubscribe(session: Session, owner: MessageOwner, now: datetime, via: str) -> bool:
    """Unsubscribe the contact from everything; False if they already were suppressed.

    Every send dispatched afterwards skips them, including the rest of an edition already
    under way (each batch asks again).
    """
    changed = session.execute(
        update(Contact)
        .where(Contact.id == owner.contact_id, Contact.status == ContactStatus.ACTIVE)
        .values(status=ContactStatus.UNSUBSCRIBED, updated_at=now)
    )
    if rowcount(changed) != 1:
        return False
    session.add(
        Event(
            kind=EventKind.UNSUBSCRIBE,
            message_id=owner.message_id,
            contact_id=owner.contact_id,
            occurred_at=now,
            data={"via": via},
        )
    )
    group = MessageGroup(owner.message_id, owner.edition_id, owner.role_set, owner.variant)
    count_signal(session, "unsubscribe", [group], now)
    session.flush()
    return True


def web_version(session: Session, owner: MessageOwner, token: str) -> str | None:
    """The message's HTML as the contact received it."""
    html = session.scalar(
        select(EditionRender.html).where(
            EditionRender.edition_id == owner.edition_id,
            EditionRender.role_set == owner.role_set,
            EditionRender.variant == owner.variant,
        )
    )
    if html is None:
        return None
    values = ContactValues.of(owner.first_name, owner.last_name, owner.email, owner.partner, token)
    return Personalisable.parse(html, html=True).fill(values.tags())


class CarriedLink(NamedTuple):
    """A link of a message: where it goes, and the item (and key message) behind it."""

    url: str | None
    title: str
    content_item_id: int | None
    key_message_id: int | None


def link_target(session: Session, owner: MessageOwner, link_id: int) -> CarriedLink | None:
    """One link of the message, or None if the message holds no such link (a link of the
    edition, but of another contact's sections, is none of this token's business)."""
    if link_id not in owner.link_ids:
        return None
    row = (
        session.connection()
        .execute(_FIND_LINK, {"edition_id": owner.edition_id, "link_id": link_id})
        .one_or_none()
    )
    if row is None:
        return None
    return CarriedLink(row.url, row.title or "", row.content_item_id, row.key_message_id)


_FIND_LINK = (
    select(
        EditionLink.url, ContentItem.title, EditionLink.content_item_id, ContentItem.key_message_id
    )
    .outerjoin(ContentItem, ContentItem.id == EditionLink.content_item_id)
    .where(
        EditionLink.edition_id == bindparam("edition_id"),
        EditionLink.link_id == bindparam("link_id"),
    )
)


def masked(address: str) -> str:
    """An address shown without giving it away to someone the email was forwarded to."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"

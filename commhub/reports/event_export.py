"""Every recorded event as CSV rows, oldest first, streamed: for a spreadsheet or a warehouse.

The columns are time, type, email, item, channel, provider_event_id (more may follow); every
text cell is neutralised against formula injection.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from commhub.contacts import neutralise
from commhub.store import Channel, Contact, ContentItem, Event, Message

HEADER = ("time", "type", "email", "item", "channel", "provider_event_id")
_CHUNK = 5000


def event_rows(session: Session, since: datetime | None = None) -> Iterator[tuple[str, ...]]:
    """The header, then one row per event (since `since`, if given), oldest first."""
    yield HEADER
    query = (
        select(
            Event.occurred_at,
            Event.kind,
            Contact.email,
            ContentItem.slug,
            Message.channel,
            Event.provider_event_id,
        )
        .outerjoin(Contact, Contact.id == Event.contact_id)
        .outerjoin(ContentItem, ContentItem.id == Event.content_item_id)
        .outerjoin(Message, Message.id == Event.message_id)
        .order_by(Event.occurred_at, Event.id)
    )
    if since is not None:
        query = query.where(Event.occurred_at >= since)
    for occurred_at, kind, email, item, channel, provider_id in session.execute(
        query.execution_options(yield_per=_CHUNK)
    ):
        yield (
            occurred_at.isoformat(),
            neutralise(kind),
            neutralise(email or ""),
            neutralise(item or ""),
            channel.value if isinstance(channel, Channel) else "",
            neutralise(provider_id or ""),
        )

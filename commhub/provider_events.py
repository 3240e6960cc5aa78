"""Provider events (SendGrid's Event Webhook): store each event once, and let it act.

A batch is verified before it is read (commhub.delivery.sendgrid_webhook). Each event is
stored once: by SendGrid's `sg_event_id`, or,
lacking one, by a digest of (message, event, time), so a batch sent again changes nothing.
Events name their message by the `custom_args` every send carries.

What an event does to the message and the contact only ever moves forward:
- delivered: a message in doubt (`unknown`) was sent after all;
- bounce and dropped: the message did not arrive (`failed`, with SendGrid's reason), and a
  later delivered does not undo that;
- a hard bounce, a spam report or an unsubscribe suppresses the contact at once.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commhub.complaints import hold_reason
from commhub.db import rowcount
from commhub.exposures import key_messages_of_message, record_exposures
from commhub.models import Contact, ContactStatus, Event, Message, MessageStatus

# SendGrid's event names, and what commhub calls them.
EVENT_KINDS = {
    "processed": "processed",
    "delivered": "delivered",
    "open": "open",
    "click": "click",
    "bounce": "bounce",
    "dropped": "dropped",
    "deferred": "deferred",
    "spamreport": "complaint",
    "unsubscribe": "unsubscribe",
    "group_unsubscribe": "unsubscribe",
}
# What is kept of each event besides what commhub derives from it.
_KEPT_FIELDS = (
    "event", "reason", "type", "status", "url", "sg_message_id", "response", "sg_machine_open",
)  # fmt: skip
_SUPPRESS = {"complaint": ContactStatus.COMPLAINED, "unsubscribe": ContactStatus.UNSUBSCRIBED}


@dataclass
class EventReport:
    stored: int = 0
    duplicates: int = 0
    ignored: Counter[str] = field(default_factory=Counter)  # why, how many
    resolved: int = 0  # messages in doubt found delivered
    failed: int = 0  # messages found bounced or dropped
    suppressed: int = 0  # contacts suppressed


def record_events(
    session: Session, events: Sequence[Any], installation: str, now: datetime
) -> EventReport:
    """Store a verified batch's events once each and apply what they mean."""
    report = EventReport()
    parsed = [_parse(event, installation, report) for event in events]
    wanted = [p for p in parsed if p is not None]
    if not wanted:
        return report
    message_ids = {p.message_id for p in wanted}
    owners = dict(
        session.execute(
            select(Message.id, Message.contact_id).where(Message.id.in_(message_ids))
        ).all()
    )
    known_ids = set(
        session.scalars(
            select(Event.provider_event_id).where(
                Event.provider_event_id.in_([p.event_id for p in wanted])
            )
        )
    )
    seen: set[str] = set()
    for event in wanted:
        if event.message_id not in owners:
            report.ignored["unknown message"] += 1
            continue
        if event.event_id in known_ids or event.event_id in seen:
            report.duplicates += 1
            continue
        seen.add(event.event_id)
        contact_id = owners[event.message_id]
        session.add(
            Event(
                kind=event.kind,
                message_id=event.message_id,
                contact_id=contact_id,
                format="email",
                occurred_at=event.occurred_at,
                recorded_at=now,
                provider_event_id=event.event_id,
                data=event.data,
            )
        )
        report.stored += 1
        _apply(session, event, contact_id, now, report)
    session.flush()
    if any(event.kind == "complaint" for event in wanted):
        hold_reason(session, now)  # raises the complaint alert at 0.1 %
    return report


@dataclass(frozen=True)
class _Parsed:
    event_id: str
    kind: str
    message_id: int
    occurred_at: datetime
    data: dict[str, Any]


def _parse(event: Any, installation: str, report: EventReport) -> _Parsed | None:
    if not isinstance(event, Mapping):
        report.ignored["not an object"] += 1
        return None
    kind = EVENT_KINDS.get(str(event.get("event")))
    if kind is None:
        report.ignored["unknown event type"] += 1
        return None
    if event.get("commhub_installation") not in (None, installation):
        report.ignored["another installation"] += 1
        return None
    raw_id, stamp = event.get("commhub_message_id"), event.get("timestamp")
    if not str(raw_id or "").isdigit() or not isinstance(stamp, int | float):
        report.ignored["no commhub message"] += 1
        return None
    message_id = int(str(raw_id))
    occurred_at = datetime.fromtimestamp(stamp, UTC)
    provider_id = event.get("sg_event_id")
    if not isinstance(provider_id, str) or not provider_id:
        # No id of SendGrid's: the same event is the same message, kind and moment.
        natural = f"{message_id}:{event.get('event')}:{stamp}"
        provider_id = "natural:" + hashlib.sha256(natural.encode()).hexdigest()[:40]
    data = {key: event[key] for key in _KEPT_FIELDS if key in event}
    return _Parsed(provider_id[:200], kind, message_id, occurred_at, data)


def _apply(
    session: Session, event: _Parsed, contact_id: int, now: datetime, report: EventReport
) -> None:
    if event.kind == "delivered":
        resolved = session.execute(
            update(Message)
            .where(Message.id == event.message_id, Message.status == MessageStatus.UNKNOWN)
            .values(status=MessageStatus.SENT, sent_at=event.occurred_at, last_error=None)
        )
        report.resolved += rowcount(resolved)
    elif event.kind in ("bounce", "dropped"):
        reason = f"{event.kind}: {event.data.get('reason') or event.data.get('type') or ''}"
        failed = session.execute(
            update(Message)
            .where(
                Message.id == event.message_id,
                Message.status.in_((MessageStatus.SENT, MessageStatus.UNKNOWN)),
            )
            .values(status=MessageStatus.FAILED, last_error=reason.strip(": ")[:1000])
        )
        report.failed += rowcount(failed)
        # A "blocked" bounce is temporary (the receiver refused for now): no suppression.
        if event.kind == "bounce" and event.data.get("type") != "blocked":
            report.suppressed += _suppress(session, contact_id, ContactStatus.BOUNCED)
    elif event.kind in _SUPPRESS:
        report.suppressed += _suppress(session, contact_id, _SUPPRESS[event.kind])
    elif event.kind in ("open", "click") and not event.data.get("sg_machine_open"):
        _exposed(session, event, contact_id)


def _exposed(session: Session, event: _Parsed, contact_id: int) -> None:
    """A person opened the message, or clicked in it: its key messages were seen."""
    message = session.get(Message, event.message_id)
    if message is None:
        return
    seen = key_messages_of_message(session, message.edition_id, message.role_set)
    record_exposures(
        session, contact_id, seen, "email", "message", event.message_id, event.occurred_at
    )


def _suppress(session: Session, contact_id: int, status: ContactStatus) -> int:
    """Stop sending to the contact; an existing suppression is not replaced."""
    done = session.execute(
        update(Contact)
        .where(Contact.id == contact_id, Contact.status == ContactStatus.ACTIVE)
        .values(status=status)
    )
    return rowcount(done)

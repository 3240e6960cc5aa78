"""Provider events (SendGrid's Event Webhook): store each event once, and let it act.

A batch is verified before it is read (tracking.sendgrid_webhook). Each event is
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
import math
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from commhub.contacts import record_engaged
from commhub.store import (
    FORMAT_OF,
    MAX_ID,
    BulkInsert,
    Channel,
    Contact,
    ContactStatus,
    Event,
    EventKind,
    Message,
    MessageStatus,
    rowcount,
)
from commhub.tracking.complaints import hold_reason
from commhub.tracking.exposures import Seen, key_messages_of_message, record_seen
from commhub.tracking.message_figures import MessageGroup, count_sent, count_signal
from commhub.tracking.upkeep import messages_sent

# SendGrid's event names, and what commhub calls them.
EVENT_KINDS = {
    "processed": EventKind.PROCESSED,
    "delivered": EventKind.DELIVERED,
    "open": EventKind.OPEN,
    "click": EventKind.CLICK,
    "bounce": EventKind.BOUNCE,
    "dropped": EventKind.DROPPED,
    "deferred": EventKind.DEFERRED,
    "spamreport": EventKind.COMPLAINT,
    "unsubscribe": EventKind.UNSUBSCRIBE,
    "group_unsubscribe": EventKind.UNSUBSCRIBE,
}
# What is kept of each event besides what commhub derives from it.
_KEPT_FIELDS = frozenset((
    "event", "reason", "type", "status", "url", "sg_message_id", "response", "sg_machine_open",
))  # fmt: skip
EVENTS = cast(Table, Event.__table__)
# Only the events not stored before come back, and only they act.
_NEW_EVENTS = BulkInsert(
    EVENTS,
    ("kind", "message_id", "contact_id", "format", "occurred_at", "recorded_at",
     "provider_event_id", "data"),
    "ON CONFLICT (provider_event_id) DO NOTHING",
    returning=("provider_event_id",), order_by=("provider_event_id",),
)  # fmt: skip
_SUPPRESS = {
    EventKind.COMPLAINT: ContactStatus.COMPLAINED,
    EventKind.UNSUBSCRIBE: ContactStatus.UNSUBSCRIBED,
}


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
    """Store a verified batch's events once each and apply what they mean.

    A batch is a few statements whatever its size (SendGrid posts up to about 1,700 events
    at a time): the events go in with one INSERT ... ON CONFLICT DO NOTHING RETURNING, and
    only those it returns, the new ones, act.
    """
    report = EventReport()
    batch: dict[str, _Parsed] = {}
    for raw in events:
        parsed = _parse(raw, installation, report)
        if parsed is None:
            continue
        if parsed.event_id in batch:
            report.duplicates += 1
        else:
            batch[parsed.event_id] = parsed
    if not batch:
        return report
    messages = _messages_of(session, {p.message_id for p in batch.values()})
    known = [p for p in batch.values() if p.message_id in messages]
    report.ignored["unknown message"] += len(batch) - len(known)
    if not known:
        return report
    # In id order: two batches sharing events lock them in the same order (no deadlock).
    known.sort(key=lambda p: p.event_id)
    rows = [_event_row(p, messages[p.message_id], now) for p in known]
    stored = {event_id for (event_id,) in _NEW_EVENTS(session, rows)}
    new = [p for p in known if p.event_id in stored]
    report.stored = len(new)
    report.duplicates += len(known) - len(new)
    _resolve_delivered(session, [p for p in new if p.kind == EventKind.DELIVERED], report)
    _count_signals(session, new, messages, now)
    for event in new:
        _apply(session, event, messages[event.message_id].contact_id, report)
    record_seen(session, _seen(session, new, messages), now)
    if any(event.kind == EventKind.COMPLAINT for event in new):
        hold_reason(session, now)  # raises the complaint alert at 0.1 %
    return report


class _Sent(NamedTuple):
    contact_id: int
    edition_id: int
    channel: Channel
    role_set: str
    variant: str


# The signals a provider's event kind counts for its message (a machine open for none).
_SIGNAL_OF = {
    EventKind.OPEN: "human_open",
    EventKind.CLICK: "click",
    EventKind.DELIVERED: "delivered",
    EventKind.BOUNCE: "bounce",
    EventKind.UNSUBSCRIBE: "unsubscribe",
    EventKind.COMPLAINT: "complaint",
}


def _count_signals(
    session: Session, new: list[_Parsed], messages: dict[int, _Sent], now: datetime
) -> None:
    """Count each new event's signal for its message (once per message, in the figures)."""
    by_signal: defaultdict[str, list[MessageGroup]] = defaultdict(list)
    engaged: list[tuple[int, datetime]] = []  # a person's opens and clicks, for the months
    for event in new:
        signal = _SIGNAL_OF.get(event.kind)
        if signal is None or (signal == "human_open" and event.data.get("sg_machine_open")):
            continue
        sent = messages[event.message_id]
        by_signal[signal].append(
            MessageGroup(event.message_id, sent.edition_id, sent.role_set, sent.variant)
        )
        flagged = event.data.get("sg_machine_open")  # as partner_months' rebuild leaves out
        if signal in ("human_open", "click") and sent.contact_id is not None and not flagged:
            engaged.append((sent.contact_id, event.occurred_at))
    for signal, groups in sorted(by_signal.items()):
        count_signal(session, signal, groups, now)
    record_engaged(session, engaged)


def _messages_of(session: Session, message_ids: set[int]) -> dict[int, _Sent]:
    rows = session.execute(
        select(
            Message.id, Message.contact_id, Message.edition_id, Message.channel,
            Message.role_set, Message.variant,
        ).where(Message.id.in_(message_ids))
    )  # fmt: skip
    return {row[0]: _Sent(*row[1:]) for row in rows}


def _event_row(event: _Parsed, sent: _Sent, now: datetime) -> tuple[Any, ...]:
    return (
        event.kind, event.message_id, sent.contact_id, FORMAT_OF[sent.channel], event.occurred_at,
        now, event.event_id, event.data,
    )  # fmt: skip


class _Parsed(NamedTuple):
    event_id: str
    kind: EventKind
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
    message_id = _message_id(event.get("commhub_message_id"))
    if message_id is None:
        report.ignored["no commhub message"] += 1
        return None
    stamp = event.get("timestamp")
    occurred_at = _moment(stamp)
    if occurred_at is None:
        report.ignored["no usable timestamp"] += 1
        return None
    provider_id = event.get("sg_event_id")
    if not isinstance(provider_id, str) or not _PROVIDER_ID.fullmatch(provider_id):
        # No id of SendGrid's (or one no id looks like): the same event is the same
        # message, kind and moment.
        natural = f"{message_id}:{event.get('event')}:{stamp}"
        provider_id = "natural:" + hashlib.sha256(natural.encode()).hexdigest()[:40]
    data = {key: _kept(event[key]) for key in _KEPT_FIELDS.intersection(event)}
    return _Parsed(provider_id, kind, message_id, occurred_at, data)


# What a signed batch may still get wrong, event by event: each such event is counted in
# `ignored` and the rest of the batch is stored (SendGrid would resend a refused batch whole).
_MESSAGE_ID = re.compile(r"[0-9]{1,19}")  # ASCII digits only: str.isdigit() takes "²" and "٣"
_PROVIDER_ID = re.compile(r"[\x21-\x7e]{1,200}")  # printable ASCII, as SendGrid's ids are
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
_LATEST = datetime(2100, 1, 1, tzinfo=UTC).timestamp()
_MAX_KEPT_TEXT = 1000


def _message_id(raw: object) -> int | None:
    """Our message id from custom_args: a positive 64-bit integer, or None."""
    text = str(raw) if isinstance(raw, str | int) and not isinstance(raw, bool) else ""
    if not _MESSAGE_ID.fullmatch(text):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def _moment(stamp: object) -> datetime | None:
    """A Unix time SendGrid could have sent (a finite number this century), as UTC."""
    if isinstance(stamp, bool) or not isinstance(stamp, int | float):
        return None
    if not (math.isfinite(stamp) and _EARLIEST <= stamp < _LATEST):
        return None
    return datetime.fromtimestamp(stamp, UTC)


def _kept(value: object) -> object:
    """A field kept as it came if it is plain, text cut short and freed of NULs (neither
    database stores one in JSON), anything nested replaced by its type's name."""
    if value is None or isinstance(value, bool | int | float):
        return value if not isinstance(value, float) or math.isfinite(value) else None
    if isinstance(value, str):
        return value.replace("\x00", "")[:_MAX_KEPT_TEXT]
    return f"<{type(value).__name__}>"


def _resolve_delivered(session: Session, delivered: list[_Parsed], report: EventReport) -> None:
    """Messages in doubt (`unknown`) that SendGrid says it delivered were sent after all.

    One read finds them (there are rarely any); each is then updated with its own time.
    """
    if not delivered:
        return
    in_doubt = set(
        session.scalars(
            select(Message.id).where(
                Message.id.in_({event.message_id for event in delivered}),
                Message.status == MessageStatus.UNKNOWN,
            )
        )
    )
    for event in sorted(delivered, key=lambda e: e.occurred_at):
        if event.message_id not in in_doubt:
            continue
        in_doubt.discard(event.message_id)
        resolved = session.execute(
            update(Message)
            .where(Message.id == event.message_id, Message.status == MessageStatus.UNKNOWN)
            .values(status=MessageStatus.SENT, sent_at=event.occurred_at, last_error=None)
        )
        if rowcount(resolved):
            messages_sent(session, [event.message_id], event.occurred_at)
        report.resolved += rowcount(resolved)


def _apply(session: Session, event: _Parsed, contact_id: int, report: EventReport) -> None:
    """What a bounce, a drop, a complaint or an unsubscribe does (rare: one at a time)."""
    if event.kind in (EventKind.BOUNCE, EventKind.DROPPED):
        reason = f"{event.kind}: {event.data.get('reason') or event.data.get('type') or ''}"
        count_sent(session, [event.message_id], sign=-1)  # a sent one is counted out first
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
        if event.kind == EventKind.BOUNCE and event.data.get("type") != "blocked":
            report.suppressed += _suppress(session, contact_id, ContactStatus.BOUNCED)
    elif event.kind in _SUPPRESS:
        report.suppressed += _suppress(session, contact_id, _SUPPRESS[event.kind])


def _seen(session: Session, new: list[_Parsed], messages: dict[int, _Sent]) -> list[Seen]:
    """A person opened a message, or clicked in it: its key messages were seen in email."""
    key_messages: dict[tuple[int, str, str], list[int]] = {}
    seen: list[Seen] = []
    for event in new:
        if event.kind not in (EventKind.OPEN, EventKind.CLICK) or event.data.get("sg_machine_open"):
            continue
        sent = messages[event.message_id]
        render = (sent.edition_id, sent.role_set, sent.variant)
        if render not in key_messages:
            key_messages[render] = key_messages_of_message(session, *render)
        seen.extend(
            Seen(
                sent.contact_id,
                key_id,
                FORMAT_OF[sent.channel],
                "message",
                event.message_id,
                event.occurred_at,
            )
            for key_id in key_messages[render]
        )
    return seen


def _suppress(session: Session, contact_id: int, status: ContactStatus) -> int:
    """Stop sending to the contact; an existing suppression is not replaced."""
    done = session.execute(
        update(Contact)
        .where(Contact.id == contact_id, Contact.status == ContactStatus.ACTIVE)
        .values(status=status)
    )
    return rowcount(done)

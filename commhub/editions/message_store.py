"""The SQL behind an edition's messages: queue them, claim a batch, record what happened.

State only moves forward: queued -> sending -> sent | failed | unknown, and queued ->
skipped. The one step back, sending -> queued, is taken only when the back end says the
message was certainly not accepted (a retry or a deferral). Every transition is a
conditional UPDATE on the state it leaves, so a late or duplicate writer changes nothing.
"""

from __future__ import annotations

from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from commhub.editions.recipients import skip_reason_of
from commhub.store import (
    Channel,
    Contact,
    GroupFigures,
    Message,
    MessageStatus,
    Partner,
    SkipReason,
    rowcount,
)
from commhub.tracking import messages_sent

MESSAGES = cast(Table, Message.__table__)
INSERT_CHUNK = 2000
BULK_UPDATE_MIN = 10  # sent messages alike in this number or more take one UPDATE
FINAL_STATES = (
    MessageStatus.SENT,
    MessageStatus.FAILED,
    MessageStatus.UNKNOWN,
    MessageStatus.SKIPPED,
)


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    contact_id: int
    role_set: str
    skip_reason: SkipReason | None
    # Not before then: the contact's wave of a series sent at local time.
    not_before: datetime | None = None
    # Which render of the role set: "" for all of it, or what was left out for this contact.
    variant: str = ""


class ClaimedMessage(NamedTuple):
    """A message this process now holds in `sending`, with what personalising it needs."""

    message_id: int
    role_set: str
    variant: str
    attempts: int
    email: str
    first_name: str
    last_name: str
    partner: str


class StatusUpdate(NamedTuple):
    """What to write for one message after its back end answered."""

    message_id: int
    status: MessageStatus
    attempts: int
    detail: str | None = None
    next_attempt_at: datetime | None = None
    provider_message_id: str | None = None


def queue_messages(
    session: Session,
    edition_id: int,
    channel: Channel,
    messages: Iterable[QueuedMessage],
    now: datetime,
) -> Counter[MessageStatus]:
    """Insert one message per contact, in chunks; the unique key forbids a second."""
    counts: Counter[MessageStatus] = Counter()
    chunk: list[dict[str, Any]] = []
    for message in messages:
        status = MessageStatus.SKIPPED if message.skip_reason else MessageStatus.QUEUED
        counts[status] += 1
        chunk.append(
            {
                "edition_id": edition_id,
                "contact_id": message.contact_id,
                "channel": channel,
                "role_set": message.role_set,
                "variant": message.variant,
                "status": status,
                "skip_reason": message.skip_reason,
                "attempts": 0,
                "next_attempt_at": message.not_before,
                "queued_at": now,
                "updated_at": now,
            }
        )
        if len(chunk) >= INSERT_CHUNK:
            session.execute(insert(MESSAGES), chunk)
            chunk = []
    if chunk:
        session.execute(insert(MESSAGES), chunk)
    return counts


def grouped_by_role_set(messages: Iterable[QueuedMessage]) -> Iterator[QueuedMessage]:
    """The messages with each role set's (and each variant's) together, so that a batch holds
    few renders (SendGrid sends one request per render in a batch).

    Held as 8 bytes per contact (an array of contact ids per render), so that preparing an
    edition for 100,000 contacts costs under a megabyte more than for 10,000.
    """
    contacts: dict[tuple[str, str], array[int]] = {}
    skips: dict[int, SkipReason] = {}
    waves: dict[int, datetime] = {}
    for message in messages:
        render = (message.role_set, message.variant)
        contacts.setdefault(render, array("q")).append(message.contact_id)
        if message.skip_reason is not None:
            skips[message.contact_id] = message.skip_reason
        if message.not_before is not None:
            waves[message.contact_id] = message.not_before
    for render in sorted(contacts):
        role_set, variant = render
        for contact_id in contacts.pop(render):
            yield QueuedMessage(
                contact_id, role_set, skips.get(contact_id), waves.get(contact_id), variant
            )


def peek_batch(
    session: Session, edition_id: int, now: datetime, limit: int
) -> list[ClaimedMessage]:
    """Up to limit due, queued messages, in id order, with what personalising them needs;
    nothing is claimed (claim_peeked does that)."""
    rows = session.execute(
        select(
            Message.id,
            Message.role_set,
            Message.variant,
            Message.attempts,
            Contact.email,
            Contact.first_name,
            Contact.last_name,
            func.coalesce(Partner.name, "").label("partner"),
        )
        .join(Contact, Contact.id == Message.contact_id)
        .outerjoin(Partner, Partner.id == Contact.partner_id)
        .where(
            Message.edition_id == edition_id,
            Message.status == MessageStatus.QUEUED,
            or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
        )
        .order_by(Message.id)
        .limit(limit)
    )
    return [ClaimedMessage._make(row) for row in rows]


def claim_peeked(
    session: Session, peeked: Sequence[ClaimedMessage], channel: Channel, now: datetime
) -> tuple[list[ClaimedMessage], int]:
    """Move the peeked messages still queued to `sending`, in id order; those whose contact
    may no longer be sent to (they unsubscribed since the edition was queued, or a moment
    ago) are skipped instead, with the reason. Returns the claimed, and how many skipped."""
    if not peeked:
        return [], 0
    reason = skip_reason_of(channel, now.date())
    # Worked out in SQL, by the rule the edition queued with: decoding each contact's
    # status, JSON and dates in Python would cost more than the rest of the claim.
    skips = [
        {"mid": message_id, "reason": why}
        for message_id, why in session.execute(
            select(Message.id, reason)
            .join(Contact, Contact.id == Message.contact_id)
            .where(Message.id.in_([m.message_id for m in peeked]), reason.is_not(None))
        )
    ]
    if skips:
        session.execute(
            update(MESSAGES)
            .where(MESSAGES.c.id == bindparam("mid"), MESSAGES.c.status == MessageStatus.QUEUED)
            .values(status=MessageStatus.SKIPPED, skip_reason=bindparam("reason"), updated_at=now),
            skips,
        )
    skipped = {skip["mid"] for skip in skips}
    claimable = [m.message_id for m in peeked if m.message_id not in skipped]
    if not claimable:
        return [], len(skips)
    claimed = set(
        session.scalars(
            update(MESSAGES)
            .where(MESSAGES.c.id.in_(claimable), MESSAGES.c.status == MessageStatus.QUEUED)
            .values(status=MessageStatus.SENDING, updated_at=now)
            .returning(MESSAGES.c.id)
        )
    )
    return [m for m in peeked if m.message_id in claimed], len(skips)


def record_updates(session: Session, updates: Sequence[StatusUpdate], now: datetime) -> None:
    """Write the outcome of a batch, each row only if it is still `sending`, and count the
    messages sent into the kept figures in the same transaction."""
    _write_updates(session, updates, now)
    messages_sent(session, [u.message_id for u in updates if u.status is MessageStatus.SENT], now)


def _write_updates(session: Session, updates: Sequence[StatusUpdate], now: datetime) -> None:
    # A SendGrid request's messages share their outcome and provider id: one UPDATE each.
    alike: defaultdict[tuple[str | None, int], list[int]] = defaultdict(list)
    for u in updates:
        if u.status is MessageStatus.SENT:
            alike[u.provider_message_id, u.attempts].append(u.message_id)
    shared = {key: ids for key, ids in alike.items() if len(ids) >= BULK_UPDATE_MIN}
    for (provider_id, attempts), ids in shared.items():
        session.execute(
            update(MESSAGES)
            .where(MESSAGES.c.id.in_(ids), MESSAGES.c.status == MessageStatus.SENDING)
            .values(
                status=MessageStatus.SENT,
                attempts=attempts,
                last_error=None,
                next_attempt_at=None,
                provider_message_id=provider_id,
                sent_at=now,
                updated_at=now,
            )
        )
    updates = [
        u
        for u in updates
        if u.status is not MessageStatus.SENT or (u.provider_message_id, u.attempts) not in shared
    ]
    if not updates:
        return
    session.execute(
        update(MESSAGES)
        .where(MESSAGES.c.id == bindparam("mid"), MESSAGES.c.status == MessageStatus.SENDING)
        .values(
            status=bindparam("new_status"),
            attempts=bindparam("new_attempts"),
            last_error=bindparam("detail"),
            next_attempt_at=bindparam("next_at"),
            provider_message_id=bindparam("provider_id"),
            sent_at=bindparam("sent_at"),
            updated_at=now,
        ),
        [
            {
                "mid": u.message_id,
                "new_status": u.status,
                "new_attempts": u.attempts,
                "detail": u.detail,
                "next_at": u.next_attempt_at,
                "provider_id": u.provider_message_id,
                "sent_at": now if u.status is MessageStatus.SENT else None,
            }
            for u in updates
        ],
    )


def mark_in_doubt(session: Session, edition_id: int, now: datetime, why: str) -> int:
    """Every message still `sending` becomes `unknown`: its sender stopped mid-batch."""
    return _move(session, edition_id, MessageStatus.SENDING, now,
                 status=MessageStatus.UNKNOWN, last_error=why)  # fmt: skip


def requeue(session: Session, edition_id: int, from_status: MessageStatus, now: datetime) -> int:
    """Put messages of one state back in the queue (an operator's explicit decision)."""
    return _move(session, edition_id, from_status, now,
                 status=MessageStatus.QUEUED, next_attempt_at=None)  # fmt: skip


def skip_queued(session: Session, edition_id: int, reason: SkipReason, now: datetime) -> int:
    """Skip every message of the edition still waiting in the queue."""
    return _move(session, edition_id, MessageStatus.QUEUED, now,
                 status=MessageStatus.SKIPPED, skip_reason=reason)  # fmt: skip


def _move(
    session: Session, edition_id: int, from_status: MessageStatus, now: datetime, **values: Any
) -> int:
    """Set values on every message of the edition in from_status; returns how many."""
    result = session.execute(
        update(MESSAGES)
        .where(MESSAGES.c.edition_id == edition_id, MESSAGES.c.status == from_status)
        .values(updated_at=now, **values)
    )
    return rowcount(result)


def status_counts(session: Session, edition_id: int) -> Counter[MessageStatus]:
    """How many of the edition's messages are in each state."""
    return status_counts_of(session, [edition_id])[edition_id]


def status_counts_of(
    session: Session, edition_ids: Sequence[int]
) -> defaultdict[int, Counter[MessageStatus]]:
    """How many messages of each edition are in each state, in one query."""
    found: defaultdict[int, Counter[MessageStatus]] = defaultdict(Counter)
    for edition_id, status, count in session.execute(
        select(Message.edition_id, Message.status, func.count())
        .where(Message.edition_id.in_(list(edition_ids)))
        .group_by(Message.edition_id, Message.status)
    ):
        found[edition_id][MessageStatus(status)] = count
    return found


def listed_status_counts(
    session: Session, edition_ids: Sequence[int]
) -> defaultdict[int, Counter[MessageStatus]]:
    """As status_counts_of, for a page of editions: the messages sent, by far the most, are
    read from the figures kept as they are sent (group_figures); the other states, few, are
    counted on the messages' index. Two queries, whatever the editions' size."""
    ids = list(edition_ids)
    found: defaultdict[int, Counter[MessageStatus]] = defaultdict(Counter)
    for edition_id, status, count in session.execute(
        select(Message.edition_id, Message.status, func.count())
        .where(Message.edition_id.in_(ids), Message.status.in_(_NOT_SENT))
        .group_by(Message.edition_id, Message.status)
    ):
        found[edition_id][MessageStatus(status)] = count
    for edition_id, sent in session.execute(
        select(GroupFigures.edition_id, func.sum(GroupFigures.sent))
        .where(GroupFigures.edition_id.in_(ids))
        .group_by(GroupFigures.edition_id)
    ):
        if sent:
            found[edition_id][MessageStatus.SENT] = int(sent)
    return found


_NOT_SENT = [status for status in MessageStatus if status is not MessageStatus.SENT]


def counts_by_role_set(session: Session, edition_id: int) -> dict[str, Counter[MessageStatus]]:
    """The edition's message states, per role set."""
    found: dict[str, Counter[MessageStatus]] = {}
    for role_set, status, count in session.execute(
        select(Message.role_set, Message.status, func.count())
        .where(Message.edition_id == edition_id)
        .group_by(Message.role_set, Message.status)
    ):
        found.setdefault(role_set, Counter())[MessageStatus(status)] = count
    return found


def skip_reasons(session: Session, edition_id: int) -> Counter[str]:
    """Why the edition's skipped contacts were skipped."""
    rows = session.execute(
        select(Message.skip_reason, func.count())
        .where(Message.edition_id == edition_id, Message.status == MessageStatus.SKIPPED)
        .group_by(Message.skip_reason)
    )
    return Counter({str(reason): count for reason, count in rows})


def earliest_retry(session: Session, edition_id: int) -> datetime | None:
    """When the next waiting message of the edition is due, if any is waiting."""
    return session.scalar(
        select(func.min(Message.next_attempt_at)).where(
            Message.edition_id == edition_id, Message.status == MessageStatus.QUEUED
        )
    )


def messages_in(
    session: Session, edition_id: int, status: MessageStatus
) -> list[tuple[int, str, str | None]]:
    """(message id, contact email, last error) of the edition's messages in one state."""
    rows = session.execute(
        select(Message.id, Contact.email, Message.last_error)
        .join(Contact, Contact.id == Message.contact_id)
        .where(Message.edition_id == edition_id, Message.status == status)
        .order_by(Message.id)
    )
    return [(row.id, row.email, row.last_error) for row in rows]

"""What the kept figures need from the rest of the flow: to hear of messages just sent, and of
a contact about to be erased. One call each, so that the send path and erasure cannot forget
one of the aggregates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from commhub.tracking.message_figures import count_sent, forget_contact_figures
from commhub.tracking.reach_figures import forget_contact_reach, record_targeted


def messages_sent(session: Session, message_ids: Sequence[int], now: datetime) -> None:
    """These messages have just become `sent` (in this transaction): count them into their
    group's figures, and their contacts as targeted by the key messages they carried."""
    count_sent(session, message_ids)
    record_targeted(session, message_ids, now)


def forget_contact(session: Session, contact_id: int) -> None:
    """Take the contact out of the kept figures, just before they are erased (their rows go
    with them; erase_contact's `forget`)."""
    forget_contact_figures(session, contact_id)
    forget_contact_reach(session, contact_id)

"""The rule of seven, per key message: the contacts it was meant for, how many saw it how
often and in how many formats, and the share at seven exposures across three formats.

It reads the tallies tracking keeps as exposures come in; it never recounts events.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from commhub.store import (
    Audience,
    ContentItem,
    EditionItem,
    ExposureTally,
    KeyMessage,
    Message,
    MessageStatus,
    role_set_includes,
)
from commhub.tracking import FORMATS, SEVEN, THREE


@dataclass
class KeyMessageReach:
    """How far one key message got: of the contacts it was sent to, how many saw it how
    often and in how many formats."""

    key_message: str
    targeted: int
    by_exposures: Counter[int] = field(default_factory=Counter)  # 1..7 (7 means 7 or more)
    by_formats: Counter[int] = field(default_factory=Counter)  # 1..3 (3 means 3 or more)
    seven_across_three: int = 0

    @property
    def share(self) -> float:
        """The share of targeted contacts at seven exposures across three formats."""
        return self.seven_across_three / self.targeted if self.targeted else 0.0

    def as_row(self) -> dict[str, str | int | float]:
        """The reach as one flat row (the CSV and JSON exports' columns)."""
        row: dict[str, str | int | float] = {
            "key_message": self.key_message,
            "targeted": self.targeted,
        }
        row |= {f"exposures_{n}": self.by_exposures[n] for n in range(1, SEVEN + 1)}
        row |= {f"formats_{n}": self.by_formats[n] for n in range(1, THREE + 1)}
        row |= {"seven_across_three": self.seven_across_three, "share": round(self.share, 4)}
        return row


def reach_report(session: Session) -> list[KeyMessageReach]:
    """Per key message: targeted contacts, exposures 1..7+, formats 1..3+, seven across three."""
    targeted = _targeted(session)
    reports = {
        key_id: KeyMessageReach(text, targeted.get(key_id, 0))
        for key_id, text in session.execute(select(KeyMessage.id, KeyMessage.text))
    }
    for tally in session.scalars(select(ExposureTally)):
        report = reports[tally.key_message_id]
        counts = [getattr(tally, fmt) for fmt in FORMATS]
        total, formats = sum(counts), sum(1 for n in counts if n)
        if total:
            report.by_exposures[min(total, SEVEN)] += 1
            report.by_formats[min(formats, THREE)] += 1
        if total >= SEVEN and formats >= THREE:
            report.seven_across_three += 1
    return sorted(reports.values(), key=lambda r: r.key_message)


def _targeted(session: Session) -> dict[int, int]:
    """Per key message, the contacts it was meant for: those sent a message that carried an
    item with the key message to one of their roles (a message's role set is its audience
    slugs, comma-separated), and those who met it in another format, or earlier, and so
    have a tally (a contact whose email left it out, having seen it enough, stays counted)."""
    in_role_set = role_set_includes(Audience.slug)
    by_email = (
        select(ContentItem.key_message_id.label("key_id"), Message.contact_id.label("contact_id"))
        .join(EditionItem, EditionItem.content_item_id == ContentItem.id)
        .join(Audience, Audience.id == EditionItem.audience_id)
        .join(Message, Message.edition_id == EditionItem.edition_id)
        .where(
            ContentItem.key_message_id.is_not(None),
            Message.status == MessageStatus.SENT,
            in_role_set,
        )
    )
    tallied = select(ExposureTally.key_message_id, ExposureTally.contact_id)
    either = union(by_email, tallied).subquery()  # UNION: each contact once per key message
    rows = session.execute(select(either.c.key_id, func.count()).group_by(either.c.key_id))
    return {int(key_id or 0): int(count) for key_id, count in rows}

"""The rule of seven, per key message: the contacts it was meant for, how many saw it how
often and in how many formats, and the share at seven exposures across three formats.

It reads the tallies tracking keeps as exposures come in; it never recounts events.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import case, func, literal, select, union
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
    # The tallies counted in SQL, by (key message, exposures, formats): a few rows per key
    # message, however many contacts have tallies.
    columns = [getattr(ExposureTally, fmt) for fmt in FORMATS]
    total = sum(columns, start=literal(0))
    formats = sum((case((column > 0, 1), else_=0) for column in columns), start=literal(0))
    per_contact = select(
        ExposureTally.key_message_id, total.label("total"), formats.label("formats")
    )
    tallies = per_contact.where(total > 0).subquery()
    capped_total = case((tallies.c.total >= SEVEN, SEVEN), else_=tallies.c.total)
    capped_formats = case((tallies.c.formats >= THREE, THREE), else_=tallies.c.formats)
    for key_id, exposures, in_formats, contacts in session.execute(
        select(tallies.c.key_message_id, capped_total, capped_formats, func.count()).group_by(
            tallies.c.key_message_id, capped_total, capped_formats
        )
    ):
        report = reports[key_id]
        report.by_exposures[int(exposures)] += contacts
        report.by_formats[int(in_formats)] += contacts
        if exposures >= SEVEN and in_formats >= THREE:
            report.seven_across_three += contacts
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

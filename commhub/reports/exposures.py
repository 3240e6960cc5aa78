"""The rule of seven, per key message: the contacts it was meant for, how many saw it how
often and in how many formats, and the share at seven exposures across three formats.

It reads the figures tracking keeps as messages go out and exposures come in (reach_cells,
reach_weeks); it never recounts events or tallies.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commhub.store import KeyMessage, ReachCell, ReachWeek
from commhub.tracking import SEVEN, THREE


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
    """Per key message: targeted contacts, exposures 1..7+, formats 1..3+, seven across three.

    Read from the figures tracking keeps as messages go out and exposures come in (two
    queries over a few rows per key message): reach_weeks for the contacts targeted (sent a
    message carrying the key message to one of their roles, or exposed to it otherwise),
    reach_cells for the rest."""
    targeted: dict[int, int] = {
        key_id: int(count or 0)
        for key_id, count in session.execute(
            select(ReachWeek.key_message_id, func.sum(ReachWeek.targeted)).group_by(
                ReachWeek.key_message_id
            )
        )
    }
    reports = {
        key_id: KeyMessageReach(text, targeted.get(key_id, 0))
        for key_id, text in session.execute(select(KeyMessage.id, KeyMessage.text))
    }
    for key_id, exposures, in_formats, contacts in session.execute(
        select(
            ReachCell.key_message_id, ReachCell.exposures, ReachCell.formats, ReachCell.contacts
        ).where(ReachCell.contacts != 0)
    ):
        report = reports[key_id]
        report.by_exposures[exposures] += contacts
        report.by_formats[in_formats] += contacts
        if exposures >= SEVEN and in_formats >= THREE:
            report.seven_across_three += contacts
    return sorted(reports.values(), key=lambda r: r.key_message)

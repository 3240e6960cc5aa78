"""An edition's kept figures, its groups of messages summed: what the editions list, the
series over time and the complaint rates read (never the events)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commhub.store import GroupFigures, GroupItemFigures
from commhub.tracking.message_figures import GROUP_COLUMNS


@dataclass(frozen=True)
class EditionTotals:
    """Messages sent, and messages with each signal; the last votes on its items."""

    sent: int = 0
    human_opens: int = 0
    clicks: int = 0
    delivered: int = 0
    bounces: int = 0
    unsubscribes: int = 0
    complaints: int = 0
    yes: int = 0
    no: int = 0

    @property
    def votes(self) -> int:
        return self.yes + self.no


def totals_per_edition(session: Session, edition_ids: Sequence[int]) -> dict[int, EditionTotals]:
    """Each edition's totals, in two queries whatever their size (editions with no kept
    figure left out)."""
    ids = list(edition_ids)
    if not ids:
        return {}
    found: dict[int, dict[str, int]] = {}
    sums = [func.sum(getattr(GroupFigures, name)) for name in GROUP_COLUMNS]
    for edition_id, *values in session.execute(
        select(GroupFigures.edition_id, *sums)
        .where(GroupFigures.edition_id.in_(ids))
        .group_by(GroupFigures.edition_id)
    ):
        found[edition_id] = {
            name: int(value or 0) for name, value in zip(GROUP_COLUMNS, values, strict=True)
        }
    for edition_id, yes, no in session.execute(
        select(
            GroupItemFigures.edition_id,
            func.sum(GroupItemFigures.yes),
            func.sum(GroupItemFigures.no),
        )
        .where(GroupItemFigures.edition_id.in_(ids))
        .group_by(GroupItemFigures.edition_id)
    ):
        found.setdefault(edition_id, {}).update(yes=int(yes or 0), no=int(no or 0))
    return {edition_id: EditionTotals(**values) for edition_id, values in found.items()}

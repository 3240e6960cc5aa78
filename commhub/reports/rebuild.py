"""Proving the kept figures: every aggregate worked out again from the events, messages and
exposures, compared with what its tables hold, and put in their place (`commhub report
rebuild`). A rebuild is one transaction: the pages see the old figures or the new, never half.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from commhub.contacts import PARTNER_AGGREGATES, PARTNER_MONTH_AGGREGATES
from commhub.tracking import (
    MESSAGE_AGGREGATES,
    REACH_AGGREGATES,
    Aggregate,
    Mismatch,
    mismatches,
)

AGGREGATES: tuple[Aggregate, ...] = (
    *MESSAGE_AGGREGATES,
    *REACH_AGGREGATES,
    *PARTNER_AGGREGATES,
    *PARTNER_MONTH_AGGREGATES,
)


@dataclass(frozen=True)
class AggregateCheck:
    """One aggregate compared with the events: its rows worked out, and where they differ."""

    name: str
    columns: tuple[str, ...]
    rows: int
    mismatches: list[Mismatch]

    @property
    def matches(self) -> bool:
        return not self.mismatches


def check_aggregates(
    session: Session,
    aggregates: Sequence[Aggregate] = AGGREGATES,
    done: Callable[[str], None] = lambda _name: None,
) -> list[AggregateCheck]:
    """Each aggregate as held against the events; `done(name)` after each."""
    return [_check(session, aggregate, replace=False, done=done) for aggregate in aggregates]


def rebuild_aggregates(
    session: Session,
    aggregates: Sequence[Aggregate] = AGGREGATES,
    done: Callable[[str], None] = lambda _name: None,
) -> list[AggregateCheck]:
    """Each aggregate worked out from the events and put in place of its rows; what differed
    before (an empty list of mismatches: it already matched)."""
    return [_check(session, aggregate, replace=True, done=done) for aggregate in aggregates]


def _check(
    session: Session, aggregate: Aggregate, *, replace: bool, done: Callable[[str], None]
) -> AggregateCheck:
    worked_out = aggregate.recomputed(session)
    found = mismatches(aggregate.name, aggregate.held(session), worked_out)
    if replace and found:
        aggregate.replace(session, worked_out)
        session.flush()
    done(aggregate.name)
    rows = sum(1 for figures in worked_out.values() if any(figures))
    return AggregateCheck(aggregate.name, aggregate.columns, rows, found)

"""Aggregates: figures kept as events happen, so that pages and reports never recount events.

Each aggregate is a table (or a few) that the recording functions update in the same
transaction as the events that change them. Each one also knows how to work its rows out
again from the events and messages themselves: `commhub report rebuild` compares the two and
puts back what was worked out, so a figure can always be proven, and repaired after a bug or
an import that went around the recording functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

Key = tuple[object, ...]
Figures = tuple[int, ...]


class Aggregate(Protocol):
    """One kept aggregate: its rows as held, as worked out from the events, and a way to put
    worked-out rows in place of the held ones."""

    @property
    def name(self) -> str:
        """What it holds, in words ("figures per edition and role set")."""
        ...

    @property
    def columns(self) -> tuple[str, ...]:
        """The names of a row's figures, in order (for the mismatch report)."""
        ...

    def held(self, session: Session) -> dict[Key, Figures]:
        """The rows as the table holds them."""
        ...

    def recomputed(self, session: Session) -> dict[Key, Figures]:
        """The rows worked out from the events, messages and exposures alone (never from an
        aggregate table), by the same rules the recording functions follow."""
        ...

    def replace(self, session: Session, rows: Mapping[Key, Figures]) -> None:
        """Put these rows in place of every row held."""
        ...


@dataclass(frozen=True)
class Mismatch:
    """A row that the table holds otherwise than the events say (None: no such row)."""

    aggregate: str
    key: Key
    held: Figures | None
    recomputed: Figures | None


def mismatches(
    name: str, held: Mapping[Key, Figures], recomputed: Mapping[Key, Figures]
) -> list[Mismatch]:
    """The rows that differ, a row of zeros counting as no row, in key order."""
    kept, worked_out = _nonzero(held), _nonzero(recomputed)
    return [
        Mismatch(name, key, kept.get(key), worked_out.get(key))
        for key in sorted(kept.keys() | worked_out.keys(), key=repr)
        if kept.get(key) != worked_out.get(key)
    ]


def _nonzero(rows: Mapping[Key, Figures]) -> dict[Key, Figures]:
    return {key: tuple(figures) for key, figures in rows.items() if any(figures)}

"""The reports as flat tables: the rows and columns the CLI's CSV and the web's downloads
share, written spreadsheet-safe; and the orders and labels the web's tables add.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from commhub.contacts import neutralise
from commhub.reports.complaints import ComplaintReport
from commhub.reports.exposures import KeyMessageReach
from commhub.reports.items import ItemReach
from commhub.store import Edition, Series
from commhub.tracking import ALERT_RATE, HOLD_RATE, ComplaintRate

EXPOSURE_COLUMNS: list[str] = list(KeyMessageReach("", 0).as_row())
ITEM_COLUMNS: list[str] = list(ItemReach("", "", 0, 0, 0, 0, 0).as_row())
COMPLAINT_COLUMNS: list[str] = [
    "period",
    "edition_id",
    "series",
    "started_at",
    "complaints",
    "sent",
    "rate",
    "state",
]
LAST_7_DAYS = "last 7 days"


def write_csv(out: TextIO, rows: Iterable[Mapping[str, object]], fieldnames: list[str]) -> None:
    """Rows as CSV (a header first), text cells neutralised against formula injection."""
    writer = csv.DictWriter(out, fieldnames=fieldnames)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: neutralise(v) if isinstance(v, str) else v for k, v in row.items()})


def exposure_rows(reaches: Iterable[KeyMessageReach]) -> list[dict[str, str | int | float]]:
    """The rule of seven, one row per key message (EXPOSURE_COLUMNS)."""
    return [reach.as_row() for reach in reaches]


def item_rows(reaches: Iterable[ItemReach]) -> list[dict[str, object]]:
    """Relevance, one row per item and audience (ITEM_COLUMNS)."""
    return [reach.as_row() for reach in reaches]


def worst_first(reaches: Sequence[ItemReach]) -> list[ItemReach]:
    """Items by relevance, lowest first (more votes first among equals); those nobody voted
    on come last, most delivered first."""

    def key(reach: ItemReach) -> tuple[bool, float, int, str, str]:
        relevance = reach.relevance
        if relevance is None:
            return (True, 0.0, -reach.delivered, reach.item, reach.audience)
        return (False, relevance, -(reach.yes + reach.no), reach.item, reach.audience)

    return sorted(reaches, key=key)


def rate_state(rate: ComplaintRate) -> str:
    """ok, alert (0.1 % or more) or hold (0.3 % or more), as for the last 7 days."""
    return "hold" if rate.rate >= HOLD_RATE else "alert" if rate.rate >= ALERT_RATE else "ok"


@dataclass(frozen=True)
class EditionComplaints:
    """One edition's complaint rate, with what a reader knows it by."""

    edition_id: int
    series: str
    started_at: datetime | None
    rate: ComplaintRate

    @property
    def state(self) -> str:
        return rate_state(self.rate)


def edition_complaints(session: Session, report: ComplaintReport) -> list[EditionComplaints]:
    """The report's editions, oldest first, each with its series' name and start (one query)."""
    ids = list(report.editions)
    known = {
        edition_id: (name, started_at)
        for edition_id, name, started_at in session.execute(
            select(Edition.id, Series.name, Edition.started_at)
            .join(Series, Series.id == Edition.series_id)
            .where(Edition.id.in_(ids))
        )
    } if ids else {}  # fmt: skip
    return [
        EditionComplaints(edition_id, *known.get(edition_id, ("", None)), rate)
        for edition_id, rate in report.editions.items()
    ]


def complaint_rows(
    report: ComplaintReport, editions: Sequence[EditionComplaints]
) -> list[dict[str, object]]:
    """The last 7 days, then each edition started in them (COMPLAINT_COLUMNS)."""
    recent = report.recent
    rows: list[dict[str, object]] = [
        {
            "period": LAST_7_DAYS,
            "edition_id": "",
            "series": "",
            "started_at": "",
            "complaints": recent.complaints,
            "sent": recent.sent,
            "rate": round(recent.rate, 6),
            "state": report.state,
        }
    ]
    for edition in editions:
        started = edition.started_at
        rows.append(
            {
                "period": "edition",
                "edition_id": edition.edition_id,
                "series": edition.series,
                "started_at": started.isoformat(timespec="seconds") if started else "",
                "complaints": edition.rate.complaints,
                "sent": edition.rate.sent,
                "rate": round(edition.rate.rate, 6),
                "state": edition.state,
            }
        )
    return rows

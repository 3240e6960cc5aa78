"""Reports: per item and audience, the partner heat map, the event export; plain rows that
the CLI prints and the web UI will draw.
"""

from __future__ import annotations

from commhub.reports.event_export import event_rows
from commhub.reports.items import ItemReach, item_report
from commhub.reports.partners import Thresholds, heat_map

__all__ = [
    "ItemReach",
    "Thresholds",
    "event_rows",
    "heat_map",
    "item_report",
]

"""Reports: the rule of seven per key message, per item and audience, the partner heat map,
complaint rates and the event export; plain rows that the CLI prints and the web UI will
draw.
"""

from __future__ import annotations

from commhub.reports.complaints import ComplaintReport, complaint_report
from commhub.reports.event_export import event_rows
from commhub.reports.exposures import KeyMessageReach, reach_report
from commhub.reports.items import ItemReach, item_report
from commhub.reports.partners import Thresholds, heat_map, heat_map_rows

__all__ = [
    "ComplaintReport",
    "ItemReach",
    "KeyMessageReach",
    "Thresholds",
    "complaint_report",
    "event_rows",
    "heat_map",
    "heat_map_rows",
    "item_report",
    "reach_report",
]

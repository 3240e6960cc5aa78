"""Reports: the rule of seven per key message, and week by week; per item and audience; the
partner heat map, and one partner month by month; complaint rates and the event export;
plain rows that the CLI prints and the web UI draws.
"""

from __future__ import annotations

from commhub.reports.complaints import ComplaintReport, complaint_report
from commhub.reports.event_export import event_rows
from commhub.reports.exposures import KeyMessageReach, reach_report
from commhub.reports.items import ItemReach, item_report
from commhub.reports.partner_detail import (
    format_names,
    heat_rows,
    partner_heat_map,
)
from commhub.reports.partner_trend import (
    PartnerMonth,
    PartnerTrend,
    month_starts,
    partner_over_time,
)
from commhub.reports.partners import Thresholds, heat_map, heat_map_rows
from commhub.reports.per_series import (
    SERIES_COLUMNS,
    EditionFigures,
    series_history,
    started_series,
)
from commhub.reports.reach_trend import (
    REACH_TREND_COLUMNS,
    KeyMessageTrend,
    ReachTrend,
    reach_over_time,
    week_ends,
)
from commhub.reports.tables import (
    COMPLAINT_COLUMNS,
    EXPOSURE_COLUMNS,
    ITEM_COLUMNS,
    complaint_rows,
    edition_complaints,
    exposure_rows,
    item_rows,
    worst_first,
    write_csv,
)

__all__ = [
    "COMPLAINT_COLUMNS",
    "EXPOSURE_COLUMNS",
    "ITEM_COLUMNS",
    "REACH_TREND_COLUMNS",
    "SERIES_COLUMNS",
    "ComplaintReport",
    "EditionFigures",
    "ItemReach",
    "KeyMessageReach",
    "KeyMessageTrend",
    "PartnerMonth",
    "PartnerTrend",
    "ReachTrend",
    "Thresholds",
    "complaint_report",
    "complaint_rows",
    "edition_complaints",
    "event_rows",
    "exposure_rows",
    "format_names",
    "heat_map",
    "heat_map_rows",
    "heat_rows",
    "item_report",
    "item_rows",
    "month_starts",
    "partner_heat_map",
    "partner_over_time",
    "reach_over_time",
    "reach_report",
    "series_history",
    "started_series",
    "week_ends",
    "worst_first",
    "write_csv",
]

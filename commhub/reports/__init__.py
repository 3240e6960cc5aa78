"""Reports: the rule of seven per key message, and week by week; per item and audience; the
partner heat map, and one partner month by month; complaint rates and the event export; the
kept figures proven and rebuilt. Plain rows that the CLI prints and the web UI draws.
"""

from __future__ import annotations

from commhub.reports.bounces import (
    BOUNCE_ALARM,
    BOUNCE_COLUMNS,
    BOUNCE_WARN,
    EditionBounces,
    edition_bounces,
)
from commhub.reports.complaints import ComplaintReport, complaint_report
from commhub.reports.event_export import event_rows
from commhub.reports.exposures import KeyMessageReach, reach_report
from commhub.reports.items import ItemReach, item_report
from commhub.reports.partner_detail import (
    format_names,
    heat_rows,
    partner_heat_map,
)
from commhub.reports.partner_overview import (
    HEAT_MAP_COLUMNS,
    SORTS,
    PartnerHeat,
    every_partner,
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
from commhub.reports.rebuild import (
    AGGREGATES,
    AggregateCheck,
    check_aggregates,
    rebuild_aggregates,
)
from commhub.reports.relevance_trend import (
    RELEVANCE_TREND_COLUMNS,
    AudienceRelevance,
    RelevanceTrend,
    relevance_over_time,
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
    "AGGREGATES",
    "BOUNCE_ALARM",
    "BOUNCE_COLUMNS",
    "BOUNCE_WARN",
    "COMPLAINT_COLUMNS",
    "EXPOSURE_COLUMNS",
    "HEAT_MAP_COLUMNS",
    "ITEM_COLUMNS",
    "REACH_TREND_COLUMNS",
    "RELEVANCE_TREND_COLUMNS",
    "SERIES_COLUMNS",
    "SORTS",
    "AggregateCheck",
    "AudienceRelevance",
    "ComplaintReport",
    "EditionBounces",
    "EditionFigures",
    "ItemReach",
    "KeyMessageReach",
    "KeyMessageTrend",
    "PartnerHeat",
    "PartnerMonth",
    "PartnerTrend",
    "ReachTrend",
    "RelevanceTrend",
    "Thresholds",
    "check_aggregates",
    "complaint_report",
    "complaint_rows",
    "edition_bounces",
    "edition_complaints",
    "event_rows",
    "every_partner",
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
    "rebuild_aggregates",
    "relevance_over_time",
    "series_history",
    "started_series",
    "week_ends",
    "worst_first",
    "write_csv",
]

"""Tracking: what comes back from a message. Opens, clicks and votes, unsubscribes and
preferences, exposures and the rule of seven, provider events and the webhook verifier,
complaint rates.
"""

from __future__ import annotations

from commhub.tracking.aggregate import Aggregate, Mismatch, mismatches
from commhub.tracking.complaints import (
    ALERT_RATE,
    HOLD_RATE,
    WINDOW,
    ComplaintRate,
    edition_rates,
    hold_reason,
    recent_rate,
)
from commhub.tracking.edition_totals import EditionTotals, totals_per_edition
from commhub.tracking.exposures import (
    FORMATS,
    SEVEN,
    THREE,
    exposures_in_total,
    record_exposures,
    seen_enough,
)
from commhub.tracking.message_figures import count_feed_click, forget_contact_figures
from commhub.tracking.message_recount import MESSAGE_AGGREGATES
from commhub.tracking.preferences import (
    CHANNEL_CHOICES,
    PAUSES,
    PreferencesError,
    current_preferences,
    not_sent_to,
    role_choices,
    save_preferences,
)
from commhub.tracking.provider_events import record_events
from commhub.tracking.reach_recount import REACH_AGGREGATES
from commhub.tracking.sendgrid_webhook import WebhookKeyError, WebhookVerifier
from commhub.tracking.signals import (
    DEFAULT_PROXIES,
    MailProxies,
    record_click,
    record_open,
    record_vote,
    with_utm,
)
from commhub.tracking.social_clicks import (
    ATTRIBUTION_COOKIE,
    ATTRIBUTION_LIFETIME,
    PostClick,
    may_attribute,
    record_post_click,
)
from commhub.tracking.subscriptions import (
    MessageOwner,
    find_message,
    link_target,
    masked,
    unsubscribe,
    web_version,
)
from commhub.tracking.upkeep import forget_contact, messages_sent

__all__ = [
    "ALERT_RATE",
    "ATTRIBUTION_COOKIE",
    "ATTRIBUTION_LIFETIME",
    "CHANNEL_CHOICES",
    "DEFAULT_PROXIES",
    "FORMATS",
    "HOLD_RATE",
    "MESSAGE_AGGREGATES",
    "PAUSES",
    "REACH_AGGREGATES",
    "SEVEN",
    "THREE",
    "WINDOW",
    "Aggregate",
    "ComplaintRate",
    "EditionTotals",
    "MailProxies",
    "MessageOwner",
    "Mismatch",
    "PostClick",
    "PreferencesError",
    "WebhookKeyError",
    "WebhookVerifier",
    "count_feed_click",
    "current_preferences",
    "edition_rates",
    "exposures_in_total",
    "find_message",
    "forget_contact",
    "forget_contact_figures",
    "hold_reason",
    "link_target",
    "masked",
    "may_attribute",
    "messages_sent",
    "mismatches",
    "not_sent_to",
    "recent_rate",
    "record_click",
    "record_events",
    "record_exposures",
    "record_open",
    "record_post_click",
    "record_vote",
    "role_choices",
    "save_preferences",
    "seen_enough",
    "totals_per_edition",
    "unsubscribe",
    "web_version",
    "with_utm",
]

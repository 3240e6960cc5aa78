"""What a person can do next, as data: an action and what it applies to.

The domain never tells people to run a command. A refusal or an alert carries NextSteps;
the CLI renders each as a command line, the web UI as a button.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Action(enum.StrEnum):
    LIST_EDITIONS = "list_editions"
    SHOW_EDITION = "show_edition"
    PREVIEW = "preview"
    APPROVE = "approve"
    PAUSE = "pause"
    CANCEL = "cancel"
    RELEASE = "release"
    RESUME = "resume"
    RESEND_UNKNOWN = "resend_unknown"
    SETTLE_POSTS = "settle_posts"  # say of each post failed or in doubt: live, or post again
    SEND_AGAIN = "send_again"  # send a series' next edition even though one just went out
    APPLY_SERIES = "apply_series"
    LIST_CALENDAR_FEEDS = "list_calendar_feeds"
    INIT = "init"


# What each action does, in words a person reads beside its command or on its button.
LABELS = {
    Action.LIST_EDITIONS: "list the editions",
    Action.SHOW_EDITION: "see the edition",
    Action.PREVIEW: "preview it",
    Action.APPROVE: "approve it",
    Action.PAUSE: "pause it",
    Action.CANCEL: "cancel it",
    Action.RELEASE: "go on (release it)",
    Action.RESUME: "finish sending it",
    Action.RESEND_UNKNOWN: "resend the messages in doubt, once you know they did not arrive",
    Action.SETTLE_POSTS: "check the account, then mark each post live or post it again",
    Action.SEND_AGAIN: "send anyway",
    Action.APPLY_SERIES: "add or fix the series",
    Action.LIST_CALENDAR_FEEDS: "list the calendar feeds",
    Action.INIT: "bring the database up to date",
}


@dataclass(frozen=True)
class NextStep:
    """One thing a person can do next: an action, on an edition or a series if it needs one."""

    action: Action
    edition_id: int | None = None
    series: str | None = None

    @property
    def label(self) -> str:
        return LABELS[self.action]

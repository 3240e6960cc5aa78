"""An edition's life: start, pick its content, choose its recipients, queue its messages,
hold, approve, pause, release and cancel it; the message store, the leases that keep one
process at an edition, and previews.
"""

from __future__ import annotations

from commhub.editions.history import (
    count_started_editions,
    edition_times,
    engagement_of,
    started_editions,
)
from commhub.editions.leases import (
    CLAIM_SECONDS,
    LEASE_SECONDS,
    acquire_lease,
    holder_is_dead,
    new_owner,
    release_lease,
    renew_lease,
)
from commhub.editions.lifecycle import (
    actions_for,
    approve_edition,
    cancel_edition,
    describe_state,
    edition_detail,
    editions_to_resume,
    get_edition,
    list_editions,
    next_steps,
    pause_edition,
    prepare_resend_unknown,
    progress_note,
    recent_edition,
    reject_edition,
    release_edition,
    start_edition,
    steps_for_state,
    under_way,
)
from commhub.editions.message_store import (
    ClaimedMessage,
    StatusUpdate,
    claim_peeked,
    earliest_retry,
    mark_in_doubt,
    peek_batch,
    record_updates,
    status_counts,
)
from commhub.editions.preparation import Preparation, ensure_prepared, prepare_edition
from commhub.editions.previews import Preview, preview_edition
from commhub.editions.recipients import in_audience, may_be_sent
from commhub.editions.selection import series_audiences as audiences_of

__all__ = [
    "CLAIM_SECONDS",
    "LEASE_SECONDS",
    "ClaimedMessage",
    "Preparation",
    "Preview",
    "StatusUpdate",
    "acquire_lease",
    "actions_for",
    "approve_edition",
    "audiences_of",
    "cancel_edition",
    "claim_peeked",
    "count_started_editions",
    "describe_state",
    "earliest_retry",
    "edition_detail",
    "edition_times",
    "editions_to_resume",
    "engagement_of",
    "ensure_prepared",
    "get_edition",
    "holder_is_dead",
    "in_audience",
    "list_editions",
    "mark_in_doubt",
    "may_be_sent",
    "new_owner",
    "next_steps",
    "pause_edition",
    "peek_batch",
    "prepare_edition",
    "prepare_resend_unknown",
    "preview_edition",
    "progress_note",
    "recent_edition",
    "record_updates",
    "reject_edition",
    "release_edition",
    "release_lease",
    "renew_lease",
    "start_edition",
    "started_editions",
    "status_counts",
    "steps_for_state",
    "under_way",
]

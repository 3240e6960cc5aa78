"""Who is sending an edition: a lease held by one process and renewed as it goes.

Messages are claimed one batch at a time with a conditional UPDATE, so two senders never
hand the same message to a back end. The lease answers the other question: when a sender
finds messages `sending`, did their sender die (they are in doubt) or is it still at work?
A lease that has expired, or whose holder is a process on this machine that no longer
exists, is free to take.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commhub.errors import Conflict, NotFound
from commhub.store import Edition, EditionState, rowcount

LEASE_SECONDS = 90.0
# The claim taken with a state change (a scheduler's claim, a command's approve or release):
# long enough to prepare a large edition, which renews nothing while it works.
CLAIM_SECONDS = 600.0


def new_owner() -> str:
    """A name for this process's leases: host, process id and a nonce against pid reuse."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def holder_is_dead(owner: str) -> bool:
    """Whether owner names a process on this machine that has exited."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False  # another sender in this process (a thread): alive
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire_lease(
    session: Session, edition_id: int, owner: str, now: datetime, seconds: float = LEASE_SECONDS
) -> str | None:
    """Take the edition's lease; returns the previous holder's name ("" if none), or None
    when another live process holds it."""
    current = session.execute(
        select(Edition.lease_owner, Edition.lease_expires_at).where(Edition.id == edition_id)
    ).one()
    previous: str = current.lease_owner or ""
    is_free = (
        not previous
        or previous == owner
        or (current.lease_expires_at is not None and current.lease_expires_at <= now)
        or holder_is_dead(previous)
    )
    if not is_free:
        return None
    # Conditional on the holder we saw, so that two processes cannot both take it.
    condition = Edition.lease_owner.is_(None) if not previous else Edition.lease_owner == previous
    taken = session.execute(
        update(Edition)
        .where(Edition.id == edition_id, condition)
        .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=seconds))
    )
    return previous if rowcount(taken) == 1 else None


def renew_lease(
    session: Session, edition_id: int, owner: str, now: datetime, seconds: float = LEASE_SECONDS
) -> bool:
    """Extend the lease; False if this process no longer holds it."""
    renewed = session.execute(
        update(Edition)
        .where(Edition.id == edition_id, Edition.lease_owner == owner)
        .values(lease_expires_at=now + timedelta(seconds=seconds))
    )
    return rowcount(renewed) == 1


def release_lease(session: Session, edition_id: int, owner: str) -> None:
    """Give the lease up (only if this process holds it)."""
    session.execute(
        update(Edition)
        .where(Edition.id == edition_id, Edition.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
    )


def lease_for_sending(
    session: Session, edition_id: int, owner: str, now: datetime, seconds: float = LEASE_SECONDS
) -> tuple[Edition, str]:
    """The edition, in state `sending`, leased to owner, and who held it before ("" if
    nobody); started now if it had not been. NotFound or Conflict otherwise."""
    edition = session.get(Edition, edition_id)
    if edition is None:
        raise NotFound(f"no edition {edition_id}")
    if edition.state is not EditionState.SENDING:
        raise Conflict(f"edition {edition_id} is {edition.state.value}, not sending")
    previous = acquire_lease(session, edition_id, owner, now, seconds)
    if previous is None:
        raise Conflict(
            f"edition {edition_id} is being sent by {edition.lease_owner} "
            f"(its claim runs until {edition.lease_expires_at:%H:%M:%S} UTC)"
        )
    edition.started_at = edition.started_at or now
    return edition, previous

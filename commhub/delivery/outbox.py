"""The outbox: each message as an RFC 5322 .eml file under the data dir.

The embedded default, so that a laptop sends for real without credentials: open the files
in any mail client. A file is written under a temporary name and renamed into place, so a
reader never sees half a message; a message whose file exists already counts as sent, which
makes a resend after a crash harmless. Files are not fsynced: like SQLite in WAL mode with
synchronous=NORMAL, the outbox survives a crashed process, not a lost power supply.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from commhub.delivery.backend import DeliveryResult, Outcome, OutgoingMessage
from commhub.store import utcnow


class OutboxBackend:
    name = "outbox"
    max_batch = 200

    def __init__(self, directory: Path, now: Callable[[], datetime] = utcnow) -> None:
        self.directory = directory
        self._now = now

    def path_for(self, edition_id: int, message_id: int) -> Path:
        """Where a message's file is (or will be)."""
        return self.directory / str(edition_id) / f"{message_id}.eml"

    def remove(self, edition_id: int, message_id: int) -> None:
        """Delete a message's file, if there is one (erasure at the person's request)."""
        self.path_for(edition_id, message_id).unlink(missing_ok=True)

    def send(self, batch: Sequence[OutgoingMessage]) -> list[DeliveryResult]:
        date = self._now()
        results = []
        for message in batch:
            path = self.path_for(message.content.edition_id, message.message_id)
            if path.exists():
                results.append(
                    DeliveryResult(message.message_id, Outcome.SENT, "already in the outbox")
                )
                continue
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                temporary = path.with_name(f".{path.name}.tmp")
                temporary.write_bytes(message.as_bytes(date))
                os.replace(temporary, path)
            except OSError as exc:
                # A full or read-only disk is the machine's problem, not the contact's: the
                # rest waits without spending attempts, and a long outage pauses the edition.
                detail = f"cannot write to the outbox: {exc.strerror}"
                results += [
                    DeliveryResult(m.message_id, Outcome.DEFERRED, detail, 30.0)
                    for m in batch[len(results) :]
                ]
                break
            results.append(
                DeliveryResult(
                    message.message_id,
                    Outcome.SENT,
                    provider_message_id=f"{path.parent.name}/{path.name}",
                )
            )
        return results

    def close(self) -> None:
        """Nothing to release."""

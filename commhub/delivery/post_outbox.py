"""The post outbox: each post as a JSON file under the data dir, for an account that needs no
network (the default, as the mail outbox is for email).

``<directory>/<edition_id>/<post_id>-<account>.json``, written under a temporary name and
renamed into place, so a reader never sees half a post. A post has one file whatever
happens: writing it again replaces it, so a post in doubt is settled by writing it again.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from commhub.delivery.posting import Network, PostOutcome, PostRequest, PostResult
from commhub.store import utcnow

# A disk that is full or read-only is the machine's problem: try again a little later.
WRITE_RETRY_SECONDS = 30.0
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class OutboxPoster:
    """Writes the posts of one account's network to files instead of a network."""

    settles_by_idempotency = True  # the same post rewrites the same file

    def __init__(
        self, directory: Path, network: Network, *, now: Callable[[], datetime] = utcnow
    ) -> None:
        self.directory = directory
        self.network = network
        self._now = now

    def path_for(self, request: PostRequest) -> Path:
        """Where a post's file is (or will be). The account's name is made safe for a file
        name; the post's id keeps two posts apart."""
        name = f"{request.post_id}-{_UNSAFE.sub('_', request.account)}.json"
        return self.directory / str(request.edition_id) / name

    def post(self, request: PostRequest) -> PostResult:
        path = self.path_for(request)
        document = {
            "network": self.network.value,
            "account": request.account,
            "series": request.series,
            "edition_id": request.edition_id,
            "post_id": request.post_id,
            "item": request.item,
            "title": request.title,
            "text": request.text,
            "link": request.link,
            "idempotency_key": request.idempotency_key,
            "written_at": self._now().isoformat(),
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.tmp")
            temporary.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
            os.replace(temporary, path)
        except OSError as error:
            return PostResult(
                PostOutcome.RETRY,
                f"cannot write to the post outbox: {error.strerror or error}",
                retry_after=WRITE_RETRY_SECONDS,
            )
        return PostResult(PostOutcome.POSTED, remote_id=path.name)

    def close(self) -> None:
        """Nothing to release."""

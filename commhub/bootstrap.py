"""`commhub init`: bring a data dir and database to a usable state, idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from commhub.actions import Action, NextStep
from commhub.errors import DatabaseNotReady
from commhub.library import load_audiences, sync_audiences
from commhub.reports import rebuild_aggregates
from commhub.resources import audiences_dir
from commhub.store import current_revision, head_revision, session_scope, upgrade_schema
from commhub.wiring import Runtime

# The first revision with kept figures: a database upgraded across it holds events that the
# new tables have not counted, so they are worked out once from them.
FIGURES_SINCE = "0014"


@dataclass(frozen=True)
class InitReport:
    data_dir: Path
    revision_before: str | None
    revision_after: str
    audiences_changed: list[str]
    figures_rebuilt: bool = False  # upgraded across FIGURES_SINCE: worked out from the events


def initialise(runtime: Runtime, audiences: Path | None = None) -> InitReport:
    """Apply migrations and load audiences. Imports no content and no demo data."""
    before = current_revision(runtime.engine)
    upgrade_schema(runtime.engine)
    definitions = load_audiences(audiences or audiences_dir())
    with session_scope(runtime.sessions) as session:
        changed = sync_audiences(session, definitions)
    rebuilt = before is not None and int(before) < int(FIGURES_SINCE)
    if rebuilt:
        with session_scope(runtime.sessions) as session:
            rebuild_aggregates(session)
    return InitReport(
        data_dir=runtime.settings.data_dir,
        revision_before=before,
        revision_after=head_revision(),
        audiences_changed=changed,
        figures_rebuilt=rebuilt,
    )


def require_current_schema(runtime: Runtime) -> None:
    """Stop with a clear message unless the database is at this code's schema."""
    current = current_revision(runtime.engine)
    if current != head_revision():
        state = "is empty" if current is None else f"is at schema {current}"
        raise DatabaseNotReady(
            f"the database {state}, this code needs {head_revision()}", [NextStep(Action.INIT)]
        )

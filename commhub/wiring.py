"""The composition root: settings in, concrete parts out. The web app, the CLI and (later)
the scheduler and workers all build their parts here, and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from commhub.config import Settings
from commhub.db import make_engine, make_session_factory


@dataclass(frozen=True)
class Runtime:
    """The parts a running commhub process shares."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]

    def close(self) -> None:
        self.engine.dispose()


def build_runtime(settings: Settings) -> Runtime:
    """Connect the parts settings describe (no connection is opened until first use)."""
    engine = make_engine(settings.database_url, pool_pre_ping=True)
    return Runtime(settings=settings, engine=engine, sessions=make_session_factory(engine))

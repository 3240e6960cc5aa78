"""What every subcommand shares: settings and a Runtime, built on first use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType

import click
from sqlalchemy.orm import Session

from commhub.bootstrap import require_current_schema
from commhub.config import Settings, load_settings
from commhub.db import session_scope
from commhub.wiring import Runtime, build_runtime


class AppContext(AbstractContextManager["AppContext"]):
    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._runtime: Runtime | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            self._runtime = build_runtime(self.settings)
        return self._runtime

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction on an initialised database."""
        require_current_schema(self.runtime)
        with session_scope(self.runtime.sessions) as session:
            yield session

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._runtime is not None:
            self._runtime.close()


pass_app = click.make_pass_decorator(AppContext)

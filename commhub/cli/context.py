"""What every subcommand shares: settings and a Runtime, built on first use."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType

import click
from sqlalchemy.orm import Session, sessionmaker

from commhub.bootstrap import require_current_schema
from commhub.config import Settings, load_settings
from commhub.delivery import DeliveryBackend
from commhub.render import Renderer
from commhub.store import session_scope
from commhub.wiring import Runtime, build_delivery_backend, build_renderer, build_runtime


def os_user() -> str:
    """Who runs this command, as the operating system knows them."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return "unknown"


class AppContext(AbstractContextManager["AppContext"]):
    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._runtime: Runtime | None = None
        self._backend: DeliveryBackend | None = None
        self._renderer: Renderer | None = None

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

    @property
    def backend(self) -> DeliveryBackend:
        """The delivery back end COMMHUB_DELIVERY names, closed when the command ends."""
        if self._backend is None:
            self._backend = build_delivery_backend(self.settings)
        return self._backend

    @property
    def renderer(self) -> Renderer:
        if self._renderer is None:
            self._renderer = build_renderer()
        return self._renderer

    @property
    def sessions(self) -> sessionmaker[Session]:
        """The session factory of an initialised database."""
        require_current_schema(self.runtime)
        return self.runtime.sessions

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
        if self._backend is not None:
            self._backend.close()
        if self._runtime is not None:
            self._runtime.close()


pass_app = click.make_pass_decorator(AppContext)

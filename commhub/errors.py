"""The exceptions commhub raises, one tree.

    CommhubError
    ├── SettingsError          a bad COMMHUB_* value; stops start-up with one line
    ├── InvalidInput           one or more Problems in a file or a value a person gave
    │   ├── AudienceError      audiences/*.yml
    │   ├── ContentError       content/**/*.md
    │   ├── ContactImportError contacts CSV
    │   ├── SeriesError        a series file (series.yml)
    │   └── TemplateError      a message template, or a compiled message missing its footer
    ├── DeliveryError          a delivery back end cannot send at all (credentials, refusal)
    ├── UnsafeAddress          a URL or address the outbound guard will not connect to
    ├── FetchFailed            an outbound fetch that did not end in 2xx or 304, and why
    ├── NotAFeed               fetched bytes that are no feed commhub reads
    └── Refused                a request refused, with what a person can do next
        ├── DatabaseNotReady   the schema is missing or older than the code (next: init)
        ├── NotFound           a named object does not exist
        └── Conflict           the object exists already, or the change would break a rule
            └── EditionUnderWay  an edition of the series is held, paused or sending

Every error prints as a line a person can act on; InvalidInput prints one line per Problem,
in the form ``path:line:field: message`` (parts that do not apply are left out). What a
person can do about an error travels beside it as data (next_steps), never as a command line
in its text: the CLI and the web UI each render those their own way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from commhub.actions import NextStep


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one input, located as precisely as the input allows."""

    source: str
    message: str
    field: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        location = [self.source]
        if self.line is not None:
            location.append(str(self.line))
        if self.field:
            location.append(self.field)
        return f"{':'.join(location)}: {self.message}"


class CommhubError(Exception):
    """Base of every error commhub raises on purpose."""

    next_steps: tuple[NextStep, ...] = ()


class Refused(CommhubError):  # noqa: N818
    """A request commhub refuses, with what a person can do next (if anything)."""

    def __init__(self, message: str, next_steps: Sequence[NextStep] = ()) -> None:
        super().__init__(message)
        self.next_steps = tuple(next_steps)


class SettingsError(CommhubError):
    """A setting from the environment is unusable."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


class InvalidInput(CommhubError):  # noqa: N818 - reads better at the raise site than "...Error"
    """Input a person gave has problems; nothing was changed."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems, key=_problem_order)
        super().__init__("\n".join(str(p) for p in self.problems))


def _problem_order(problem: Problem) -> tuple[str, int, str]:
    return (problem.source, problem.line or 0, problem.field or "")


class AudienceError(InvalidInput):
    """An audience file is broken."""


class ContentError(InvalidInput):
    """A content file is broken."""


class ContactImportError(InvalidInput):
    """Rows of a contacts file are broken."""


class SeriesError(InvalidInput):
    """A series definition is broken."""


class TemplateError(InvalidInput):
    """A message template does not render, or renders a message that may not be sent."""


class DeliveryError(CommhubError):
    """A delivery back end cannot send anything until a person acts."""


class DatabaseNotReady(Refused):
    """The database schema is missing or older than this code."""


class NotFound(Refused):
    """A named object does not exist."""


class Conflict(Refused):
    """The object exists already, or the change would break a rule."""


class EditionUnderWay(Conflict):
    """A series already has an edition held, paused or sending: a person has to act."""

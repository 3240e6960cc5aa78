"""Progress bars on stderr, so that stdout stays clean for data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click


@contextmanager
def progress_bar(length: int, label: str) -> Iterator[Callable[[int], None]]:
    """A bar of `length` steps; yields the function that advances it."""
    with click.progressbar(
        length=length, label=label, file=click.get_text_stream("stderr"), show_pos=True
    ) as bar:

        def advance(steps: int) -> None:
            bar.update(steps)

        yield advance

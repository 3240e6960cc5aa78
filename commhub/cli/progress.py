"""Progress bars on stderr, so that stdout stays clean for data."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from click._termui_impl import ProgressBar


@contextmanager
def progress_bar(length: int, label: str) -> Iterator[Callable[[int], None]]:
    """A bar of `length` steps; yields the function that advances it."""
    bar: ProgressBar[int] = click.progressbar(
        length=length, label=label, file=sys.stderr, show_pos=True
    )
    with bar:
        yield bar.update

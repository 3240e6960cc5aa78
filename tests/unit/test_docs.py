"""The README documents every setting, command and audience: this fails when one is missing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from commhub.audiences import load_audiences
from commhub.cli import cli
from commhub.config import environment_variables
from commhub.resources import audiences_dir

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def command_paths(group: click.Group, prefix: str = "commhub") -> Iterator[str]:
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            yield from command_paths(command, path)
        else:
            yield path


def test_readme_opens_with_make_run_and_make_test() -> None:
    opening = README[:600]
    assert "make run" in opening
    assert "make test" in opening


@pytest.mark.parametrize("name", environment_variables())
def test_every_setting_is_documented(name: str) -> None:
    assert f"`{name}`" in README


@pytest.mark.parametrize("command", sorted(command_paths(cli)))
def test_every_command_is_documented(command: str) -> None:
    assert f"`{command}" in README


@pytest.mark.parametrize("slug", [d.slug for d in load_audiences(audiences_dir())])
def test_every_audience_is_documented(slug: str) -> None:
    assert f"`{slug}`" in README

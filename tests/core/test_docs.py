"""The README documents every setting, command and audience: this fails when one is missing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from commhub.cli import cli
from commhub.config import environment_variables
from commhub.library.audiences import load_audiences
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


def layout_map() -> set[str]:
    """The module paths the README's layout map names, as commhub/<package>/<module>."""
    block = README.split("## Layout", 1)[1].split("```", 2)[1]
    named: set[str] = set()
    package = ""
    for line in block.splitlines():
        entry = line.split()[0] if line.strip() else ""
        indent = len(line) - len(line.lstrip())
        if indent == 2:
            package = entry if entry.endswith("/") else ""
            named.add(f"commhub/{entry}".rstrip("/"))
        elif indent == 4:
            named.add(f"commhub/{package}{entry}".rstrip("/"))
    return named


def modules_on_disk() -> set[str]:
    package = Path(__file__).parents[2] / "commhub"
    # Named as folders: their files are Alembic's, or the web app's pages and assets.
    found = {"commhub/store/migrations", "commhub/web/templates", "commhub/web/static"}
    for path in package.rglob("*.py"):
        relative = path.relative_to(package.parent)
        if "migrations" in relative.parts:
            continue
        if path.name == "__init__.py" and path.parent != package:
            found.add(relative.parent.as_posix())
        else:
            found.add(relative.as_posix())
    return found


def test_the_layout_map_names_every_module_and_only_those() -> None:
    named, on_disk = layout_map(), modules_on_disk()
    assert not on_disk - named, "modules missing from the README's layout map"
    assert not named - on_disk, "the README's layout map names modules that do not exist"

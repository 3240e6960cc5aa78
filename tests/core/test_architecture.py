"""The import-linter contracts in pyproject.toml cover every package: a new package or
top-level module cannot slip past the layers, and every step of the flow keeps its face."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[2]
CONTRACTS: list[dict[str, Any]] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"][
    "importlinter"
]["contracts"]
FRONT_DOORS = {"cli", "web"}


def top_level_names() -> set[str]:
    """Every package and top-level module of commhub, as commhub.<name>."""
    package = ROOT / "commhub"
    modules = {p.stem for p in package.glob("*.py")} - {"__init__"}
    packages = {p.name for p in package.iterdir() if (p / "__init__.py").is_file()}
    return {f"commhub.{name}" for name in modules | packages}


def test_every_package_and_top_level_module_has_a_layer() -> None:
    [layers] = [c for c in CONTRACTS if c["type"] == "layers"]
    layered = {name.strip() for layer in layers["layers"] for name in layer.split("|")}
    assert layered == top_level_names()


def test_every_step_of_the_flow_is_used_only_through_its_face() -> None:
    guarded = {
        c["allowed_importers"][0]
        for c in CONTRACTS
        if c["type"] == "protected" and c["protected_modules"][0].endswith(".**")
    }
    packages = {n for n in top_level_names() if (ROOT / n.replace(".", "/")).is_dir()}
    assert guarded == packages - {f"commhub.{door}" for door in FRONT_DOORS}


def test_the_domain_is_forbidden_every_framework() -> None:
    [forbidden] = [c for c in CONTRACTS if c["type"] == "forbidden"]
    front = {f"commhub.{door}" for door in FRONT_DOORS} | {"commhub.__main__", "commhub"}
    assert set(forbidden["source_modules"]) == top_level_names() - front

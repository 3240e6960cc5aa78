"""Where the project's own data directories are: beside the package in a source checkout
(an editable install), or inside it in a wheel. Never the current directory."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def project_dir(name: str) -> Path:
    """The project's `name` directory (audiences, templates or content)."""
    for candidate in (_PACKAGE_DIR.parent / name, _PACKAGE_DIR / "_project" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"commhub is installed without its {name}/ directory")


def audiences_dir() -> Path:
    """The audience definitions shipped with the project."""
    return project_dir("audiences")


def templates_dir() -> Path:
    """The message templates shipped with the project."""
    return project_dir("templates")


def content_dir() -> Path:
    """The sample content library shipped with the project."""
    return project_dir("content")

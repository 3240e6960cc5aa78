"""Domain modules stay free of web frameworks, vendor SDKs and schedulers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "commhub"
DOMAIN_MODULES = [
    "addresses", "audiences", "bootstrap", "config", "contacts", "contacts_csv",
    "content_files", "db", "demo", "errors", "health", "library", "markdown", "models",
    "overview", "resources", "schema", "spreadsheet_cells", "users", "wiring",
]  # fmt: skip
FORBIDDEN = (
    "flask",
    "werkzeug",
    "click",
    "waitress",
    "sendgrid",
    "smtplib",
    "feedparser",
    "apscheduler",
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_domain_modules_import_no_framework(module: str) -> None:
    imports = imported_modules(PACKAGE / f"{module}.py")
    assert not {i for i in imports if i.split(".")[0] in FORBIDDEN}


def test_every_top_level_module_is_classified() -> None:
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    assert modules == set(DOMAIN_MODULES)

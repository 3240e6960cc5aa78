"""Domain modules stay free of web frameworks, vendor SDKs and schedulers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "commhub"
DOMAIN_MODULES = [
    "addresses", "agenda", "alerts", "audiences", "bootstrap", "bulk", "cadence", "changes",
    "clock", "complaints", "config", "contacts", "contacts_csv", "content_files", "db", "demo",
    "dispatch", "due", "editions", "erasure", "errors", "event_export", "exposures", "health",
    "heat_map", "ical", "item_report", "leases", "library", "links", "markdown", "message_store",
    "mime", "mjml_compiler", "models", "overview", "placeholders", "planning", "preferences",
    "previews", "provider_events", "recipients", "render", "resources", "schema", "selection",
    "sending", "series", "signals", "spreadsheet_cells", "subscriptions", "tokens", "users",
    "wiring",
]  # fmt: skip
# Adapters to a framework, kept to wiring it: the domain never imports them.
ADAPTER_MODULES = ["scheduler"]
# Only the composition root picks a concrete delivery back end.
BACKEND_MODULES = (
    "commhub.delivery.smtp", "commhub.delivery.outbox", "commhub.delivery.sendgrid",
)  # fmt: skip
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
    assert modules == set(DOMAIN_MODULES) | set(ADAPTER_MODULES)


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_the_domain_never_imports_an_adapter(module: str) -> None:
    adapters = {f"commhub.{name}" for name in ADAPTER_MODULES}
    assert not imported_modules(PACKAGE / f"{module}.py") & adapters


@pytest.mark.parametrize("module", sorted(set(DOMAIN_MODULES) - {"wiring"}))
def test_only_wiring_knows_the_concrete_back_ends(module: str) -> None:
    assert not imported_modules(PACKAGE / f"{module}.py") & set(BACKEND_MODULES)


def test_the_delivery_seam_itself_speaks_no_protocol() -> None:
    for name in ("__init__", "outbox", "sendgrid_payload"):
        imports = imported_modules(PACKAGE / "delivery" / f"{name}.py")
        assert not {i for i in imports if i.split(".")[0] in FORBIDDEN}

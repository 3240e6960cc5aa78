"""A database from before the kept figures: `commhub init` upgrades it and works the figures
out from the events it already holds, so that the pages show its history at once."""

from __future__ import annotations

from pathlib import Path

from commhub.config import load_settings
from commhub.reports import item_report, series_history
from commhub.store import schema, session_scope
from commhub.wiring import build_runtime
from tests.cli.test_cli import Commhub

REPO = Path(__file__).parents[2]


def test_init_works_the_figures_out_from_the_events_of_an_older_database(tmp_path: Path) -> None:
    commhub = Commhub(tmp_path / "var")
    commhub.env["COMMHUB_POSTAL_ADDRESS"] = "1 Harbour Street, Bristol"
    for args in (
        ("init",),
        ("content", "import"),
        ("series", "apply", str(REPO / "series.yml")),
        ("demo-data", "--history", "2"),
    ):
        done = commhub(*args)
        assert done.exit_code == 0, done.output
    runtime = build_runtime(load_settings(commhub.env))
    try:
        with session_scope(runtime.sessions) as session:
            items, series = item_report(session), series_history(session)
        assert any(reach.human_opens for reach in items)
        schema.downgrade(runtime.engine, "0013")  # as it was before: events, no figures
    finally:
        runtime.close()

    upgraded = commhub("init")
    assert upgraded.exit_code == 0, upgraded.output
    assert "schema: 0013 -> " in upgraded.stdout
    assert "figures: worked out from the events already recorded" in upgraded.stdout
    assert commhub("report", "rebuild", "--check").exit_code == 0
    runtime = build_runtime(load_settings(commhub.env))
    try:
        with session_scope(runtime.sessions) as session:
            assert item_report(session) == items
            assert series_history(session) == series
    finally:
        runtime.close()
    again = commhub("init")  # already current: nothing worked out again
    assert "figures:" not in again.stdout

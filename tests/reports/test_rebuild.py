"""`commhub report rebuild`: the figures kept as events happen are exactly what the events say,
on a database the six-month history demo filled through the real recording functions; a
figure gone wrong is named, put right, and the reports read the right one again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from commhub.config import load_settings
from commhub.reports import item_report, series_history
from commhub.store import GroupFigures, PostFigures, session_scope
from commhub.wiring import Runtime, build_runtime
from tests.cli.test_cli import Commhub

REPO = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Commhub, Runtime]]:
    """A demo database with six months of history (built once for this module's tests, which
    put back whatever they change)."""
    commhub = Commhub(tmp_path_factory.mktemp("rebuild") / "var")
    commhub.env["COMMHUB_POSTAL_ADDRESS"] = "1 Harbour Street, Bristol"
    for args in (
        ("init",),
        ("content", "import"),
        ("series", "apply", str(REPO / "series.yml")),
        ("demo-data", "--history", "6"),
    ):
        done = commhub(*args)
        assert done.exit_code == 0, done.output
    runtime = build_runtime(load_settings(commhub.env))
    try:
        yield commhub, runtime
    finally:
        runtime.close()


def _checked(commhub: Commhub) -> tuple[int, list[dict[str, object]]]:
    done = commhub("report", "rebuild", "--check", "--format", "json")
    return done.exit_code, json.loads(done.stdout)


def test_the_history_demo_s_figures_are_exactly_what_its_events_say(
    history: tuple[Commhub, Runtime],
) -> None:
    commhub, _runtime = history
    code, found = _checked(commhub)
    assert code == 0, [f for f in found if not f["matches"]]
    assert all(f["matches"] for f in found)
    rows = {str(f["aggregate"]): int(str(f["rows"])) for f in found}
    # Not vacuous: the demo's events left rows in every aggregate.
    assert all(n > 0 for n in rows.values()), rows


def test_a_figure_gone_wrong_is_named_put_right_and_read_right_again(
    history: tuple[Commhub, Runtime],
) -> None:
    commhub, runtime = history
    with session_scope(runtime.sessions) as session:
        items_before = item_report(session)
        series_before = series_history(session)
        group = session.execute(
            select(GroupFigures.edition_id, GroupFigures.role_set, GroupFigures.variant)
            .where(GroupFigures.human_opens > 0)
            .order_by(GroupFigures.edition_id)
            .limit(1)
        ).one()
        session.execute(
            update(GroupFigures)
            .where(
                GroupFigures.edition_id == group.edition_id,
                GroupFigures.role_set == group.role_set,
                GroupFigures.variant == group.variant,
            )
            .values(human_opens=GroupFigures.human_opens + 5)
        )
        post_id = session.scalar(select(PostFigures.post_id).limit(1))
        session.execute(PostFigures.__table__.delete().where(PostFigures.post_id == post_id))
    with session_scope(runtime.sessions) as session:
        assert item_report(session) != items_before  # the pages read the kept figures

    code, found = _checked(commhub)
    assert code == 1
    wrong = {str(f["aggregate"]): f["mismatches"] for f in found if not f["matches"]}
    columns = next(
        f["columns"] for f in found if f["aggregate"] == "figures per edition and role set"
    )
    opened = columns.index("human_opens")  # type: ignore[attr-defined]
    assert set(wrong) == {"figures per edition and role set", "clicks per post"}
    (opens,) = wrong["figures per edition and role set"]  # type: ignore[misc]
    assert opens["key"] == [group.edition_id, group.role_set, group.variant]
    assert opens["held"][opened] == opens["recomputed"][opened] + 5
    (post,) = wrong["clicks per post"]  # type: ignore[misc]
    assert post == {"key": [post_id], "held": None, "recomputed": post["recomputed"]}

    table = commhub("report", "rebuild")
    assert table.exit_code == 0, table.output
    assert "1 rows differed, put right" in table.stdout
    assert _checked(commhub)[0] == 0
    with session_scope(runtime.sessions) as session:
        assert item_report(session) == items_before
        assert series_history(session) == series_before

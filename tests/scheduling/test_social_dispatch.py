"""The scheduler posts a social edition on its date, as it sends a newsletter on its own: the
same sweep claims it, prepares its posts and hands them to the posters; a runner built
without posters leaves it for one that has them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from commhub.delivery.outbox import OutboxBackend
from commhub.delivery.post_outbox import OutboxPoster
from commhub.scheduling.dispatch import EditionRunner
from commhub.scheduling.planning import plan_editions
from commhub.store import Edition, EditionState, PostState, SocialPost
from tests.builders import QUICK, World

DEC_1 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # the builder's cadence: day 1 at 09:00 London


def _runner(world: World, tmp_path: Path, with_posters: bool = True) -> EditionRunner:
    poster_for = lambda network, _account: OutboxPoster(tmp_path / "social", network)  # noqa: E731
    return EditionRunner(
        world.runtime.sessions, lambda: OutboxBackend(tmp_path / "outbox"),
        world.runtime.settings, world.renderer, world.clock, workers=1, policy=QUICK,
        poster_for=poster_for if with_posters else None,
    )  # fmt: skip


def _tick(world: World, runner: EditionRunner, at: datetime) -> list[int]:
    world.clock.current = at
    report = runner.tick()
    runner.wait(timeout=60)
    runner.shutdown()
    return report.claimed + report.resumed


def test_a_due_social_edition_is_posted_by_the_scheduler(world: World, tmp_path: Path) -> None:
    world.item("news", ["sales"], title="Partner news", published=DEC_1 - timedelta(days=2))
    world.social_series(accounts=[{"network": "webhook", "name": "slack", "audiences": "all"}])
    with world.session() as session:
        plan_editions(session, DEC_1 - timedelta(days=1))
    # A runner without posters claims it, prepares it and leaves its posts alone ...
    [edition_id] = _tick(world, _runner(world, tmp_path, with_posters=False), DEC_1)
    with world.session() as session:
        [post] = session.scalars(select(SocialPost))
        assert post.state is PostState.PLANNED
    # ... and the next sweep of one that has them posts them.
    assert _tick(world, _runner(world, tmp_path), DEC_1 + timedelta(minutes=2)) == [edition_id]
    with world.session() as session:
        edition = session.get(Edition, edition_id)
        assert edition is not None
        assert edition.state is EditionState.SENT
        [post] = session.scalars(select(SocialPost))
        assert post.state is PostState.POSTED
    assert len(list((tmp_path / "social" / str(edition_id)).glob("*.json"))) == 1

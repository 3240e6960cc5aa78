"""Feed sources fetched from a real HTTP server on this machine, good ones and bad ones in the
same run: every good source imports whatever the bad ones do; each bad one gets a clear
recorded error and backs off; a 304 imports nothing and costs no parse; a source is fetched
by one process at a time; `commhub feeds fetch --all` prints a line per source and exits 1
when any failed."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from commhub.cli import cli
from commhub.delivery.outbox import OutboxBackend
from commhub.feeds import NewSource, SourceFetcher, add_source, due_sources
from commhub.outbound import FetchPolicy
from commhub.scheduling import EditionRunner, Scheduler
from commhub.store import ContentItem, ContentKind, FeedSource
from tests.builders import World
from tests.feeds.feed_server import FeedServer, Served, serve_feeds

DATA = Path(__file__).parent / "data"
# The server is on loopback: the operator's switch for a private network, as in tests of a
# feed on the same machine. The guard's refusals have tests of their own (tests/outbound).
LOCAL = FetchPolicy(allow_private=True, timeout_seconds=2.0, max_bytes=200_000)
GOOD = {
    "/rss20": Served((DATA / "rss20.xml").read_bytes(), etag='"v1"'),
    "/rss10": Served((DATA / "rss10.rdf").read_bytes(), content_type="application/rdf+xml"),
    "/atom": Served((DATA / "atom.xml").read_bytes(), content_type="application/atom+xml"),
    "/youtube": Served((DATA / "youtube.xml").read_bytes(), content_type="application/atom+xml"),
    # Script, event handlers, javascript: and data: links: imported, every one neutralised.
    "/hostile": Served((DATA / "hostile.xml").read_bytes()),
}
BAD = {
    "/missing": None,  # 404: not served at all
    "/broken": Served((DATA / "malformed.xml").read_bytes()),
    "/html": Served((DATA / "not_a_feed.html").read_bytes(), content_type="text/html"),
    "/bomb": Served((DATA / "billion_laughs.xml").read_bytes()),
    "/xxe": Served((DATA / "xxe_file.xml").read_bytes()),
    "/huge": Served(b"<rss>" + b" " * 300_000 + b"</rss>"),
    "/slow": Served((DATA / "rss20.xml").read_bytes(), delay=3.0),
    "/to-metadata": Served(status=302, location="http://169.254.169.254/latest/meta-data/"),
}


@pytest.fixture
def server() -> Iterator[FeedServer]:
    yield from serve_feeds()


def _add(world: World, url: str, **changes: object) -> int:
    wanted = dataclasses.replace(NewSource(url, ["technical"]), **changes)  # type: ignore[arg-type]
    with world.session() as session:
        return add_source(session, wanted, world.clock.now(), allow_private=True).id


def _fetcher(world: World) -> SourceFetcher:
    return SourceFetcher(world.runtime.sessions, world.clock, LOCAL)


def _titles(world: World) -> set[str]:
    with world.session() as session:
        return set(session.scalars(select(ContentItem.title)))


def test_good_sources_import_whatever_the_bad_ones_do(world: World, server: FeedServer) -> None:
    for path, served in {**GOOD, **BAD}.items():
        if served is not None:
            server.paths[path] = served
    ids = {path: _add(world, server.url(path)) for path in {**GOOD, **BAD}}
    fetcher = _fetcher(world)
    try:
        outcomes = {
            o.url.removeprefix(server.base_url): o for o in fetcher.fetch_many(ids.values())
        }
    finally:
        fetcher.close()
    assert {p for p, o in outcomes.items() if not o.failed} == set(GOOD)
    for path in GOOD:
        assert outcomes[path].state == "new", outcomes[path].line()
    errors = {path: outcomes[path].error or "" for path in BAD}
    assert "HTTP 404" in errors["/missing"]
    assert "not a feed" in errors["/broken"]
    assert "HTML" in errors["/html"] or "html" in errors["/html"]
    assert "entity" in errors["/bomb"]
    assert "entity" in errors["/xxe"]
    assert "200,000 bytes" in errors["/huge"]
    assert "timed out" in errors["/slow"]
    assert "169.254.169.254" in errors["/to-metadata"]
    titles = _titles(world)
    assert "Onboarding in five minutes" in titles  # from the YouTube feed
    assert not any("root:" in title for title in titles)
    with world.session() as session:
        stored = " ".join(
            f"{i.title} {i.summary} {i.body_html} {i.url} {i.video_url} {i.thumbnail_url}"
            for i in session.scalars(select(ContentItem))
        ).lower()
    for trick in ("<script", "onerror", "onload", "javascript:", "data:text"):
        assert trick not in stored, trick
    with world.session() as session:
        videos = session.scalar(
            select(func.count(ContentItem.id)).where(ContentItem.kind == ContentKind.VIDEO)
        )
        assert videos
        assert videos >= 2
        for path in BAD:
            source = session.get(FeedSource, ids[path])
            assert source is not None
            assert source.failures == 1
            assert source.last_error == outcomes[path].error
            assert source.next_fetch_at == world.clock.now() + timedelta(hours=1)
        good = session.get(FeedSource, ids["/rss20"])
        assert good is not None
        assert good.last_error is None
        assert good.etag == '"v1"'


def test_a_304_imports_nothing_and_costs_no_parse(world: World, server: FeedServer) -> None:
    server.paths["/rss20"] = GOOD["/rss20"]
    source_id = _add(world, server.url("/rss20"))
    fetcher = _fetcher(world)
    try:
        [first] = fetcher.fetch_many([source_id])
        assert first.state == "new"
        # Were the body parsed again, this would be an error: a 304 must not get that far.
        server.paths["/rss20"] = dataclasses.replace(GOOD["/rss20"], body=b"not xml at all")
        [again] = fetcher.fetch_many([source_id])
    finally:
        fetcher.close()
    assert again.not_modified
    assert again.state == "unchanged"
    assert server.requests[-1][1].get("If-None-Match") == '"v1"'
    assert "commhub/" in server.requests[-1][1].get("User-Agent", "")


def test_failures_back_off_and_a_success_resets_them(world: World, server: FeedServer) -> None:
    source_id = _add(world, server.url("/later"))
    fetcher = _fetcher(world)
    try:
        for failures in (1, 2, 3):
            [outcome] = fetcher.fetch_many([source_id])
            assert outcome.failed
            with world.session() as session:
                source = session.get(FeedSource, source_id)
                assert source is not None
                assert source.failures == failures
                wait = source.next_fetch_at - world.clock.now()
            assert wait == timedelta(hours=2 ** (failures - 1))
        server.paths["/later"] = GOOD["/atom"]
        [outcome] = fetcher.fetch_many([source_id])
    finally:
        fetcher.close()
    assert outcome.state == "new"
    with world.session() as session:
        source = session.get(FeedSource, source_id)
        assert source is not None
        assert (source.failures, source.last_error) == (0, None)


def test_a_source_is_fetched_by_one_process_at_a_time(world: World, server: FeedServer) -> None:
    server.paths["/rss20"] = GOOD["/rss20"]
    source_id = _add(world, server.url("/rss20"))
    with world.session() as session:
        assert due_sources(session, world.clock.now()) == [source_id]
        # Another scheduler has claimed it and is fetching.
        source = session.get(FeedSource, source_id)
        assert source is not None
        source.lease_owner = "elsewhere:1:abcd"
        source.lease_expires_at = world.clock.now() + timedelta(minutes=5)
    with world.session() as session:
        assert due_sources(session, world.clock.now()) == []
    fetcher = _fetcher(world)
    try:
        [outcome] = fetcher.fetch_many([source_id])
        assert outcome.state == "busy"
        assert server.hits("/rss20") == 0
        world.clock.current += timedelta(minutes=6)  # its claim ran out: the holder died
        assert [o.state for o in fetcher.fetch_due()] == ["new"]
    finally:
        fetcher.close()
    assert server.hits("/rss20") == 1


def test_feeds_commands_end_to_end(tmp_path: Path, server: FeedServer) -> None:
    server.paths["/atom"] = GOOD["/atom"]
    env = {
        "COMMHUB_DATA_DIR": str(tmp_path / "var"),
        "COMMHUB_DATABASE_URL": "",
        "COMMHUB_FEEDS_ALLOW_PRIVATE": "yes",
    }
    runner = CliRunner()

    def commhub(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(cli, list(args), env=env)
        return result.exit_code, result.stdout, result.stderr

    assert commhub("init")[0] == 0
    code, said, _ = commhub(
        "feeds", "add", server.url("/atom"), "--audiences", "technical,development",
        "--rule", "keyword=partners -> sales", "--every", "30m",
    )  # fmt: skip
    assert code == 0, said
    assert "feed source 1 added" in said
    code, _said, err = commhub("feeds", "add", server.url("/gone"), "--audiences", "nobody")
    assert code == 1
    assert 'no audience "nobody"' in err
    assert commhub("feeds", "add", server.url("/gone"), "--audiences", "sales")[0] == 0
    code, said, err = commhub("feeds", "fetch", "--all")
    assert code == 1
    lines = said.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("   1  ")
    assert ": new: " in lines[0]
    assert lines[1].startswith("   2  ")
    assert "HTTP 404" in lines[1]
    assert "1 of 2 sources failed" in err
    code, listed, _ = commhub("feeds", "list")
    assert "audiences: technical, development" in listed
    assert "rule: keyword=partners -> sales" in listed
    assert "every 30m, drafts" in listed
    assert "last error (1 in a row): HTTP 404" in listed
    code, said, _ = commhub("content", "list", "--format", "json")
    assert '"source": "feed"' in said
    assert '"status": "draft"' in said
    assert commhub("feeds", "remove", "2")[0] == 0
    assert commhub("feeds", "fetch", "--all")[0] == 0


def test_without_the_operators_switch_a_private_address_is_refused(
    world: World, server: FeedServer
) -> None:
    server.paths["/rss20"] = GOOD["/rss20"]
    source_id = _add(world, server.url("/rss20"))
    guarded = SourceFetcher(world.runtime.sessions, world.clock, FetchPolicy())
    try:
        [outcome] = guarded.fetch_many([source_id])
    finally:
        guarded.close()
    assert outcome.failed
    assert "127.0.0.1 is a loopback address" in (outcome.error or "")
    assert server.hits("/rss20") == 0


def test_the_scheduler_fetches_what_is_due_on_its_own_job(
    world: World, server: FeedServer, tmp_path: Path
) -> None:
    server.paths["/rss20"] = GOOD["/rss20"]
    server.paths["/atom"] = GOOD["/atom"]
    due_id = _add(world, server.url("/rss20"))
    later_id = _add(world, server.url("/atom"))
    with world.session() as session:
        later = session.get(FeedSource, later_id)
        assert later is not None
        later.next_fetch_at = world.clock.now() + timedelta(minutes=30)
    runner = EditionRunner(
        world.runtime.sessions, lambda: OutboxBackend(tmp_path / "outbox"),
        world.runtime.settings, world.renderer, world.clock, workers=1,
    )  # fmt: skip
    scheduler = Scheduler(
        runner, world.runtime.sessions, world.clock, sweep_seconds=60, feeds=_fetcher(world)
    )
    try:
        scheduler.fetch_feeds()
    finally:
        scheduler.stop()
    assert (server.hits("/rss20"), server.hits("/atom")) == (1, 0)
    with world.session() as session:
        source = session.get(FeedSource, due_id)
        assert source is not None
        assert source.next_fetch_at == world.clock.now() + timedelta(hours=1)

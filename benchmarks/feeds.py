"""How long following feeds takes: 50 sources of 200 entries each, served by a local HTTP
server, fetched and imported into a fresh database, then fetched again.

Three passes over the same 50 feeds, in one run, each on the same server:
- baseline: each feed fetched through the guarded client and parsed by the parser, nothing
  written (the floor an import cannot go below);
- first: `SourceFetcher.fetch_many` over every source: fetch, parse, and 10,000 new items
  with their audiences and entry records written;
- again (conditional): the same, the feeds unchanged: each answers 304 and costs no parse;
- again (no validators): the server ignores ETag, so every feed is fetched and parsed again
  and each entry found unchanged by its digest (the cost of a publisher without ETags).

Each pass is repeated --rounds times on a fresh database (the baseline needs none); the
figures are the medians, and the ratio of each to the baseline's median.

Then, feeds out under load: the web app serves an audience's feed (50 items, with bodies)
from a second process (waitress, 4 threads, as `commhub serve` runs it), and --clients
threads here request it for --seconds each pass: the full feed, and a reader's conditional
poll (304). The baseline, served by the same server in the same process: a static file of
the same bytes as the feed. Requests per second, and the median and p99 latency.

    .venv/bin/python benchmarks/feeds.py [--sources 50] [--entries 200] [--rounds 3]
        [--clients 8] [--seconds 10] [--only import|serve]
        [--database-url postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from send import settings_for  # benchmarks/, beside this script
from sqlalchemy import func, select
from throwaway_db import Database, migrated_runtime
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from commhub.clock import SystemClock
from commhub.feeds import FetchOutcome, NewSource, SourceFetcher, add_source, parse_feed
from commhub.outbound import FetchPolicy, fetch, guarded_client
from commhub.store import (
    Audience,
    ContentItem,
    ContentKind,
    ContentSource,
    ContentStatus,
    session_scope,
)

POLICY = FetchPolicy(allow_private=True)  # the server is on this machine


def rss(source: int, entries: int) -> bytes:
    """A feed of `entries` items, each with a guid, a date, categories and an HTML body."""
    start = datetime(2026, 6, 1, tzinfo=UTC)
    items = []
    for n in range(entries):
        when = (start + timedelta(hours=n)).strftime("%a, %d %b %Y %H:%M:%S +0000")
        items.append(
            f"<item><title>Source {source} post {n}: release notes and api changes</title>"
            f"<link>https://blog{source}.example/posts/{n}</link>"
            f"<guid>https://blog{source}.example/posts/{n}</guid><pubDate>{when}</pubDate>"
            f"<category>changelog</category><category>partners</category>"
            f"<description>What changed in release {n}, for partners.</description>"
            f"<content:encoded><![CDATA[<p>Release {n} brings <strong>faster</strong> "
            f"builds and <a href='https://docs.example/{n}'>new docs</a>.</p>]]>"
            f"</content:encoded></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>Blog {source}</title><link>https://blog{source}.example/</link>"
        f"<description>Posts</description>{''.join(items)}</channel></rss>"
    ).encode()


class Feeds:
    """The WSGI app serving /feed/<n>.xml, with an ETag unless told to ignore them."""

    def __init__(self, sources: int, entries: int) -> None:
        self.bodies = {f"/feed/{n}.xml": rss(n, entries) for n in range(sources)}
        self.honour_etags = True

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        body = self.bodies.get(request.path)
        if body is None:
            return Response("no", 404)(environ, start_response)
        etag = f'"{hash(body)}"'
        if self.honour_etags and request.headers.get("If-None-Match") == etag:
            return Response(status=304)(environ, start_response)
        headers = {"Content-Type": "application/rss+xml", "ETag": etag}
        return Response(body, 200, headers)(environ, start_response)


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """No line per request."""


@contextmanager
def serving(app: Feeds) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        server.server_close()


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def baseline(base_url: str, paths: list[str]) -> None:
    with guarded_client(POLICY) as client:
        for path in paths:
            fetched = fetch(base_url + path, POLICY, client=client)
            parse_feed(fetched.body or b"", fetched.url, fetched.content_type)


def one_round(
    database: Database, workdir: Path, app: Feeds, base_url: str
) -> tuple[float, float, float, int]:
    """(first, again conditional, again without validators) in seconds, and items written."""
    url, remove = database.fresh()
    runtime = migrated_runtime(settings_for(url, workdir))
    try:
        now = datetime.now(UTC)
        with session_scope(runtime.sessions) as session:
            ids = [
                add_source(session, NewSource(base_url + path, ["technical"]), now, True).id
                for path in app.bodies
            ]
        fetcher = SourceFetcher(runtime.sessions, SystemClock(), POLICY)
        try:
            app.honour_etags = True
            first = timed(lambda: check(fetcher.fetch_many(ids), "new"))
            again = timed(lambda: check(fetcher.fetch_many(ids), "unchanged"))
            app.honour_etags = False
            reparsed = timed(lambda: check(fetcher.fetch_many(ids), "unchanged"))
        finally:
            fetcher.close()
        with session_scope(runtime.sessions) as session:
            items = session.scalar(select(func.count(ContentItem.id))) or 0
        return first, again, reparsed, items
    finally:
        runtime.close()
        remove()


def check(outcomes: list[FetchOutcome], state: str) -> None:
    wrong = [o.line() for o in outcomes if o.state != state]
    if wrong:
        sys.exit(f"expected every source {state}, got:\n" + "\n".join(wrong[:5]))


def serve_child(url: str, workdir: str, port: int, static: bytes) -> None:
    """The second process: the web app on waitress, with one extra path serving `static`."""
    from waitress import serve

    from commhub.web import create_app
    from commhub.wiring import build_runtime

    app = create_app(runtime=build_runtime(settings_for(url, Path(workdir))))

    def with_static(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/bench/static.xml":
            length = str(len(static))
            start_response(
                "200 OK", [("Content-Type", "application/atom+xml"), ("Content-Length", length)]
            )
            return [static]
        return app(environ, start_response)

    serve(with_static, host="127.0.0.1", port=port, threads=4, _quiet=True)


def load(
    url: str, clients: int, seconds: float, headers: dict[str, str]
) -> tuple[float, float, float]:
    """(requests per second, median ms, p99 ms) of `clients` threads requesting url."""
    import httpx

    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        mine = []
        with httpx.Client(timeout=30) as http:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                answer = http.get(url, headers=headers)
                answer.read()
                if answer.status_code not in (200, 304):
                    sys.exit(f"{url} answered {answer.status_code}")
                mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies) / elapsed, statistics.median(latencies) * 1000, p99 * 1000


def serving_benchmark(database: Database, workdir: Path, clients: int, seconds: float) -> None:
    """Feeds out under load, from a second process, against a static file of the same bytes."""
    import multiprocessing
    import socket

    url, remove = database.fresh()
    runtime = migrated_runtime(settings_for(url, workdir))
    try:
        now = datetime.now(UTC)
        with session_scope(runtime.sessions) as session:
            technical = session.scalar(select(Audience).where(Audience.slug == "technical"))
            for n in range(60):
                session.add(ContentItem(
                    slug=f"bench/item-{n}", title=f"Release {n}: what changes for partners",
                    summary="What changed, for partners.", kind=ContentKind.ARTICLE,
                    body_html="<p>Release notes with <strong>details</strong>.</p>" * 8,
                    url=f"https://vendor.example/releases/{n}", source=ContentSource.UI,
                    status=ContentStatus.PUBLISHED, publish_at=now - timedelta(hours=n),
                    audiences=[technical],
                ))  # fmt: skip
    finally:
        runtime.close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    feed_url = f"{base}/feeds/technical.atom"
    child = multiprocessing.get_context("spawn").Process(
        target=serve_child, args=(url, str(workdir), port, b""), daemon=True
    )
    child.start()
    try:
        body, etag = _wait_for(feed_url)
    finally:
        child.terminate()
        child.join()
    # The same server again, now with the static file holding the feed's bytes.
    child = multiprocessing.get_context("spawn").Process(
        target=serve_child, args=(url, str(workdir), port, body), daemon=True
    )
    child.start()
    try:
        _wait_for(feed_url)
        static_url = f"{base}/bench/static.xml"
        poll = {"If-None-Match": etag}
        rows = [
            ("baseline: static file, same bytes", load(static_url, clients, seconds, {})),
            ("audience feed, full", load(feed_url, clients, seconds, {})),
            ("audience feed, conditional (304)", load(feed_url, clients, seconds, poll)),
        ]
    finally:
        child.terminate()
        child.join()
        remove()
    floor = rows[0][1][0]
    print(f"\nfeeds out: {len(body) / 1000:.0f} KB feed, {clients} clients, {seconds:g} s a pass, "
          "waitress (4 threads) in a second process")  # fmt: skip
    print(f"{'pass':<40} {'req/s':>8} {'x base':>7} {'median ms':>10} {'p99 ms':>8}")
    for label, (rps, median, p99) in rows:
        print(f"{label:<40} {rps:>8.0f} {rps / floor:>7.2f} {median:>10.1f} {p99:>8.1f}")


def _wait_for(url: str) -> tuple[bytes, str]:
    """The feed's bytes and ETag, once the server answers (within 60 s)."""
    import httpx

    for _ in range(600):
        try:
            answer = httpx.get(url, timeout=5)
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        if answer.status_code == 200:
            return answer.content, answer.headers.get("ETag", "")
        sys.exit(f"{url} answered {answer.status_code}")
    sys.exit(f"{url}: the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=50)
    parser.add_argument("--entries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--only", choices=["import", "serve"], default=None)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if args.only != "serve":
        import_benchmark(args)
    if args.only != "import":
        with tempfile.TemporaryDirectory() as tmp:
            serving_benchmark(Database(args.database_url, Path(tmp)), Path(tmp), args.clients,
                              args.seconds)  # fmt: skip


def import_benchmark(args: argparse.Namespace) -> None:
    app = Feeds(args.sources, args.entries)
    size = sum(map(len, app.bodies.values()))
    print(f"{args.sources} sources x {args.entries} entries ({size / 1e6:.1f} MB of RSS), "
          f"{args.rounds} rounds, {'PostgreSQL' if args.database_url else 'SQLite'}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp, serving(app) as base_url:
        database = Database(args.database_url, Path(tmp))
        floors, firsts, agains, reparses = [], [], [], []
        for _ in range(args.rounds):
            floors.append(timed(lambda: baseline(base_url, list(app.bodies))))
            first, again, reparsed, items = one_round(database, Path(tmp), app, base_url)
            firsts.append(first)
            agains.append(again)
            reparses.append(reparsed)
        if items != args.sources * args.entries:
            sys.exit(f"expected {args.sources * args.entries} items, found {items}")
    floor = statistics.median(floors)
    rows = [
        ("baseline: fetch + parse, nothing written", floor),
        ("first run: fetch, parse, import every entry", statistics.median(firsts)),
        ("re-run, unchanged (304, no parse)", statistics.median(agains)),
        ("re-run, unchanged, no ETag (parse, digests)", statistics.median(reparses)),
    ]
    print(f"{'pass':<48} {'median s':>9} {'x baseline':>11}")
    for label, seconds in rows:
        print(f"{label:<48} {seconds:>9.2f} {seconds / floor:>11.2f}")
    print(f"{items:,} items written per first run")


if __name__ == "__main__":
    main()

"""How fast each staff page of the web UI answers, on the demo database and on a large one.

Databases, built once and cached under var/bench/ (PostgreSQL: as databases of their own on
the --database-url server), keyed by a version string and the schema's migration head, so
that a rerun skips building them (--rebuild builds them again):
- demo: as `make run` builds it (`commhub init`, `content import`, `demo-data`, `series
  apply series.yml`, with demo.env), then three editions sent through the outbox back end
  (the newsletter, the executive briefing approved, the newsletter again);
- large: benchmarks/large_db.py, 100,000 contacts at 2,000 partners, 500 items, five
  series, 40 editions sent with about 2 million messages, 2,000,000 events and their
  exposures and tallies, 20,000 audit entries.

Each page of PAGES (real slugs and ids looked up in the database: the most carried item,
the largest sent edition and its series, the partner with most contacts) is requested with
Flask's test client, signed in as an admin through the real /login form: one warm-up
request, then --requests timed ones. A page that does not answer 200 is reported with its
status, not timed. Baseline, measured in the same run on the same app: GET /healthz (one
trivial query), so that figures can be quoted as ratios to it; and, for scale, a route
this script adds to the app that does nothing (the request pipeline's floor). Requests go
round-robin over the pages, so that a drift in the machine's load hits every page alike.

    .venv/bin/python benchmarks/pages.py [--requests 20] [--only demo|large] [--pages REGEX]
        [--database-url postgresql://postgres@127.0.0.1:5432/postgres] [--rebuild]

Prints, per page and database: the status, the median and p95 in ms, and the median's ratio
to the baseline's.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask.testing import FlaskClient
from large_db import ADMIN_EMAIL, ADMIN_PASSWORD  # benchmarks/, beside this script
from large_db import VERSION as LARGE_VERSION
from send import settings_for
from sqlalchemy import create_engine, desc, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from commhub.config import normalise_database_url
from commhub.contacts.users import create_user, find_user
from commhub.store.db import session_scope
from commhub.store.models import (
    Contact,
    ContentItem,
    Edition,
    EditionItem,
    EditionState,
    Event,
    Series,
    UserRole,
)
from commhub.store.schema import head_revision
from commhub.web import create_app
from commhub.web.analytics import CHARTS
from commhub.wiring import Runtime, build_runtime

HERE = Path(__file__).parent
ROOT = HERE.parent
CACHE = ROOT / "var" / "bench"
DEMO_VERSION = "1"  # bump when the demo build below changes
# What the demo database is made from: a change to any of them builds it again.
DEMO_INPUTS = ("content", "audiences", "series.yml", "demo.env", "commhub/contacts/demo.py")

# The staff pages, as the browser tests walk them; <slug> and <id> are looked up per database.
PAGES = (
    "/", "/content", "/content/<slug>", "/series", "/series/<slug>", "/calendar",
    "/calendar?view=list", "/editions", "/editions/<id>", "/outbox", "/contacts",
    "/contacts/<id>", "/partners", "/partners/<id>", "/partners/<id>/trend.svg", "/analytics",
    *(f"/analytics/charts/{chart}.svg" for chart in CHARTS), "/users", "/settings", "/audit",
)  # fmt: skip
BASELINE = "/healthz"
BARE = "/bench-bare"  # added by this script: no work at all, for scale
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the databases -----------------------------------------------------------------------------


@dataclass
class Built:
    """A cached database: its URL and data dir, and how long it took if built in this run."""

    name: str
    url: str
    data_dir: Path
    built_s: float | None = None


class Cache:
    """Databases built once and kept: SQLite files under var/bench/, or PostgreSQL databases
    named after them. A build goes to a temporary name, renamed when it has finished."""

    def __init__(self, server_url: str | None) -> None:
        self.server = normalise_database_url(make_url(server_url)) if server_url else None

    def get(self, name: str, build: Callable[[str, Path], None], rebuild: bool) -> Built:
        suffix = "-pg" if self.server else ""
        data_dir = CACHE / f"{name}{suffix}"
        building_dir = CACHE / f"{name}{suffix}.building"
        if rebuild:
            self._remove(name, data_dir)
        if self._exists(name, data_dir):
            return Built(name, self._url(name, data_dir), data_dir)
        self._remove(name, building_dir, building=True)
        building_dir.mkdir(parents=True)
        started = time.perf_counter()
        try:
            build(self._url(name, building_dir, building=True), building_dir)
        except BaseException:
            self._remove(name, building_dir, building=True)
            raise
        elapsed = time.perf_counter() - started
        self._finish(name, building_dir, data_dir)
        return Built(name, self._url(name, data_dir), data_dir, elapsed)

    def _db_name(self, name: str, building: bool = False) -> str:
        db = "commhub_bench_" + re.sub(r"[^a-z0-9]+", "_", name.lower())
        return db + "_building" if building else db

    def _url(self, name: str, data_dir: Path, building: bool = False) -> str:
        if self.server is None:
            return f"sqlite:///{data_dir / 'commhub.db'}"
        url = self.server.set(database=self._db_name(name, building))
        return url.render_as_string(hide_password=False)

    def _admin(self) -> Callable[[str], None]:
        assert self.server is not None
        engine = create_engine(self.server, isolation_level="AUTOCOMMIT")

        def run(sql: str) -> None:
            with engine.connect() as connection:
                connection.execute(text(sql))

        return run

    def _exists(self, name: str, data_dir: Path) -> bool:
        if not data_dir.is_dir():
            return False
        if self.server is None:
            return (data_dir / "commhub.db").exists()
        engine = create_engine(self.server)
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": self._db_name(name)},
            ).first()
        engine.dispose()
        return found is not None

    def _remove(self, name: str, data_dir: Path, building: bool = False) -> None:
        shutil.rmtree(data_dir, ignore_errors=True)
        if self.server is not None:
            run = self._admin()
            run(f'DROP DATABASE IF EXISTS "{self._db_name(name, building)}" WITH (FORCE)')
            if building:
                run(f'CREATE DATABASE "{self._db_name(name, building)}"')

    def _finish(self, name: str, building_dir: Path, data_dir: Path) -> None:
        if self.server is not None:
            run = self._admin()
            run(
                f'ALTER DATABASE "{self._db_name(name, building=True)}" '
                f'RENAME TO "{self._db_name(name)}"'
            )
        os.replace(building_dir, data_dir)


def demo_key() -> str:
    digest = hashlib.sha256()
    for name in DEMO_INPUTS:
        path = ROOT / name
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file():
                digest.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes())
    return f"pages-demo-v{DEMO_VERSION}-{head_revision()}-{digest.hexdigest()[:8]}"


def large_key() -> str:
    return f"pages-large-v{LARGE_VERSION}-{head_revision()}"


def commhub_cli(url: str, data_dir: Path, *args: str, ok: tuple[int, ...] = (0,)) -> str:
    """Run `commhub ARGS` as `make run` does (demo.env read), on this database."""
    env = {
        **os.environ,
        "COMMHUB_DATA_DIR": str(data_dir),
        "COMMHUB_DATABASE_URL": url,
        "COMMHUB_SECRET_KEY": settings_for(url, data_dir).secret_key,
        "COMMHUB_DELIVERY": "outbox",
    }
    command = 'set -a && . ./demo.env && set +a && exec "$0" -m commhub "$@"'
    done = subprocess.run(
        ["bash", "-c", command, sys.executable, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode not in ok:
        raise SystemExit(f"commhub {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def build_demo(url: str, data_dir: Path) -> None:
    """`make run`'s database, and three editions sent through the outbox."""
    for args in (["init"], ["content", "import"], ["demo-data"], ["series", "apply", "series.yml"]):
        commhub_cli(url, data_dir, *args)
    commhub_cli(url, data_dir, "editions", "send", "partner-newsletter", "--now")
    commhub_cli(url, data_dir, "editions", "send", "executive-briefing", "--now", ok=(3,))
    runtime = build_runtime(settings_for(url, data_dir))
    with session_scope(runtime.sessions) as session:
        held = session.scalar(select(Edition.id).where(Edition.state == EditionState.HELD))
        if find_user(session, ADMIN_EMAIL) is None:
            create_user(session, ADMIN_EMAIL, UserRole.ADMIN, ADMIN_PASSWORD)
    runtime.close()
    if held is not None:
        commhub_cli(url, data_dir, "editions", "approve", str(held))
    commhub_cli(url, data_dir, "editions", "send", "partner-newsletter", "--now", "--again")


def build_large(url: str, data_dir: Path) -> None:
    """benchmarks/large_db.py, in a process of its own (its memory is not ours)."""
    subprocess.run(
        [sys.executable, str(HERE / "large_db.py"), url, str(data_dir)], check=True, cwd=ROOT
    )


# -- the pages -------------------------------------------------------------------------------


def page_urls(session: Session) -> dict[str, str | None]:
    """Each page of PAGES with its placeholder filled from this database (None: no row)."""
    item = session.scalar(
        select(ContentItem.slug)
        .join(EditionItem, EditionItem.content_item_id == ContentItem.id)
        .group_by(ContentItem.id, ContentItem.slug)
        .order_by(desc(func.count()), ContentItem.id)
        .limit(1)
    ) or session.scalar(select(ContentItem.slug).order_by(ContentItem.id).limit(1))
    edition = session.execute(
        select(Edition.id, Edition.series_id)
        .where(Edition.started_at.is_not(None))
        .order_by(desc(Edition.recipient_count), desc(Edition.started_at))
        .limit(1)
    ).first()
    series = session.scalar(
        select(Series.slug).where(Series.id == edition.series_id)
        if edition
        else select(Series.slug).order_by(Series.id).limit(1)
    )
    partner = session.scalar(
        select(Contact.partner_id)
        .where(Contact.partner_id.is_not(None))
        .group_by(Contact.partner_id)
        .order_by(desc(func.count()), Contact.partner_id)
        .limit(1)
    )
    # The contact with the longest story: the most events (else the first contact).
    contact = session.scalar(
        select(Event.contact_id)
        .where(Event.contact_id.is_not(None))
        .group_by(Event.contact_id)
        .order_by(desc(func.count()), Event.contact_id)
        .limit(1)
    ) or session.scalar(select(Contact.id).order_by(Contact.id).limit(1))
    values = {
        "/content/<slug>": item,
        "/contacts/<id>": contact,
        "/partners/<id>/trend.svg": partner,
        "/series/<slug>": series,
        "/editions/<id>": edition.id if edition else None,
        "/partners/<id>": partner,
    }
    urls: dict[str, str | None] = {}
    for page in PAGES:
        if page in values:
            value = values[page]
            urls[page] = None if value is None else re.sub(r"<\w+>", str(value), page)
        else:
            urls[page] = page
    return urls


@dataclass
class Timing:
    status: int
    ms: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.ms)

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.ms, n=100, method="inclusive")[94]


def sign_in(client: FlaskClient, email: str, password: str) -> None:
    """Through the real /login form, CSRF token and all."""
    found = _TOKEN.search(client.get("/login").get_data(as_text=True))
    assert found, "no CSRF token on /login"
    form = {"email": email, "password": password, "csrf_token": found.group(1)}
    answer = client.post("/login", data=form)
    if answer.status_code != 302:
        raise SystemExit(f"signing in as {email} failed: {answer.status_code}")


def timed_get(client: FlaskClient, url: str) -> tuple[int, float]:
    started = time.perf_counter()
    answer = client.get(url)
    answer.get_data()
    elapsed = (time.perf_counter() - started) * 1000
    answer.close()
    return answer.status_code, elapsed


def measure(
    built: Built, pages: list[str], requests: int, budget_s: float
) -> dict[str, tuple[str, Timing | None]]:
    """page -> (the URL requested, its timing), the baselines first.

    One warm-up request per page, then `requests` rounds, each requesting every page once:
    a machine whose load drifts during the run slows every page alike. A page whose warm-up
    (or any request) is not a 200 is reported with that status and not timed. A page that
    has spent budget_s seconds on its timed requests stops at the 3 it has or more (its row
    says how many), so that one slow page does not hold the run for an hour.
    """
    runtime: Runtime = build_runtime(settings_for(built.url, built.data_dir))
    try:
        with session_scope(runtime.sessions) as session:
            urls = page_urls(session)
        app = create_app(runtime=runtime)
        # The floor: a route that does nothing, behind the same app's hooks (session, auth).
        app.add_url_rule(BARE, "bench_bare", lambda: "ok")
        client = app.test_client()
        sign_in(client, ADMIN_EMAIL, ADMIN_PASSWORD)
        results: dict[str, tuple[str, Timing | None]] = {}
        for page in [BARE, BASELINE, *pages]:
            url = urls.get(page, page)
            if url is None:
                results[page] = ("(no row to show)", None)
                continue
            status, ms = timed_get(client, url)
            results[page] = (url, Timing(status))
            log(f"  {built.name}: {url} {status}, warm-up {ms:,.0f} ms")
        live = [(page, url, t) for page, (url, t) in results.items() if t and t.status == 200]
        for _ in range(requests):
            for _page, url, timing in live:
                if timing.status != 200 or (
                    len(timing.ms) >= 3 and sum(timing.ms) > budget_s * 1e3
                ):
                    continue
                status, ms = timed_get(client, url)
                if status != 200:
                    timing.status = status
                    timing.ms.clear()
                else:
                    timing.ms.append(ms)
    finally:
        runtime.close()
    return results


def _status(timing: Timing | None) -> str:
    return "-" if timing is None else str(timing.status)


def report(
    results: dict[str, dict[str, tuple[str, Timing | None]]], requests: int, backend: str
) -> None:
    names = list(results)
    print(
        f"staff pages, {backend}, Flask test client signed in as an admin; median and p95 of "
        f"{requests} requests (n: fewer where a page ran out of its time budget) after one "
        f"warm-up; x base: median / median of {BASELINE}"
    )
    print(f"{'':<22}" + "".join(f"{name:^41}" for name in names))
    print(
        f"{'page':<22}"
        + f"{'status':>8}{'n':>4}{'median ms':>10}{'p95 ms':>10}{'x base':>9}" * len(names)
    )
    pages = list(next(iter(results.values())))
    for page in pages:
        label = {BASELINE: " (base)", BARE: " (no-op)"}.get(page, "")
        line = f"{page + label:<22}"
        for name in names:
            _url, timing = results[name][page]
            base = results[name][BASELINE][1]
            if timing is None or not timing.ms:
                line += f"{_status(timing):>8}{'':>33}"
                continue
            ratio = timing.median / base.median if base and base.ms else float("nan")
            line += (
                f"{timing.status:>8}{len(timing.ms):>4}{timing.median:>10.1f}{timing.p95:>10.1f}"
                f"{ratio:>9.1f}"
            )
        print(line)
    for name in names:
        looked_up = [url for page, (url, _t) in results[name].items() if "<" in page]
        if looked_up:
            print(f"{name}: " + ", ".join(looked_up))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument("--only", choices=["demo", "large"], help="one database")
    parser.add_argument("--pages", metavar="REGEX", help="only the pages it finds (re.search)")
    parser.add_argument("--database-url", help="PostgreSQL server (default: SQLite)")
    parser.add_argument("--rebuild", action="store_true", help="build the databases again")
    parser.add_argument(
        "--budget", type=float, default=60, metavar="SECONDS",
        help="a page stops after this many seconds of timed requests (3 at least)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.requests < 2:
        parser.error("--requests must be 2 or more")
    pages = [p for p in PAGES if not args.pages or re.search(args.pages, p)]
    if not pages:
        parser.error(f"no page matches {args.pages!r}; the pages: {' '.join(PAGES)}")
    cache = Cache(args.database_url)
    wanted = {
        "demo": (demo_key, build_demo),
        "large": (large_key, build_large),
    }
    results = {}
    built_notes = []
    for name, (key, build) in wanted.items():
        if args.only and args.only != name:
            continue
        log(f"{name} database: {key()}")
        built = cache.get(key(), build, args.rebuild)
        if built.built_s is not None:
            built_notes.append(f"{name} database built in {built.built_s:.0f} s")
        else:
            built_notes.append(f"{name} database cached ({built.data_dir.relative_to(ROOT)})")
        results[name] = measure(built, pages, args.requests, args.budget)
    report(results, args.requests, "postgresql" if args.database_url else "sqlite")
    print("; ".join(built_notes))


if __name__ == "__main__":
    main()

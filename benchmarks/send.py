"""Sending an edition to generated contacts: SMTP to a local sink, SendGrid's API to a local
fake of it, and the outbox.

Baselines, measured in the same run against the same receiver:
- SMTP: a bare smtplib loop over one connection, sending the bytes of a real message of
  this edition once per contact (no database, no personalisation);
- SendGrid: the official library posting a pre-built request body, the fullest one commhub
  sent in the same run (1,000 personalizations), again and again to the same fake, until it
  has carried as many personalizations as the edition has messages.
commhub: `EditionSender` as `commhub editions send` runs it (claims, personalisation, the
request or MIME, the back end, recording), after the edition is prepared. Each case runs in
a child process of its own, so that its peak memory is its own; the SMTP sink and the
SendGrid fake (tests/sendgrid_fake.py, which validates every request) run in their own.

    .venv/bin/python benchmarks/send.py [--contacts 10000 100000] [--repeat 3]
        [--database-url postgresql://postgres@127.0.0.1:5432/postgres]
    .venv/bin/python benchmarks/send.py --profile smtp|sendgrid --contacts 10000

Prints, per size, the median of --repeat runs: messages per second over the send, the
time to prepare the edition, peak memory (RSS), and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sendgrid import SendGridAPIClient
from sqlalchemy import insert, select, text

from commhub.clock import SystemClock
from commhub.config import Settings, check_smtp_url
from commhub.delivery.backend import DeliveryBackend
from commhub.delivery.outbox import OutboxBackend
from commhub.delivery.sender import EditionSender
from commhub.delivery.sendgrid import CONTENT_TYPE, SendGridBackend
from commhub.delivery.smtp import SmtpBackend
from commhub.editions.lifecycle import start_edition
from commhub.editions.preparation import prepare_edition
from commhub.library.audiences import load_audiences, sync_audiences
from commhub.resources import audiences_dir
from commhub.scheduling.due import local_waves
from commhub.store.db import session_scope
from commhub.store.models import (
    Audience,
    Channel,
    Contact,
    ContentItem,
    ContentKind,
    ContentSource,
    Partner,
    Series,
    contact_roles,
)
from commhub.store.schema import upgrade
from commhub.wiring import build_renderer, build_runtime

HERE = Path(__file__).parent
ROOT = HERE.parent
API_KEY = "SG.bench-key"
ROLE_MIXES = [
    ["sales"], ["technical"], ["marketing"], ["development"], ["executive"],
    ["sales", "executive"], ["technical", "development"], ["sales", "marketing"],
]  # fmt: skip
NOW = datetime.now(UTC)


def settings_for(url: str, data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir, database_url=url, secret_keys=("bench-" + "k" * 40,),
        org_name="Northwind Cloud Partner Programme",
        postal_address="Northwind Cloud Ltd, 1 Harbour Street, Bristol BS1 4QA",
    )  # fmt: skip


def build_database(url: str, data_dir: Path, contacts: int) -> None:
    """Schema, audiences, one newsletter series, a dozen items and `contacts` contacts."""
    runtime = build_runtime(settings_for(url, data_dir))
    upgrade(runtime.engine)
    with session_scope(runtime.sessions) as session:
        sync_audiences(session, load_audiences(audiences_dir()))
    with session_scope(runtime.sessions) as session:
        audiences = {a.slug: a for a in session.scalars(select(Audience))}
        session.add(
            Series(
                slug="bench",
                name="Partner Newsletter",
                channel=Channel.NEWSLETTER,
                all_audiences=True,
                cadence="monthly on day 1 at 09:00",
                timezone="Europe/London",
                subject="{{ series.name }}: news for {{ contact.first_name }}",
                from_address="Partner Team <partners@northwind.example>",
                max_items=3,
                partner_filter={},
            )
        )
        for n in range(12):
            slugs = list(audiences)[n % 5 : n % 5 + 1 + n % 2]
            session.add(
                ContentItem(
                    slug=f"item-{n}",
                    title=f"Partner update number {n}: what changes",
                    summary="A realistic two-sentence summary of the item. " * 2,
                    kind=ContentKind.VIDEO if n % 4 == 0 else ContentKind.ARTICLE,
                    url=f"https://partners.northwind.example/news/{n}",
                    video_url=f"https://video.northwind.example/{n}",
                    thumbnail_url=f"https://cdn.northwind.example/{n}.jpg",
                    source=ContentSource.UI,
                    publish_at=NOW - timedelta(days=n + 1),
                    audiences=[audiences[s] for s in slugs],
                )
            )
        partners = [Partner(name=f"Partner {p}", tier="gold", tags=[]) for p in range(200)]
        session.add_all(partners)
        session.flush()
        role_ids = {slug: a.id for slug, a in audiences.items()}
        for start in range(0, contacts, 5000):
            batch = range(start, min(start + 5000, contacts))
            session.execute(
                insert(Contact.__table__),  # type: ignore[arg-type]
                [
                    {
                        "email": f"person{i}@partner{i % 200}.example",
                        "email_key": f"person{i}@partner{i % 200}.example",
                        "first_name": f"First{i}",
                        "last_name": f"Last{i}",
                        "partner_id": partners[i % 200].id,
                        "status": "active",
                        "consent_at": NOW,
                        "opted_out_channels": [],
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                    for i in batch
                ],
            )
            ids = session.scalars(
                select(Contact.id).where(Contact.id > start).order_by(Contact.id).limit(len(batch))
            ).all()
            session.execute(
                insert(contact_roles),
                [
                    {"contact_id": cid, "audience_id": role_ids[slug]}
                    for n, cid in enumerate(ids)
                    for slug in ROLE_MIXES[(start + n) % len(ROLE_MIXES)]
                ],
            )
    runtime.close()


def run_commhub(url: str, data_dir: Path, backend_name: str, target: str) -> dict[str, Any]:
    """Child process: prepare the edition, then send it; time both."""
    settings = settings_for(url, data_dir)
    runtime = build_runtime(settings)
    started = time.perf_counter()
    with session_scope(runtime.sessions) as session:
        series = session.scalar(select(Series))
        assert series is not None
        edition = start_edition(session, series, datetime.now(UTC))
        prepare_edition(
            session, edition, datetime.now(UTC), build_renderer(), settings, local_waves
        )
        edition_id, recipients = edition.id, edition.recipient_count
    prepared = time.perf_counter()
    backend: DeliveryBackend
    if backend_name == "smtp":
        backend = SmtpBackend(check_smtp_url(target))
    elif backend_name == "sendgrid":
        backend = SendGridBackend(API_KEY, target)
    else:
        backend = OutboxBackend(data_dir / "outbox")
    report = EditionSender(runtime.sessions, backend, settings, SystemClock()).send(edition_id)
    finished = time.perf_counter()
    backend.close()
    runtime.close()
    assert report.counts.get("sent") == recipients, report.counts  # type: ignore[call-overload]
    return {
        "messages": recipients,
        "prepare_s": prepared - started,
        "send_s": finished - prepared,
        "peak_mb": peak_memory_mb(),
    }


def peak_memory_mb() -> float:
    """This process's peak resident memory. Not getrusage: on Linux its ru_maxrss carries
    over the forking parent's size across exec, while VmHWM starts afresh."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_baseline(message: Path, count: int, port: int) -> dict[str, Any]:
    """Child process: the same bytes, count times, through one smtplib connection."""
    data = message.read_bytes()
    client = smtplib.SMTP("127.0.0.1", port)
    started = time.perf_counter()
    for i in range(count):
        client.sendmail("partners@northwind.example", [f"person{i}@partner.example"], data)
    elapsed = time.perf_counter() - started
    client.quit()
    return {
        "messages": count,
        "send_s": elapsed,
        "peak_mb": peak_memory_mb(),
    }


def run_sendgrid_baseline(sample: Path, count: int, url: str) -> dict[str, Any]:
    """Child process: a pre-built request body, posted until it carried count messages."""
    body = sample.read_text()
    per_request = len(json.loads(body)["personalizations"])
    client = SendGridAPIClient(api_key=API_KEY, host=url).client
    requests = max(1, round(count / per_request))
    started = time.perf_counter()
    for _ in range(requests):
        client.mail.send.post(request_body=body, request_headers={"Content-Type": CONTENT_TYPE})
    elapsed = time.perf_counter() - started
    return {
        "messages": requests * per_request,
        "send_s": elapsed,
        "peak_mb": peak_memory_mb(),
        "request_kb": len(body) // 1024,
    }


class Receivers:
    """The SMTP sink and the SendGrid fake, each in a process of its own."""

    def __init__(self, workdir: Path) -> None:
        self.sample = workdir / "sendgrid-sample.json"
        port = free_port()
        self._sink = subprocess.Popen(
            [sys.executable, str(HERE / "fast_smtp_sink.py"), str(port)], stdout=subprocess.PIPE
        )
        self.smtp_url = f"smtp://127.0.0.1:{port}"
        self._fake = subprocess.Popen(
            [sys.executable, "-m", "tests.sendgrid_fake", "--api-key", API_KEY,
             "--sample", str(self.sample)],
            stdout=subprocess.PIPE, cwd=ROOT, text=True,
        )  # fmt: skip
        assert self._sink.stdout is not None
        assert self._fake.stdout is not None
        self._sink.stdout.readline()
        self.sendgrid_url = self._fake.stdout.readline().strip()

    def close(self) -> None:
        for process in (self._sink, self._fake):
            process.kill()
            process.wait()


def profile_send(backend_name: str, contacts: int) -> None:
    """pyinstrument over the prepare and send of one edition, in this process."""
    from pyinstrument import Profiler

    with tempfile.TemporaryDirectory() as tmp:
        receivers = Receivers(Path(tmp))
        try:
            url = f"sqlite:///{Path(tmp) / 'commhub.db'}"
            build_database(url, Path(tmp), contacts)
            target = receivers.smtp_url if backend_name == "smtp" else receivers.sendgrid_url
            profiler = Profiler(interval=0.0005)
            profiler.start()
            result = run_commhub(url, Path(tmp), backend_name, target)
            profiler.stop()
        finally:
            receivers.close()
    print(f"{result['messages']:,} messages, send {result['send_s']:.2f} s")
    print(profiler.output_text(unicode=False, color=False, show_all=False))


def child(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Databases:
    """A built database per size: copied per run (SQLite), or emptied of editions (PostgreSQL)."""

    def __init__(self, admin_url: str | None, workdir: Path) -> None:
        self.admin_url = admin_url
        self.workdir = workdir

    def template(self, contacts: int) -> str:
        if self.admin_url is None:
            path = self.workdir / f"template-{contacts}.db"
            build_database(f"sqlite:///{path}", self.workdir, contacts)
            return str(path)
        name = f"commhub_bench_send_{contacts}"
        admin = build_runtime(settings_for(self.admin_url, self.workdir)).engine
        with admin.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = self.admin_url.rsplit("/", 1)[0] + f"/{name}"
        build_database(url, self.workdir, contacts)
        return url

    def fresh(self, template: str, run_dir: Path) -> str:
        if self.admin_url is None:
            shutil.copy(template, run_dir / "commhub.db")
            return f"sqlite:///{run_dir / 'commhub.db'}"
        runtime = build_runtime(settings_for(template, run_dir))
        with runtime.engine.begin() as connection:
            connection.execute(text("DELETE FROM editions"))
        runtime.close()
        return template


CASES = (
    ("baseline", "baseline: smtplib loop"),
    ("smtp", "commhub via SMTP"),
    ("sendgrid-baseline", "baseline: pre-built SendGrid bodies"),
    ("sendgrid", "commhub via SendGrid"),
    ("outbox", "commhub via the outbox"),
)


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        kind, *rest = sys.argv[2:]
        if kind == "baseline":
            result = run_baseline(Path(rest[0]), int(rest[1]), int(rest[2]))
        elif kind == "sendgrid-baseline":
            result = run_sendgrid_baseline(Path(rest[0]), int(rest[1]), rest[2])
        else:
            result = run_commhub(rest[0], Path(rest[1]), kind, rest[2])
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", help="PostgreSQL server (default: SQLite)")
    parser.add_argument(
        "--only", choices=["smtp", "sendgrid"], help="run one delivery path and its baseline"
    )
    parser.add_argument(
        "--profile", choices=["smtp", "sendgrid"],
        help="Instead: profile one send (first --contacts size, SQLite) and print where it goes",
    )  # fmt: skip
    args = parser.parse_args()
    if args.profile:
        profile_send(args.profile, args.contacts[0])
        return

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        receivers = Receivers(workdir)
        try:
            databases = Databases(args.database_url, workdir)
            for contacts in args.contacts:
                template = databases.template(contacts)
                results: dict[str, list[dict[str, Any]]] = {key: [] for key, _ in CASES}
                for run in range(args.repeat):
                    run_dir = workdir / f"run-{contacts}-{run}"
                    run_dir.mkdir()
                    if args.only != "sendgrid":
                        run_smtp_cases(databases, template, run_dir, receivers, results)
                    if args.only != "smtp":
                        url = databases.fresh(template, run_dir)
                        results["sendgrid"].append(
                            child("sendgrid", url, str(run_dir), receivers.sendgrid_url)
                        )
                        results["sendgrid-baseline"].append(
                            child(
                                "sendgrid-baseline",
                                str(receivers.sample),
                                str(results["sendgrid"][-1]["messages"]),
                                receivers.sendgrid_url,
                            )
                        )
                    print(
                        f"{contacts:,} contacts: run {run + 1}/{args.repeat} done", file=sys.stderr
                    )
                rows.append(results)
        finally:
            receivers.close()
    backend = "postgresql" if args.database_url else "sqlite"
    print(f"send, {backend}, median of {args.repeat} runs; 2 cores, receivers in own processes")
    print(f"{'':<46}{'messages':>10}{'msg/s':>9}{'x base':>8}{'prepare s':>11}{'peak MB':>9}")
    for results in rows:
        base_rate = 0.0
        for key, label in CASES:
            runs = results[key]
            if not runs:
                continue
            rate = statistics.median(r["messages"] / r["send_s"] for r in runs)
            if key.endswith("baseline"):
                base_rate = rate
                label += f" ({runs[0].get('size_kb') or runs[0].get('request_kb')} KB)"
            prepare = statistics.median(r.get("prepare_s", 0.0) for r in runs)
            peak = statistics.median(r["peak_mb"] for r in runs)
            ratio = f"{rate / base_rate:>8.2f}" if base_rate and key != "outbox" else f"{'':>8}"
            print(
                f"{label:<46}{runs[0]['messages']:>10,}{rate:>9,.0f}{ratio}"
                f"{prepare:>11.1f}{peak:>9.0f}"
            )


def run_smtp_cases(
    databases: Databases,
    template: str,
    run_dir: Path,
    receivers: Receivers,
    results: dict[str, list[dict[str, Any]]],
) -> None:
    """The outbox (which also yields a real message to replay), its baseline, and SMTP."""
    url = databases.fresh(template, run_dir)
    results["outbox"].append(child("outbox", url, str(run_dir), ""))
    sample = max((run_dir / "outbox").rglob("*.eml"), key=lambda p: p.stat().st_size)
    kept = run_dir / "sample.eml"
    shutil.copy(sample, kept)
    port = receivers.smtp_url.rsplit(":", 1)[1]
    messages = results["outbox"][-1]["messages"]
    results["baseline"].append(child("baseline", str(kept), str(messages), port))
    results["baseline"][-1]["size_kb"] = kept.stat().st_size // 1024
    url = databases.fresh(template, run_dir)
    results["smtp"].append(child("smtp", url, str(run_dir), receivers.smtp_url))
    shutil.rmtree(run_dir / "outbox")


if __name__ == "__main__":
    main()

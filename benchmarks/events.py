"""SendGrid's Event Webhook end to end, and the open and click endpoints under load.

Ingestion: `commhub serve --no-scheduler` (waitress) runs in a process of its own with the
webhook's key set. This process posts signed batches of 1,000 events (SendGrid's mix for a
sent newsletter: processed, delivered, opens, some of them a proxy's, clicks, a few
bounces), one after another over one keep-alive connection; events per second is the
events over the wall time from the first request to the last answer. Every answer is
checked: each event stored once, and a batch posted again stores nothing.

Latency: a second process (the load) requests open pixels and click redirects, each for a
different message, over several keep-alive connections at once, and times every request.

Baselines, measured in the same run, on the same server (waitress, Flask, same threads):
- ingestion: the same signed batches posted to an app that checks the signature with the
  same sendgrid helper, parses the JSON and answers, storing nothing: HTTP, signature and
  parsing, which commhub cannot avoid;
- latency: the same load against that app's route that answers a 1x1 GIF from memory.

    .venv/bin/python benchmarks/events.py [--repeat 3] [--batches 30] [--contacts 4000] [--rate 200]
        [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

Prints the median of --repeat runs, each on a fresh database.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from send import build_database, free_port, settings_for  # benchmarks/, beside this script
from sqlalchemy import func, select, update
from throwaway_db import Database

from commhub.delivery.sender import installation_id
from commhub.editions.lifecycle import start_edition
from commhub.editions.preparation import prepare_edition
from commhub.render.tokens import message_tokens
from commhub.scheduling.due import local_waves
from commhub.store.db import session_scope
from commhub.store.models import (
    ContentItem,
    EditionRender,
    Event,
    ExposureTally,
    KeyMessage,
    Message,
    MessageStatus,
    Series,
)
from commhub.web.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER
from commhub.wiring import build_renderer, build_runtime

ROOT = Path(__file__).parent.parent
BATCH = 1_000
WARM_UP = 200  # requests per endpoint before the measured loads
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
KEY_MESSAGES = ("Deal registration pays", "Security comes first", "Certify to sell more")


class Signer:
    """SendGrid's side of the webhook: a P-256 key, and bodies signed as SendGrid signs."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        der = self.key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        self.public_key = base64.b64encode(der).decode()

    def headers(self, body: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        signature = self.key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            SIGNATURE_HEADER: base64.b64encode(signature).decode(),
            TIMESTAMP_HEADER: timestamp,
            "Content-Type": "application/json",
        }


def prepare_sent_edition(url: str, data_dir: Path, contacts: int) -> list[tuple[int, int]]:
    """Build the database, give the items key messages, prepare the edition and mark it
    sent an hour ago; returns (message id, first link id) per message."""
    build_database(url, data_dir, contacts)
    settings = settings_for(url, data_dir)
    runtime = build_runtime(settings)
    now = datetime.now(UTC)
    with session_scope(runtime.sessions) as session:
        keys = [KeyMessage(text=text) for text in KEY_MESSAGES]
        session.add_all(keys)
        for n, item in enumerate(session.scalars(select(ContentItem).order_by(ContentItem.id))):
            item.key_message = keys[n % len(keys)]
    with session_scope(runtime.sessions) as session:
        series = session.scalar(select(Series))
        assert series is not None
        edition = start_edition(session, series, now)
        prepare_edition(session, edition, now, build_renderer(), settings, local_waves)
        session.execute(
            update(Message)
            .where(Message.edition_id == edition.id)
            .values(status=MessageStatus.SENT, sent_at=now - timedelta(hours=1))
        )
        links = dict(
            session.execute(
                select(EditionRender.role_set, EditionRender.link_ids).where(
                    EditionRender.edition_id == edition.id
                )
            ).all()
        )
        messages = [
            (message_id, links[role_set][0])
            for message_id, role_set in session.execute(
                select(Message.id, Message.role_set).where(Message.edition_id == edition.id)
            )
        ]
    runtime.close()
    return messages


def sendgrid_events(messages: list[tuple[int, int]], installation: str, count: int) -> list[Any]:
    """count events as SendGrid posts them for these messages, in the order they happen."""
    rng = random.Random(7)
    sent_at = int(time.time()) - 3600
    events: list[dict[str, Any]] = []
    serial = 0

    def add(message_id: int, kind: str, delay: int, **fields: Any) -> None:
        nonlocal serial
        serial += 1
        events.append(
            {
                "email": f"person{message_id}@partner{message_id % 200}.example",
                "timestamp": sent_at + delay,
                "event": kind,
                "sg_event_id": base64.urlsafe_b64encode(serial.to_bytes(16, "big")).decode(),
                "sg_message_id": f"14c5d75ce93.dfd.64b469.filter0001.{message_id}.0",
                "smtp-id": f"<{message_id}@northwind.example>",
                "category": ["newsletter"],
                "commhub_message_id": str(message_id),
                "commhub_installation": installation,
                **fields,
            }
        )

    agent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15"
    while len(events) < count:
        for message_id, _link in messages:
            add(message_id, "processed", 0)
            if rng.random() < 0.005:
                add(message_id, "bounce", 5, type="bounce", reason="550 5.1.1 unknown user")
                continue
            add(message_id, "delivered", 5, response="250 OK", ip="167.89.0.1")
            if rng.random() < 0.3:  # a privacy proxy fetches the images at once
                add(message_id, "open", 8, sg_machine_open=True, useragent=agent, ip="17.58.0.1")
            for n in range(rng.choice((0, 0, 1, 1, 2, 3))):
                add(message_id, "open", 600 + n * 60, sg_machine_open=False, useragent=agent)
            if rng.random() < 0.2:
                url = f"https://partners.northwind.example/news/{message_id % 12}"
                add(message_id, "click", 900, url=url, useragent=agent)
            if len(events) >= count:
                break
    return events[:count]


def serve_commhub(url: str, data_dir: Path, public_key: str, port: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "COMMHUB_DATABASE_URL": url,
        "COMMHUB_DATA_DIR": str(data_dir),
        "COMMHUB_SECRET_KEY": settings_for(url, data_dir).secret_key,
        "COMMHUB_SENDGRID_WEBHOOK_PUBLIC_KEY": public_key,
    }
    command = [sys.executable, "-m", "commhub", "serve", "--no-scheduler", "--port", str(port)]
    return subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.DEVNULL, text=True)


def serve_baseline(public_key: str, port: int) -> subprocess.Popen[str]:
    command = [sys.executable, __file__, "--baseline-server", str(port), public_key]
    return subprocess.Popen(command, cwd=ROOT, stderr=subprocess.DEVNULL, text=True)


def run_baseline_server(port: int, public_key: str) -> None:
    """The baseline: verify, parse, answer; and a GIF from memory. Same server and threads."""
    from flask import Flask, jsonify, request
    from sendgrid.helpers.eventwebhook import EventWebhook
    from waitress import serve

    app = Flask("baseline")
    helper = EventWebhook(public_key)

    @app.post("/webhooks/sendgrid")
    def webhook() -> Any:
        body = request.get_data(cache=False)
        signature = request.headers[SIGNATURE_HEADER]
        timestamp = request.headers[TIMESTAMP_HEADER]
        if not helper.verify_signature(body.decode(), signature, timestamp):
            return jsonify(title="signature not valid"), 403
        return jsonify(stored=len(json.loads(body)))

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok")

    @app.get("/pixel.gif")
    def pixel() -> Any:
        return PIXEL, 200, {"Content-Type": "image/gif", "Cache-Control": "no-store"}

    serve(app, host="127.0.0.1", port=port, threads=8, ident="baseline")


def wait_until_up(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server on port {port} stopped with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the server on port {port} did not come up")


def post_batches(port: int, signer: Signer, events: list[Any]) -> dict[str, Any]:
    """Post the events in signed batches over one connection; events/s, and the answers."""
    bodies = [json.dumps(events[i : i + BATCH]).encode() for i in range(0, len(events), BATCH)]
    signed = [(body, signer.headers(body)) for body in bodies]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    answers = []
    started = time.perf_counter()
    for body, headers in signed:
        connection.request("POST", "/webhooks/sendgrid", body, headers)
        response = connection.getresponse()
        payload = response.read()
        if response.status != 200:
            raise SystemExit(f"batch refused: {response.status} {payload[:300]!r}")
        answers.append(json.loads(payload))
    elapsed = time.perf_counter() - started
    connection.close()
    return {
        "events_per_s": len(events) / elapsed,
        "ms_per_batch": elapsed / len(bodies) * 1000,
        "stored": sum(a["stored"] for a in answers),
        "kb_per_batch": statistics.median(len(b) for b in bodies) / 1024,
    }


def load(port: int, paths: list[str], connections: int, rate: float | None) -> dict[str, float]:
    """The second process: request every path once over `connections` connections; at
    `rate` requests a second in all (None: as fast as answers come)."""
    command = [sys.executable, __file__, "--load", str(port), str(connections), str(rate or 0)]
    done = subprocess.run(
        command, input=json.dumps(paths), capture_output=True, text=True, check=False, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    result: dict[str, float] = json.loads(done.stdout)
    return result


def run_load(port: int, connections: int, rate: float, paths: list[str]) -> None:
    """Each request's latency runs from when it was due to when its answer was read, so a
    server that falls behind the rate is charged for the wait (no coordinated omission)."""
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    started = time.perf_counter() + 0.05

    def worker(first: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, codes = [], []
        for n in range(first, len(paths), connections):
            due = started + n / rate if rate else time.perf_counter()
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            connection.request("GET", paths[n])
            response = connection.getresponse()
            response.read()
            mine.append((time.perf_counter() - due) * 1000)
            codes.append(response.status)
        with lock:
            latencies.extend(mine)
            statuses.extend(codes)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    bad = [s for s in statuses if s not in (200, 302)]
    if bad:
        raise SystemExit(f"{len(bad)} requests failed, e.g. {bad[0]}")
    cuts = statistics.quantiles(latencies, n=100)
    print(
        json.dumps(
            {
                "p50": statistics.median(latencies),
                "p99": cuts[98],
                "max": max(latencies),
                "per_s": len(latencies) / elapsed,
            }
        )
    )


def one_run(admin_url: str | None, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url, remove = Database(admin_url, workdir).fresh()
        try:
            return measure(url, workdir, args.contacts, args.batches, args.connections, args.rate)
        finally:
            remove()


def measure(
    url: str, workdir: Path, contacts: int, batches: int, connections: int, rate_per_s: float
) -> dict[str, Any]:
    messages = prepare_sent_edition(url, workdir, contacts)
    settings = settings_for(url, workdir)
    signer = Signer()
    events = sendgrid_events(messages, installation_id(settings.secret_key), batches * BATCH)
    commhub_port, baseline_port = free_port(), free_port()
    servers = [
        serve_commhub(url, workdir, signer.public_key, commhub_port),
        serve_baseline(signer.public_key, baseline_port),
    ]
    try:
        for port, server in zip((commhub_port, baseline_port), servers, strict=True):
            wait_until_up(port, server)
        result: dict[str, Any] = {
            "events": len(events), "rate": rate_per_s, "connections": connections,
        }  # fmt: skip
        result["baseline"] = post_batches(baseline_port, signer, events)
        result["commhub"] = post_batches(commhub_port, signer, events)
        again = post_batches(commhub_port, signer, events[:BATCH])
        check_stored(url, workdir, events, result["commhub"]["stored"], again["stored"])

        tokens = message_tokens(settings.secret_keys)
        order = list(messages)
        random.Random(11).shuffle(order)
        # Each load is a fresh set of messages: a message's first open is the one that writes
        # its exposures, and the fixed-rate loads should pay for that as the real ones do.
        # Warm up first, unmeasured, on messages of its own: every server thread's database
        # connection opened and every statement compiled, as in a server that has been up.
        warm, order = order[:WARM_UP], order[WARM_UP:]
        for port, paths in (
            (baseline_port, ["/pixel.gif"] * WARM_UP),
            (commhub_port, [f"/t/o/{tokens.sign(mid)}.gif" for mid, _link in warm]),
            (commhub_port, [f"/t/c/{tokens.sign(mid)}/{link}" for mid, link in warm]),
        ):
            load(port, paths, connections * 2, None)
        half = len(order) // 2
        loads = (("steady", rate_per_s, order[:half]), ("flat out", None, order[half:]))
        for name, rate, chosen in loads:
            pixels = [f"/t/o/{tokens.sign(mid)}.gif" for mid, _link in chosen]
            clicks = [f"/t/c/{tokens.sign(mid)}/{link}" for mid, link in chosen]
            result[name] = {
                "baseline": load(baseline_port, ["/pixel.gif"] * len(chosen), connections, rate),
                "pixel": load(commhub_port, pixels, connections, rate),
                "click": load(commhub_port, clicks, connections, rate),
            }
        return result
    finally:
        for server in servers:
            server.terminate()
            server.wait()


def check_stored(url: str, workdir: Path, events: list[Any], stored: int, again: int) -> None:
    """Every event stored once, a batch sent again stored nothing, and opens were tallied."""
    runtime = build_runtime(settings_for(url, workdir))
    with session_scope(runtime.sessions) as session:
        in_table = session.scalar(select(func.count()).select_from(Event))
        tallies = session.scalar(select(func.count()).select_from(ExposureTally))
    runtime.close()
    if not (stored == in_table == len(events)) or again != 0 or not tallies:
        raise SystemExit(
            f"events: {len(events)} posted, {stored} stored, {in_table} in the table, "
            f"{again} stored again, {tallies} tallies"
        )


def report(runs: list[dict[str, Any]], database: str) -> None:
    def median(*path: str) -> float:
        return statistics.median(_dig(run, path) for run in runs)

    def ratio(ours: tuple[str, ...], theirs: tuple[str, ...]) -> float:
        return statistics.median(
            _dig(run, ours) / _dig(run, theirs) for run in runs if _dig(run, theirs)
        )

    print(f"\n{database}: median of {len(runs)} runs, {int(median('events')):,} events a run")
    kb = median("commhub", "kb_per_batch")
    print(f"webhook, batches of {BATCH:,} events ({kb:.0f} KB), one connection:")
    print(f"  {'':<28}{'events/s':>10}{'ms/batch':>10}{'x baseline':>12}")
    for label, key in (("baseline (verify + parse)", "baseline"), ("commhub", "commhub")):
        rate = median(key, "events_per_s")
        per_batch = median(key, "ms_per_batch")
        times = ratio((key, "events_per_s"), ("baseline", "events_per_s"))
        print(f"  {label:<28}{rate:>10,.0f}{per_batch:>10.1f}{times:>12.2f}")
    for mode, how in (
        ("steady", f"at {median('rate'):.0f} requests/s"),
        ("flat out", "as fast as answers come"),
    ):
        print(
            f"open and click endpoints, a second process {how}, {median('connections'):.0f} "
            "connections:"
        )
        print(
            f"  {'':<28}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'req/s':>10}{'p99 x base':>12}"
        )
        for label, key in (
            ("baseline (GIF from memory)", "baseline"),
            ("open pixel", "pixel"),
            ("click redirect", "click"),
        ):
            times = ratio((mode, key, "p99"), (mode, "baseline", "p99"))
            p50, p99, worst, rate = (median(mode, key, n) for n in ("p50", "p99", "max", "per_s"))
            print(
                f"  {label:<28}{p50:>10.2f}{p99:>10.2f}{worst:>10.1f}{rate:>10,.0f}{times:>12.2f}"
            )


def _dig(run: dict[str, Any], path: tuple[str, ...]) -> float:
    value: Any = run
    for key in path:
        value = value[key]
    return float(value)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--baseline-server":
        run_baseline_server(int(sys.argv[2]), sys.argv[3])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--load":
        run_load(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), json.load(sys.stdin))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batches", type=int, default=30, help="batches of 1,000 events")
    parser.add_argument("--contacts", type=int, default=4_000)
    parser.add_argument("--connections", type=int, default=4, help="of the load process")
    parser.add_argument("--rate", type=float, default=200, help="steady load, requests/s")
    args = parser.parse_args()
    runs = []
    for run in range(args.repeat):
        runs.append(one_run(args.database_url, args))
        print(f"run {run + 1}/{args.repeat} done", file=sys.stderr)
    report(runs, "PostgreSQL" if args.database_url else "SQLite")


if __name__ == "__main__":
    main()

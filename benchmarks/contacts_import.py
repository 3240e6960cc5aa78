"""Import time of a contacts CSV (default 100,000 rows), against a baseline in the same run.

Baseline: the floor any importer pays on the same machine and database: csv.reader over the
same file plus one executemany INSERT of the same columns into a bare table, no validation.
commhub: `import_contacts_file` as the CLI calls it (validation, partners, roles, upsert),
first into an empty database, then again over the same contacts (every row unchanged).

    .venv/bin/python benchmarks/contacts_import.py [--rows 100000] [--repeat 3]
        [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

Prints the median of --repeat runs of each, and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from throwaway_db import Database, migrated_runtime  # benchmarks/, beside this script

from commhub.config import Settings
from commhub.contacts.directory import import_contacts_file
from commhub.store.db import session_scope, utcnow
from commhub.wiring import Runtime

ROLES = ["sales", "technical", "marketing", "development", "executive"]
ZONES = ["Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney", ""]


def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(7)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "first_name", "last_name", "partner", "roles", "timezone"])
        for i in range(rows):
            roles = ";".join(rng.sample(ROLES, rng.choice([1, 1, 2])))
            writer.writerow(
                [f"person{i}@partner{i % 400}.example", f"First{i}", f"Last{i}",
                 f"Partner {i % 400}", roles, rng.choice(ZONES)]
            )  # fmt: skip


def baseline(url: str, source: Path) -> float:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE bare (email VARCHAR(320), first_name VARCHAR(100), "
                "last_name VARCHAR(100), partner VARCHAR(200), roles VARCHAR(200), "
                "timezone VARCHAR(64))"
            )
        )
    started = time.perf_counter()
    with source.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO bare VALUES "
                "(:email, :first_name, :last_name, :partner, :roles, :timezone)"
            ),
            rows,
        )
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def commhub_import(runtime: Runtime, source: Path) -> float:
    started = time.perf_counter()
    with (
        session_scope(runtime.sessions) as session,
        source.open(encoding="utf-8-sig", newline="") as stream,
    ):
        result = import_contacts_file(session, stream, str(source), utcnow())
    elapsed = time.perf_counter() - started
    assert result.skipped == []
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", help="PostgreSQL server to benchmark (default: SQLite)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        source = workdir / "contacts.csv"
        write_csv(source, args.rows)
        databases = Database(args.database_url, workdir)
        timings: dict[str, list[float]] = {"baseline": [], "import": [], "reimport": []}
        for run in range(args.repeat):
            url, drop = databases.fresh()
            timings["baseline"].append(baseline(url, source))
            drop()
            url, drop = databases.fresh()
            runtime = migrated_runtime(
                Settings(data_dir=workdir, database_url=url, secret_keys=("b" * 40,))
            )
            timings["import"].append(commhub_import(runtime, source))
            timings["reimport"].append(commhub_import(runtime, source))
            runtime.close()
            drop()
            print(f"run {run + 1}/{args.repeat} done", file=sys.stderr)

    backend = "postgresql" if args.database_url else "sqlite"
    base = statistics.median(timings["baseline"])
    print(f"contacts import, {args.rows:,} rows, {backend}, median of {args.repeat} runs")
    print(f"{'':<28}{'seconds':>9}{'rows/s':>11}{'x baseline':>12}")
    labels = {
        "baseline": "baseline (csv + INSERT)",
        "import": "commhub, new contacts",
        "reimport": "commhub, all unchanged",
    }
    for key, label in labels.items():
        seconds = statistics.median(timings[key])
        print(f"{label:<28}{seconds:>9.2f}{args.rows / seconds:>11,.0f}{seconds / base:>12.2f}")


if __name__ == "__main__":
    main()

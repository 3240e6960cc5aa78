"""The `commhub` command end to end, on a SQLite data dir of its own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from commhub.cli import cli
from commhub.resources import content_dir


class Commhub:
    """Runs commhub subcommands with a data dir of its own."""

    def __init__(self, data_dir: Path) -> None:
        self.env = {"COMMHUB_DATA_DIR": str(data_dir), "COMMHUB_DATABASE_URL": ""}
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, **env: str) -> Result:
        return self.runner.invoke(cli, list(args), input=input, env={**self.env, **env})


@pytest.fixture
def commhub(tmp_path: Path) -> Commhub:
    return Commhub(tmp_path / "var")


@pytest.fixture
def initialised(commhub: Commhub) -> Commhub:
    assert commhub("init").exit_code == 0
    return commhub


def test_init_is_idempotent(commhub: Commhub, tmp_path: Path) -> None:
    first = commhub("init")
    assert first.exit_code == 0, first.output
    assert "schema: empty -> " in first.output
    assert "audiences: development, executive, marketing, sales, technical" in first.output
    second = commhub("init")
    assert "(already current)" in second.output
    assert "audiences: none changed" in second.output
    assert (tmp_path / "var" / "secret_key").exists()


def test_commands_before_init_say_what_to_do(commhub: Commhub) -> None:
    result = commhub("content", "list")
    assert result.exit_code == 1
    assert "the database is empty" in result.stderr
    assert "run `commhub init`" in result.stderr


def test_a_bad_setting_stops_with_one_line_and_exit_2(commhub: Commhub) -> None:
    result = commhub("init", COMMHUB_DATABASE_URL="mysql://x/y")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        'commhub: settings: COMMHUB_DATABASE_URL: unknown scheme "mysql"; '
        "use sqlite:///PATH or postgresql://USER@HOST/DB"
    ]


def test_content_import_and_list_json(initialised: Commhub) -> None:
    result = initialised("content", "import")
    assert result.exit_code == 0, result.stderr
    assert "created" in result.stdout
    listed = json.loads(initialised("content", "list", "--format", "json").stdout)
    assert len(listed) >= 24
    assert {"slug", "title", "kind", "audiences", "status", "publish_at"} <= set(listed[0])


def test_content_import_errors_exit_1_with_every_problem(
    initialised: Commhub, tmp_path: Path
) -> None:
    library = tmp_path / "lib"
    shutil.copytree(content_dir(), library)
    (library / "bad.md").write_text("---\ntitle: X\naudiences: [nobody]\n---\n")
    result = initialised("content", "import", str(library))
    assert result.exit_code == 1
    assert f"commhub: {library}/bad.md:3:audiences: unknown audience" in result.stderr
    assert json.loads(initialised("content", "list", "--format", "json").stdout) == []


def test_contacts_import_reports_lines_and_skip_invalid(
    initialised: Commhub, tmp_path: Path
) -> None:
    csv = tmp_path / "c.csv"
    csv.write_text(
        "email,first_name,last_name,partner,roles,timezone\n"
        "a@example.com,A,B,Acme,sales,\n"
        "b@example.com,A,B,Acme,plumber,\n"
    )
    refused = initialised("contacts", "import", str(csv))
    assert refused.exit_code == 1
    assert f'commhub: {csv}:3:roles: unknown role "plumber"' in refused.stderr
    assert initialised("contacts", "export").stdout.count("\n") == 1

    skipped = initialised("contacts", "import", "--skip-invalid", str(csv))
    assert skipped.exit_code == 0
    assert f'skipped: {csv}:3:roles: unknown role "plumber"' in skipped.stderr
    assert "1 created" in skipped.stdout
    exported = initialised("contacts", "export").stdout
    assert exported.splitlines()[1].startswith("a@example.com,A,B,Acme,sales,")


def test_users_create_reads_the_password_from_stdin(initialised: Commhub) -> None:
    created = initialised(
        "users", "create", "boss@example.com", "--role", "admin", "--password-stdin",
        input="a long enough password\n",
    )  # fmt: skip
    assert created.exit_code == 0, created.stderr
    assert "created admin boss@example.com" in created.stdout
    again = initialised(
        "users", "create", "BOSS@example.com", "--role", "viewer", "--password-stdin",
        input="a long enough password\n",
    )  # fmt: skip
    assert again.exit_code == 1
    assert "exists already" in again.stderr


def test_demo_data_is_realistic_and_idempotent(initialised: Commhub) -> None:
    first = initialised("demo-data")
    assert first.exit_code == 0, first.stderr
    assert "/login as admin@northwind.example / " in first.stdout
    second = initialised("demo-data")
    assert "0 created, 0 updated" in second.stdout
    assert first.stdout.splitlines()[-1] == second.stdout.splitlines()[-1]
    rows = [line.split(",") for line in initialised("contacts", "export").stdout.splitlines()[1:]]
    header = initialised("contacts", "export").stdout.splitlines()[0].split(",")
    records = [dict(zip(header, row, strict=False)) for row in rows]
    assert len(records) >= 300
    assert len({r["partner"] for r in records}) >= 30
    assert {role for r in records for role in r["roles"].split(";")} == {
        "sales", "technical", "marketing", "development", "executive",
    }  # fmt: skip
    assert len({r["timezone"] for r in records}) >= 5
    assert len({r["partner_type"] for r in records}) >= 4
    assert len({r["partner_tier"] for r in records}) >= 3

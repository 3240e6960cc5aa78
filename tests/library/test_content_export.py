"""`commhub content export`: an item written in the web UI as a content file that the importer
reads back as the same item."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select

from commhub.cli import cli
from commhub.errors import Conflict, NotFound
from commhub.library.editing import ItemFields, export_item, save_item
from commhub.library.library import import_library
from commhub.store.db import session_scope
from commhub.store.models import ContentItem, ContentSource
from commhub.wiring import Runtime, build_runtime
from tests.conftest import make_settings

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

TRICKY = ItemFields(
    title='yes: "quoted" # not a comment ---',
    kind="video",
    audiences=("technical", "development"),
    key_message="API v2 retires: move to v3 now.",
    summary="First line\n---\nthird line",
    body="# Title\n\n---\n\nAfter a rule, with *emphasis* and café.\n",
    url="https://partners.example/a?b=1&c=2",
    video_url="https://video.example/watch/42",
    thumbnail="https://cdn.example/42.jpg",
    duration="1:02:03",
    speaker="Ada Lovelace, CTO",
    hashtags="api #partners",
    priority="-3",
    publish_at="2026-12-01T09:30",
    expires_at="2027-01-01",
    status="archived",
    slug="api/v3-guide",
)

STORED = (
    "slug", "title", "kind", "status", "summary", "body_markdown", "body_html", "url",
    "video_url", "thumbnail_url", "duration_seconds", "speaker", "hashtags", "publish_at",
    "expires_at", "priority", "social_line",
)  # fmt: skip


def snapshot(item: ContentItem) -> dict[str, object]:
    values: dict[str, object] = {name: getattr(item, name) for name in STORED}
    values["audiences"] = [a.slug for a in item.audiences]
    values["key_message"] = item.key_message.text if item.key_message else None
    return values


def test_an_exported_item_imports_as_the_same_item(runtime: Runtime, tmp_path: Path) -> None:
    with session_scope(runtime.sessions) as session:
        item = save_item(session, None, TRICKY, NOW)
        before = snapshot(item)
        text = export_item(session, "api/v3-guide")
    assert text.startswith('---\nslug: "api/v3-guide"\ntitle: "yes: \\"quoted\\" # not')
    root = tmp_path / "content"
    (root / "api").mkdir(parents=True)
    (root / "api" / "v3-guide.md").write_text(text, encoding="utf-8")
    with session_scope(runtime.sessions) as session:
        session.execute(delete(ContentItem))
    with session_scope(runtime.sessions) as session:
        report = import_library(session, root)
        assert report.created == ["api/v3-guide"]
        imported = session.scalars(select(ContentItem)).one()
        assert imported.source is ContentSource.FILE
        assert snapshot(imported) == before


def test_a_social_line_is_exported_and_imports_as_the_same_item(
    runtime: Runtime, tmp_path: Path
) -> None:
    line = 'yes: "Lisbon" # 3-5 Nov --- café'
    with session_scope(runtime.sessions) as session:
        item = save_item(session, None, replace(TRICKY, social=line), NOW)
        before = snapshot(item)
        text = export_item(session, "api/v3-guide")
        session.execute(delete(ContentItem))
    assert before["social_line"] == line
    assert '\nsocial: "yes: \\"Lisbon\\" # 3-5 Nov --- café"\n' in text
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "v3-guide.md").write_text(text, encoding="utf-8")
    with session_scope(runtime.sessions) as session:
        assert import_library(session, tmp_path).created == ["api/v3-guide"]
        assert snapshot(session.scalars(select(ContentItem)).one()) == before
    with session_scope(runtime.sessions) as session:
        assert import_library(session, tmp_path).unchanged == ["api/v3-guide"]


def test_an_item_without_optional_fields_round_trips(runtime: Runtime, tmp_path: Path) -> None:
    plain = ItemFields(title="Plain", audiences=("sales",), body="")
    with session_scope(runtime.sessions) as session:
        before = snapshot(save_item(session, None, plain, NOW))
        text = export_item(session, "plain")
        session.execute(delete(ContentItem))
    assert "url:" not in text
    assert "publish_at:" not in text
    assert "social:" not in text
    (tmp_path / "plain.md").write_text(text, encoding="utf-8")
    with session_scope(runtime.sessions) as session:
        import_library(session, tmp_path)
        assert snapshot(session.scalars(select(ContentItem)).one()) == before


def test_export_refuses_an_unknown_item_and_one_that_already_is_a_file(
    runtime: Runtime,
) -> None:
    with session_scope(runtime.sessions) as session:
        with pytest.raises(NotFound):
            export_item(session, "nothing")
        item = save_item(session, None, ItemFields(title="From a file", audiences=("sales",)), NOW)
        item.source, item.source_ref = ContentSource.FILE, "from-a-file.md"
        session.flush()
        with pytest.raises(Conflict, match=r"already is a file: content/from-a-file\.md"):
            export_item(session, "from-a-file")


def test_the_command_writes_the_file_or_standard_output(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    runner = CliRunner()
    env = {"COMMHUB_DATA_DIR": str(data_dir), "COMMHUB_DATABASE_URL": ""}
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    rt = build_runtime(make_settings(data_dir))
    with session_scope(rt.sessions) as session:
        save_item(session, None, TRICKY, NOW)
        expected = export_item(session, "api/v3-guide")
    rt.close()
    shown = runner.invoke(cli, ["content", "export", "api/v3-guide"], env=env)
    assert shown.exit_code == 0, shown.stderr
    assert shown.stdout == expected
    out = tmp_path / "v3-guide.md"
    written = runner.invoke(cli, ["content", "export", "api/v3-guide", "--out", str(out)], env=env)
    assert written.exit_code == 0, written.stderr
    assert out.read_text(encoding="utf-8") == expected
    assert f"api/v3-guide written to {out}" in written.stderr
    missing = runner.invoke(cli, ["content", "export", "nothing"], env=env)
    assert missing.exit_code == 1
    assert "no content item nothing" in missing.stderr

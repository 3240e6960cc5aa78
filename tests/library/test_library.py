from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from commhub.errors import ContentError
from commhub.library.library import import_library, list_content
from commhub.resources import content_dir
from commhub.store.db import session_scope
from commhub.store.models import ContentItem, ContentKind, ContentSource, KeyMessage
from commhub.wiring import Runtime


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(content_dir(), root)
    return root


def count_items(runtime: Runtime) -> int:
    with session_scope(runtime.sessions) as session:
        return session.scalar(select(func.count(ContentItem.id))) or 0


def test_the_shipped_library_imports(runtime: Runtime, library: Path) -> None:
    with session_scope(runtime.sessions) as session:
        report = import_library(session, library)
    assert len(report.created) >= 24
    with session_scope(runtime.sessions) as session:
        items = list_content(session)
        kinds = {item.kind for item in items}
        audiences = {a.slug for item in items for a in item.audiences}
        shared = session.execute(
            select(KeyMessage.text, func.count(ContentItem.id))
            .join(ContentItem, ContentItem.key_message_id == KeyMessage.id)
            .group_by(KeyMessage.text)
        ).all()
        videos = [i for i in items if i.kind is ContentKind.VIDEO]
    assert kinds == set(ContentKind)
    assert audiences == {"sales", "technical", "marketing", "development", "executive"}
    assert sum(1 for _, n in shared if n > 1) >= 2
    assert len(videos) >= 3
    assert all(v.thumbnail_url for v in videos)


def test_reimport_is_idempotent_and_edits_update(runtime: Runtime, library: Path) -> None:
    with session_scope(runtime.sessions) as session:
        import_library(session, library)
    with session_scope(runtime.sessions) as session:
        before = {i.slug: i.updated_at for i in list_content(session)}
        again = import_library(session, library)
    assert again.created == []
    assert again.updated == []
    assert len(again.unchanged) == len(before)

    edited = library / "api" / "v2-retirement.md"
    edited.write_text(edited.read_text().replace('title: "', 'title: "UPDATED ', 1))
    with session_scope(runtime.sessions) as session:
        third = import_library(session, library)
    assert third.updated == ["api/v2-retirement"]
    with session_scope(runtime.sessions) as session:
        after = {i.slug: (i.updated_at, i.title) for i in list_content(session)}
    assert after["api/v2-retirement"][1].startswith("UPDATED")
    unchanged = {s for s in before if s != "api/v2-retirement"}
    assert all(after[s][0] == before[s] for s in unchanged)


def test_one_broken_file_imports_nothing_and_lists_every_problem(
    runtime: Runtime, library: Path
) -> None:
    (library / "zz-bad-audience.md").write_text("---\ntitle: X\naudiences: [plumbers]\n---\n")
    (library / "zz-bad-date.md").write_text(
        "---\ntitle: X\naudiences: [sales]\npublish_at: soon\n---\n"
    )
    (library / "zz-no-title.md").write_text("---\naudiences: [sales]\n---\n")
    with session_scope(runtime.sessions) as session, pytest.raises(ContentError) as raised:
        import_library(session, library)
    message = str(raised.value).splitlines()
    assert any(
        line.startswith(f"{library}/zz-bad-audience.md:3:audiences: unknown audience")
        for line in message
    )
    assert (
        f'{library}/zz-bad-date.md:4:publish_at: not a date: "soon" '
        "(use 2026-11-03 or 2026-11-03T09:00Z)" in message
    )
    assert f"{library}/zz-no-title.md:title: required" in message
    assert count_items(runtime) == 0


def test_an_empty_directory_is_refused(runtime: Runtime, tmp_path: Path) -> None:
    with (
        session_scope(runtime.sessions) as session,
        pytest.raises(ContentError, match="no content files"),
    ):
        import_library(session, tmp_path)


def test_a_slug_owned_by_another_source_is_refused(runtime: Runtime, library: Path) -> None:
    with session_scope(runtime.sessions) as session:
        session.add(
            ContentItem(
                slug="api/v2-retirement", title="Written in the UI", kind=ContentKind.ARTICLE,
                source=ContentSource.UI,
            )
        )  # fmt: skip
    with session_scope(runtime.sessions) as session, pytest.raises(ContentError) as raised:
        import_library(session, library)
    assert 'slug "api/v2-retirement" belongs to an item from ui; rename one' in str(raised.value)
    with session_scope(runtime.sessions) as session:
        (item,) = list_content(session)
    assert item.title == "Written in the UI"

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from commhub.library.changes import ChangeReport
from commhub.library.content_files import parse_library
from commhub.library.library import import_library
from commhub.store.db import session_scope
from commhub.store.models import ContentItem, ContentKind, ContentStatus
from commhub.wiring import Runtime

AUDIENCES = {"sales", "technical", "marketing", "development", "executive"}


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_item_parses(tmp_path: Path) -> None:
    write(
        tmp_path,
        "webinars/API Intro.md",
        """---
slug: webinars/api-intro
title: "API v3: an introduction"
audiences: [Development, technical]
kind: video
summary: What changes.
video_url: https://video.example/watch/1
thumbnail: https://cdn.example/1.jpg
duration: "1:02:03"
speaker: Ada Lovelace, CTO
hashtags: ["#api", partners]
key_message: Move to v3 now.
publish_at: 2026-11-03 09:00
expires_at: 2027-01-01
priority: 7
---
Body with **bold**.
""",
    )
    drafts, problems = parse_library(tmp_path, AUDIENCES)
    assert problems == []
    (draft,) = drafts
    assert draft.slug == "webinars/api-intro"
    assert draft.audiences == ("development", "technical")
    assert draft.kind is ContentKind.VIDEO
    assert draft.status is ContentStatus.PUBLISHED
    assert draft.duration_seconds == 3723
    assert draft.hashtags == ("api", "partners")
    assert draft.publish_at == datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    assert draft.expires_at == datetime(2027, 1, 1, tzinfo=UTC)
    assert "<strong>bold</strong>" in draft.body_html


def test_slug_defaults_to_the_path_without_md(tmp_path: Path) -> None:
    write(tmp_path, "programme/tier-changes.md", "---\ntitle: T\naudiences: [sales]\n---\nx\n")
    drafts, _ = parse_library(tmp_path, AUDIENCES)
    assert [d.slug for d in drafts] == ["programme/tier-changes"]


def test_every_problem_is_named_by_path_and_field(tmp_path: Path) -> None:
    bad = write(
        tmp_path,
        "bad.md",
        """---
audiences: [sales, partners]
kind: podcast
publish_at: next week
duration: long
audience: typo
---
x
""",
    )
    drafts, problems = parse_library(tmp_path, AUDIENCES)
    assert drafts == []
    lines = sorted(str(p) for p in problems)
    assert f"{bad}:title: required" in lines
    assert (
        f'{bad}:4:publish_at: not a date: "next week" (use 2026-11-03 or 2026-11-03T09:00Z)'
        in lines
    )
    assert f"{bad}:6:audience: unknown field" in lines
    assert any(line.startswith(f'{bad}:2:audiences: unknown audience "partners"') for line in lines)
    assert any(line.startswith(f'{bad}:3:kind: "podcast" is not one of') for line in lines)
    assert any(line.startswith(f'{bad}:5:duration: "long"') for line in lines)


def test_yaml_errors_give_the_line(tmp_path: Path) -> None:
    bad = write(tmp_path, "broken.md", "---\ntitle: ok\naudiences: [sales\n---\nx\n")
    _, problems = parse_library(tmp_path, AUDIENCES)
    (problem,) = problems
    assert problem.source == str(bad)
    assert problem.line is not None
    assert "not valid YAML" in problem.message


@pytest.mark.parametrize(
    ("front", "field", "message"),
    [
        ("kind: video", "video_url", "required for a video"),
        (
            "publish_at: 2026-02-01\nexpires_at: 2026-01-01",
            "expires_at",
            "must be after publish_at",
        ),
        ("url: ftp://x.example/a", "url", "not an http(s) URL"),
        ("""url: 'https://x.example/a"onmouseover=x'""", "url", "not an http(s) URL"),
        ("thumbnail: https://x.example/<b>", "thumbnail", "not an http(s) URL"),
        ("slug: Has Spaces", "slug", "is not a slug"),
        ("priority: high", "priority", "is not a whole number"),
    ],
)
def test_field_rules(tmp_path: Path, front: str, field: str, message: str) -> None:
    write(tmp_path, "x.md", f"---\ntitle: T\naudiences: [sales]\n{front}\n---\nbody\n")
    _, problems = parse_library(tmp_path, AUDIENCES)
    assert any(p.field == field and message in p.message for p in problems), problems


def test_duplicate_slugs_name_both_files(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "---\nslug: same\ntitle: A\naudiences: [sales]\n---\n")
    second = write(tmp_path, "b.md", "---\nslug: same\ntitle: B\naudiences: [sales]\n---\n")
    _, problems = parse_library(tmp_path, AUDIENCES)
    (problem,) = problems
    assert problem.source == str(second)
    assert "a.md" in problem.message


def test_missing_front_matter(tmp_path: Path) -> None:
    write(tmp_path, "plain.md", "# Just markdown\n")
    _, problems = parse_library(tmp_path, AUDIENCES)
    assert [p.message for p in problems] == ["no front matter: the file must start with a --- line"]


def test_an_impossible_date_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    bad = write(
        tmp_path, "x.md", "---\ntitle: T\naudiences: [sales]\npublish_at: 2026-02-30\n---\n"
    )
    _, problems = parse_library(tmp_path, AUDIENCES)
    (problem,) = problems
    assert problem.source == str(bad)
    assert "impossible date" in problem.message


def test_a_social_line_is_read_with_its_whitespace_collapsed(tmp_path: Path) -> None:
    write(
        tmp_path,
        "x.md",
        '---\ntitle: T\naudiences: [sales]\nsocial: "  Meet us\\n in\\tLisbon,  3-5 Nov "\n---\n',
    )
    drafts, problems = parse_library(tmp_path, AUDIENCES)
    assert problems == []
    assert [d.social_line for d in drafts] == ["Meet us in Lisbon, 3-5 Nov"]
    write(tmp_path, "x.md", "---\ntitle: T\naudiences: [sales]\n---\n")
    assert [d.social_line for d in parse_library(tmp_path, AUDIENCES)[0]] == [None]


def test_a_social_line_of_280_characters_is_kept_and_a_longer_one_refused(
    tmp_path: Path,
) -> None:
    write(tmp_path, "x.md", f"---\ntitle: T\naudiences: [sales]\nsocial: {'a' * 280}\n---\n")
    drafts, problems = parse_library(tmp_path, AUDIENCES)
    assert (problems, [d.social_line for d in drafts]) == ([], ["a" * 280])
    bad = write(tmp_path, "x.md", f"---\ntitle: T\naudiences: [sales]\nsocial: {'a' * 281}\n---\n")
    drafts, problems = parse_library(tmp_path, AUDIENCES)
    assert drafts == []
    assert [str(p) for p in problems] == [
        f"{bad}:4:social: longer than 280 characters: social posts are short"
    ]


@pytest.mark.parametrize(
    ("front", "message"),
    [
        # As written in the file: found before YAML reads it, at its place in the line.
        ("social: Launch\x1bday", "control character U+001B (ESC) at character 15 of the line"),
        # As a double-quoted YAML escape makes it.
        ('social: "Launch\\e day"', "control character U+001B (ESC): refused"),
        ("social: ''", "empty: write the posts' line, or leave the field out to use the title"),
        ("social:", "empty: write the posts' line"),
        ("social: [a, b]", "must be text"),
    ],
)
def test_a_bad_social_line_is_named_by_file_line_and_field(
    tmp_path: Path, front: str, message: str
) -> None:
    bad = write(tmp_path, "x.md", f"---\ntitle: T\naudiences: [sales]\n{front}\n---\nbody\n")
    drafts, problems = parse_library(tmp_path, AUDIENCES)
    assert drafts == []
    (problem,) = problems
    assert (problem.source, problem.line, problem.field) == (str(bad), 4, "social")
    assert message in problem.message


def test_a_social_line_is_imported_and_a_changed_one_updates_the_item(
    runtime: Runtime, tmp_path: Path
) -> None:
    path = write(tmp_path, "launch.md", "---\ntitle: Launch\naudiences: [sales]\n---\nx\n")

    def imported() -> tuple[ChangeReport, str | None]:
        with session_scope(runtime.sessions) as session:
            report = import_library(session, tmp_path)
            return report, session.scalars(select(ContentItem)).one().social_line

    assert imported()[1] is None
    path.write_text("---\ntitle: Launch\naudiences: [sales]\nsocial: Launch day!\n---\nx\n")
    report, line = imported()
    assert (report.updated, line) == (["launch"], "Launch day!")
    report, line = imported()
    assert (report.unchanged, report.updated, line) == (["launch"], [], "Launch day!")
    path.write_text("---\ntitle: Launch\naudiences: [sales]\nsocial: Launch week!\n---\nx\n")
    assert imported() == (ChangeReport(updated=["launch"]), "Launch week!")
    path.write_text("---\ntitle: Launch\naudiences: [sales]\n---\nx\n")
    assert imported() == (ChangeReport(updated=["launch"]), None)

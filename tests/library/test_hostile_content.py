"""Hostile content files and audience files: refused with one short line, bounded, unread
when they lie outside the folder, and nothing imported."""

from __future__ import annotations

import json
import re
import time
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from commhub.errors import AudienceError, ContentError, Problem
from commhub.library import InputProblem, excerpt, import_library, read_yaml
from commhub.library.audiences import load_audiences
from commhub.library.content_files import parse_library
from commhub.store.db import session_scope
from commhub.store.models import ContentItem
from commhub.wiring import Runtime

AUDIENCES = {"sales", "technical", "marketing", "development", "executive"}
SECRET = "root:x:0:0:the-outside-secret-line"
# Nine levels of ten: 10**9 strings once expanded, a few hundred bytes written down.
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8)
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def front(extra: str) -> str:
    return f"---\ntitle: T\naudiences: [sales]\n{extra}\n---\nbody\n"


def problems_for(folder: Path) -> list[Problem]:
    _, problems = parse_library(folder, AUDIENCES)
    return problems


def assert_short_lines(problems: list[Problem], limit: int = 300) -> None:
    for problem in problems:
        text = str(problem)
        assert "\n" not in text, text
        assert len(text) < limit, text[:500]


# --- class 2: YAML aliases, size and depth -------------------------------------------------


@pytest.mark.parametrize(
    ("yaml", "line", "what"),
    [
        pytest.param("summary: &s hello\nspeaker: *s", 4, "anchors", id="anchor-then-alias"),
        pytest.param("summary: &s hello", 4, "anchors", id="anchor-without-alias"),
        pytest.param("hashtags: [&t api, *t]", 4, "anchors", id="alias-in-a-list"),
        pytest.param("speaker: *nowhere", 4, "aliases", id="undefined-alias"),
        pytest.param(BOMB + "summary: *i", 4, "anchors", id="nested-bomb"),
        pytest.param(
            "x: &base {kind: article}\n<<: *base", 4, "anchors", id="merge-key-from-an-anchor"
        ),
    ],
)
def test_anchors_and_aliases_in_front_matter_are_refused_with_their_line(
    tmp_path: Path, yaml: str, line: int, what: str
) -> None:
    path = write(tmp_path, "x.md", front(yaml))
    started = time.monotonic()
    [problem] = problems_for(tmp_path)
    assert time.monotonic() - started < 2
    assert problem.source == str(path)
    assert problem.line == line
    assert f"{what} (" in problem.message
    assert "not allowed" in problem.message
    assert_short_lines([problem])


def test_a_billion_laughs_never_expands(tmp_path: Path) -> None:
    write(tmp_path, "bomb.md", "---\n" + BOMB + "title: *i\naudiences: [sales]\n---\nbody\n")
    started = time.monotonic()
    [problem] = problems_for(tmp_path)
    assert time.monotonic() - started < 2
    assert problem.line == 2
    assert_short_lines([problem])


def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path: Path) -> None:
    write(tmp_path, "deep.md", front("summary: " + "[" * 5000 + "]" * 5000))
    [problem] = problems_for(tmp_path)
    assert problem.line == 4
    assert "nested more than" in problem.message


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(front("summary: " + "x" * 1_100_000), id="huge-front-matter"),
        pytest.param(front("") + "word " * 250_000, id="huge-body"),
    ],
)
def test_a_file_over_a_megabyte_is_refused(tmp_path: Path, text: str) -> None:
    write(tmp_path, "big.md", text)
    [problem] = problems_for(tmp_path)
    assert "larger than 1,000,000 bytes" in problem.message


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        pytest.param("kind: " + "p" * 100_000, "kind", id="bad-choice"),
        pytest.param("url: ftp://" + "u" * 100_000, "url", id="bad-url"),
        pytest.param("duration: " + "9" * 90_000 + "x", "duration", id="bad-duration"),
        pytest.param("priority: " + "9" * 90_000, "priority", id="5000-digit-number"),
        pytest.param("publish_at: 2026-" + "1" * 90_000, "publish_at", id="bad-date"),
        pytest.param("hashtags: ['" + "a b" * 30_000 + "']", "hashtags", id="bad-hashtag"),
        pytest.param("audiences: [" + "z" * 100_000 + "]", "audiences", id="unknown-audience"),
    ],
)
def test_a_bad_value_is_quoted_as_a_short_excerpt(tmp_path: Path, extra: str, field: str) -> None:
    text = front(extra).replace("audiences: [sales]\n", "", field == "audiences")
    write(tmp_path, "x.md", text)
    problems = problems_for(tmp_path)
    assert any(p.field == field for p in problems), problems
    assert_short_lines(problems)


def test_an_unknown_field_with_a_huge_name_is_named_by_an_excerpt(tmp_path: Path) -> None:
    write(tmp_path, "x.md", front("? " + "k" * 100_000 + "\n: v"))
    [problem] = problems_for(tmp_path)
    assert problem.message == "unknown field"
    assert problem.field is not None
    assert problem.field.endswith("…")
    assert_short_lines([problem])


@pytest.mark.parametrize(
    "date", ["2027-02-30", "2027-13-01", "2026-02-29", "0001-01-01T00:00:00+01:00"]
)
def test_an_impossible_date_names_the_field(tmp_path: Path, date: str) -> None:
    path = write(tmp_path, "x.md", front(f"publish_at: {date}"))
    [problem] = problems_for(tmp_path)
    assert (problem.source, problem.field) == (str(path), "publish_at")


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ("priority: 100000000000000000000", "priority"),
        ("priority: -100000000000000000000", "priority"),
        ("duration: 100000000000000000000", "duration"),
        ("duration: '99999999999999:00:00'", "duration"),
    ],
)
def test_a_number_the_database_cannot_hold_is_refused_here(
    tmp_path: Path, extra: str, field: str
) -> None:
    write(tmp_path, "x.md", front(extra))
    [problem] = problems_for(tmp_path)
    assert problem.field == field
    assert "must be from" in problem.message


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#,? \n\t0129.")), max_size=80))
def test_the_yaml_reader_answers_any_text_with_data_or_one_short_line(text: str) -> None:
    message = ""
    try:
        read_yaml(text)
    except InputProblem as problem:
        message = problem.message
    assert "\n" not in message
    assert len(message) <= 200


def test_an_excerpt_is_short_and_escapes_control_characters() -> None:
    assert excerpt("x" * 1000) == "x" * 79 + "…"
    assert excerpt("a\x1b[2Jb\x00") == "a\\x1b[2Jb\\x00"
    assert excerpt("short") == "short"


# --- class 5: links out of the content folder --------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the content folder, with a file whose YAML is broken on a secret line."""
    folder = tmp_path / "outside"
    write(folder, "secret.md", f"---\ntitle: [unclosed\n{SECRET}\n---\n")
    write(folder, "good.md", front(""))
    return folder


@pytest.fixture
def content(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    write(folder, "ok.md", front(""))
    return folder


@pytest.mark.parametrize(
    ("link", "target"),
    [
        pytest.param("leak.md", "secret.md", id="file-with-broken-yaml"),
        pytest.param("fine.md", "good.md", id="file-that-would-import"),
        pytest.param("sub/deeper/leak.md", "secret.md", id="file-in-a-subfolder"),
        pytest.param("linked", ".", id="folder"),
        pytest.param("sub/linked", ".", id="folder-in-a-subfolder"),
    ],
)
def test_a_link_out_of_the_content_folder_is_refused_unread(
    content: Path, outside: Path, link: str, target: str
) -> None:
    where = content / link
    where.parent.mkdir(parents=True, exist_ok=True)
    where.symlink_to((outside / target).resolve())
    drafts, problems = parse_library(content, AUDIENCES)
    assert [d.source_ref for d in drafts] == ["ok.md"]
    [problem] = problems
    assert problem.source == str(where)
    assert "outside" in problem.message
    assert "refused unread" in problem.message
    assert SECRET not in problem.message
    assert "unclosed" not in problem.message


def test_a_link_that_stays_inside_the_folder_is_read(content: Path) -> None:
    (content / "again.md").symlink_to(content / "ok.md")
    drafts, problems = parse_library(content, AUDIENCES)
    assert problems == []
    assert sorted(d.source_ref for d in drafts) == ["again.md", "ok.md"]


def test_a_link_loop_is_refused_not_followed(content: Path) -> None:
    (content / "loop.md").symlink_to(content / "loop.md")
    drafts, problems = parse_library(content, AUDIENCES)
    assert [d.source_ref for d in drafts] == ["ok.md"]
    assert [p.source for p in problems] == [str(content / "loop.md")]


def test_an_import_with_a_link_out_imports_nothing(
    runtime: Runtime, content: Path, outside: Path
) -> None:
    (content / "fine.md").symlink_to(outside / "good.md")
    with pytest.raises(ContentError) as caught, session_scope(runtime.sessions) as session:
        import_library(session, content)
    assert "fine.md" in str(caught.value)
    with session_scope(runtime.sessions) as session:
        assert session.scalar(select(func.count(ContentItem.id))) == 0


# --- audiences ------------------------------------------------------------------------------


def audience(extra: str = "") -> str:
    return "name: Sales\ndescription: Sellers\nkeywords: [pricing]\n" + extra


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param(audience().replace("[pricing]", "*k"), 3, id="alias"),
        pytest.param("name: &n Sales\ndescription: *n\nkeywords: [x]\n", 1, id="anchor"),
        pytest.param(BOMB + "name: *i\n", 1, id="bomb"),
    ],
)
def test_an_audience_file_with_anchors_or_aliases_is_refused(
    tmp_path: Path, text: str, line: int
) -> None:
    path = write(tmp_path, "sales.yml", text)
    with pytest.raises(AudienceError) as caught:
        load_audiences(tmp_path)
    [problem] = caught.value.problems
    assert (problem.source, problem.line) == (str(path), line)
    assert "not allowed" in problem.message
    assert_short_lines([problem])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(audience("notes: " + "n" * 1_100_000 + "\n"), "larger than", id="huge"),
        pytest.param("name: " + "[" * 3000, "nested more than", id="deep"),
        pytest.param(audience("? " + "k" * 50_000 + "\n: v\n"), "unknown field", id="huge-key"),
    ],
)
def test_an_audience_file_that_is_too_big_is_refused_in_one_line(
    tmp_path: Path, text: str, message: str
) -> None:
    write(tmp_path, "sales.yml", text)
    with pytest.raises(AudienceError) as caught:
        load_audiences(tmp_path)
    [problem] = caught.value.problems
    assert message in problem.message
    assert_short_lines([problem])


# --- class 3: control characters and Unicode normalisation --------------------------------

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")


@pytest.mark.parametrize(
    ("extra", "field", "shown"),
    [
        pytest.param("speaker: Ada\x00 Lovelace", "speaker", "U+0000 (NUL)", id="raw-NUL-speaker"),
        pytest.param("summary: a\x1b[2Jb", "summary", "U+001B (ESC)", id="raw-ESC-summary"),
        pytest.param("key_message: x\x7fy", "key_message", "U+007F (DEL)", id="raw-DEL-key"),
        pytest.param("speaker: Ada\x85Byron", "speaker", "U+0085 (NEL)", id="raw-C1-NEL"),
        pytest.param("summary: one\u2028two", "summary", "U+2028", id="raw-LS-summary"),
        pytest.param("summary: >\n  folded\x1b", "summary", "U+001B", id="raw-ESC-continuation"),
        pytest.param('speaker: "Ada\\e[31m"', "speaker", "U+001B (ESC)", id="escaped-ESC"),
        pytest.param('key_message: "x\\0y"', "key_message", "U+0000 (NUL)", id="escaped-NUL"),
        pytest.param('summary: "a\\Nb"', "summary", "U+0085 (NEL)", id="escaped-NEL"),
        pytest.param('slug: "a\\Lb"', "slug", "U+2028", id="escaped-LS-slug"),
        pytest.param('url: "https://x.example/\\x7f"', "url", "U+007F (DEL)", id="escaped-DEL-url"),
        pytest.param('hashtags: ["api\\x9b"]', "hashtags", "U+009B", id="escaped-C1-hashtag"),
        pytest.param('key_message: "a\\Pb"', "key_message", "U+2029", id="escaped-PS"),
    ],
)
def test_a_control_character_in_front_matter_is_refused_with_line_and_field(
    tmp_path: Path, extra: str, field: str, shown: str
) -> None:
    path = write(tmp_path, "x.md", front(extra))
    problems = problems_for(tmp_path)
    assert [(p.source, p.field) for p in problems] == [(str(path), field)]
    [problem] = problems
    assert problem.line == 4 + extra.count("\n")
    assert f"control character {shown}" in problem.message
    assert problem.message.endswith("refused")
    assert CONTROL.search(str(problem)) is None


def test_a_control_character_in_the_title_on_line_2(tmp_path: Path) -> None:
    write(tmp_path, "x.md", "---\ntitle: Hi\x1b]8;;evil\x07\naudiences: [sales]\n---\nbody\n")
    [problem] = problems_for(tmp_path)
    assert (problem.line, problem.field) == (2, "title")


@pytest.mark.parametrize(
    ("body", "line", "shown"),
    [
        pytest.param("one\ntwo\x00\n", 8, "U+0000 (NUL)", id="NUL"),
        pytest.param("\x1b[2J\n", 7, "U+001B (ESC)", id="ESC"),
        pytest.param("a\r\nb\r\nc\x0cd\r\n", 9, "U+000C (FF)", id="FF-after-CRLF"),
        pytest.param("para\u2028more\n", 7, "U+2028", id="LS"),
        pytest.param("x\n\n\x9b31m\n", 9, "U+009B", id="C1-CSI"),
    ],
)
def test_a_control_character_in_the_body_is_refused_with_its_line(
    tmp_path: Path, body: str, line: int, shown: str
) -> None:
    write(tmp_path, "x.md", front("kind: article") + body)
    [problem] = problems_for(tmp_path)
    assert (problem.line, problem.field) == (line, "body")
    assert f"control character {shown}" in problem.message


def test_many_lines_of_control_characters_are_named_by_the_first_few(tmp_path: Path) -> None:
    write(tmp_path, "x.md", front("") + "\x00\n" * 10_000)
    problems = problems_for(tmp_path)
    assert len(problems) == 11
    assert [p.line for p in problems[:10]] == list(
        range(7, 17)
    )  # front() ends with a body line, line 6
    assert_short_lines(problems)


def test_tabs_and_newlines_in_the_body_are_kept(tmp_path: Path) -> None:
    body = "```\n\tindented()\n```\n\n- a\n\t- b\n"
    write(tmp_path, "x.md", front("") + body)
    [draft], problems = parse_library(tmp_path, AUDIENCES)
    assert problems == []
    assert draft.body_markdown == "body\n" + body


def test_text_lands_in_nfc_with_tabs_as_spaces(tmp_path: Path) -> None:
    write(
        tmp_path,
        "x.md",
        "---\n"
        'title: "Cafe\\u0301\\tcre\\u0300me"\n'
        "audiences: [sales]\n"
        'summary: "Line one,\\tstill one\\nline two"\n'
        'speaker: "Zoe\u0308\\tBerg"\n'
        "hashtags: [re\u0301sume\u0301]\n"
        'key_message: "Na\\u0303o"\n'
        "---\n"
        "Cre\u0300me bru\u0302le\u0301e\n",
    )
    [draft], problems = parse_library(tmp_path, AUDIENCES)
    assert problems == []
    assert draft.title == "Caf\u00e9 cr\u00e8me"
    assert draft.summary == "Line one, still one\nline two"
    assert draft.speaker == "Zo\u00eb Berg"
    assert draft.hashtags == ("r\u00e9sum\u00e9",)
    assert draft.key_message == "N\u00e3o"
    assert draft.body_markdown == "Cr\u00e8me br\u00fbl\u00e9e\n"


texts = st.text(
    st.one_of(
        st.sampled_from(list("ab \t\n\x00\x1b\x7f\x85\x9b\u2028\u2029\u0301\u0308e")),
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
    ),
    max_size=20,
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(title=texts, summary=texts, speaker=texts, key_message=texts, body=texts)
def test_any_text_that_lands_is_nfc_and_free_of_control_characters(
    tmp_path: Path, title: str, summary: str, speaker: str, key_message: str, body: str
) -> None:
    quoted = {
        "title": title or "T",
        "summary": summary,
        "speaker": speaker,
        "key_message": key_message,
    }
    fields = "".join(f"{k}: {json.dumps(v, ensure_ascii=False)}\n" for k, v in quoted.items())
    folder = tmp_path / "property"
    folder.mkdir(exist_ok=True)
    write(folder, "x.md", f"---\n{fields}audiences: [sales]\n---\n{body}")
    drafts, _ = parse_library(folder, AUDIENCES)
    for draft in drafts:
        landed = [draft.title, draft.summary, draft.speaker or "", draft.key_message or ""]
        for value in [*landed, draft.slug, *draft.hashtags, draft.body_markdown]:
            assert CONTROL.search(value) is None, value
            assert unicodedata.normalize("NFC", value) == value
        for value in landed:
            assert "\t" not in value


# --- class 7: every content problem names the line of its field ---------------------------


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        pytest.param("kind: podcast", "kind", id="kind"),
        pytest.param("status: gone", "status", id="status"),
        pytest.param("url: ftp://x.example/a", "url", id="url"),
        pytest.param("thumbnail: https://x.example/<b>", "thumbnail", id="thumbnail"),
        pytest.param("duration: long", "duration", id="duration"),
        pytest.param("priority: high", "priority", id="priority"),
        pytest.param("publish_at: next week", "publish_at", id="publish_at"),
        pytest.param("expires_at: 2027-02-30", "expires_at", id="impossible-date"),
        pytest.param("hashtags: [two words]", "hashtags", id="hashtags"),
        pytest.param("slug: Has Spaces", "slug", id="slug"),
        pytest.param("speaker: " + "s" * 300, "speaker", id="too-long"),
        pytest.param("audince: [sales]", "audince", id="unknown-field"),
        pytest.param("summary: [a, list]", "summary", id="not-text"),
        pytest.param("kind: video", "video_url", id="video-without-url-named-at-kind"),
    ],
)
def test_a_bad_field_on_line_4_is_reported_on_line_4(
    tmp_path: Path, extra: str, field: str
) -> None:
    path = write(tmp_path, "x.md", front(extra))
    [problem] = problems_for(tmp_path)
    assert (problem.source, problem.field, problem.line) == (str(path), field, 4)
    assert str(problem).startswith(f"{path}:4:{field}: ")


def test_the_line_of_a_field_counts_multiline_values_before_it(tmp_path: Path) -> None:
    text = "---\ntitle: T\nsummary: |\n  one\n  two\naudiences:\n  - sales\n  - plumbers\n---\n"
    write(tmp_path, "x.md", text)
    [problem] = problems_for(tmp_path)
    assert (problem.field, problem.line) == ("audiences", 6)


def test_a_duplicate_slug_names_the_line_that_sets_it(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "---\ntitle: A\nslug: same\naudiences: [sales]\n---\n")
    second = write(tmp_path, "b.md", "---\ntitle: B\naudiences: [sales]\nslug: same\n---\n")
    [problem] = problems_for(tmp_path)
    assert (problem.source, problem.field, problem.line) == (str(second), "slug", 4)


def test_front_matter_that_is_not_a_mapping_names_its_first_line(tmp_path: Path) -> None:
    write(tmp_path, "x.md", "---\n- a list\n---\nbody\n")
    [problem] = problems_for(tmp_path)
    assert problem.line == 2

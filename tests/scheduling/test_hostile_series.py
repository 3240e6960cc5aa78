"""Hostile series files: anchors, impossible dates, huge durations and templates outside
templates/ are each one line with file, line and field; nothing is applied."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from commhub.errors import Problem, SeriesError
from commhub.scheduling.series import read_series_file
from tests.cli.test_cli import Commhub

AUDIENCES = {"sales", "technical", "marketing", "development", "executive"}
GOOD = """\
series:
  - slug: news
    name: News
    channel: newsletter
    audiences: [sales, technical]
    cadence: monthly on day 1 at 09:00
    timezone: Europe/Paris
    subject: "{{ series.name }}"
    from: "Team <team@vendor.example>"
"""
# Line 10 is the first one added after GOOD.
BOMB = "".join(
    f"    x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 10) if i else 'lol'}]\n" for i in range(9)
)


def problems_of(tmp_path: Path, extra: str, asked: list[str] | None = None) -> list[Problem]:
    path = tmp_path / "series.yml"
    path.write_text(GOOD + extra, encoding="utf-8")

    def has_template(name: str) -> bool:
        if asked is not None:
            asked.append(name)
        return True  # every folder exists: only the name's shape may refuse it

    with pytest.raises(SeriesError) as caught:
        read_series_file(path, AUDIENCES, has_template)
    problems = caught.value.problems
    for problem in problems:
        assert problem.source == str(path)
        assert "\n" not in str(problem)
        assert len(str(problem)) < 300, str(problem)[:400]
    return problems


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


# --- class 2: anchors and aliases ---------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "line", "what"),
    [
        pytest.param("    grace: &g 6h\n", 10, "anchors", id="anchor-without-alias"),
        pytest.param("    reply_to: *from\n", 10, "aliases", id="undefined-alias"),
        pytest.param(
            "  - &base\n    slug: other\n  - <<: *base\n", 10, "anchors", id="merge-of-an-entry"
        ),
        pytest.param(BOMB, 10, "anchors", id="nested-bomb"),
        pytest.param(
            "    holidays: {dates: &d [2027-12-24]}\n    name: *d\n", 10, "anchors", id="in-a-map"
        ),
    ],
)
def test_anchors_and_aliases_are_refused_with_their_line(
    tmp_path: Path, extra: str, line: int, what: str
) -> None:
    started = time.monotonic()
    problem = only(problems_of(tmp_path, extra))
    assert time.monotonic() - started < 2
    assert problem.line == line
    assert f"{what} (" in problem.message
    assert "not allowed" in problem.message


def test_a_series_file_over_a_megabyte_is_refused(tmp_path: Path) -> None:
    problem = only(problems_of(tmp_path, "# " + "x" * 1_100_000 + "\n"))
    assert "larger than 1,000,000 bytes" in problem.message


def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path: Path) -> None:
    problem = only(problems_of(tmp_path, "    partner_filter: " + "[" * 5000 + "]" * 5000 + "\n"))
    assert problem.line == 10
    assert "nested more than" in problem.message


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        # `? key` is YAML's long form: plain keys stop at 1,024 characters.
        ("    ? " + "c" * 50_000 + "\n    : x\n", "series[news]." + "c" * 79 + "…"),
        ("    timezone: " + "A" * 50_000 + "\n", "series[news].timezone"),
        ("    shift: " + "s" * 50_000 + "\n", "series[news].shift"),
        ("    from: " + "f" * 50_000 + "\n", "series[news].from"),
        (
            "    partner_filter:\n      ? " + "k" * 50_000 + "\n      : [x]\n",
            "series[news].partner_filter",
        ),
        ("    template: " + "t" * 50_000 + "\n", "series[news].template"),
    ],
)
def test_a_bad_value_is_quoted_as_a_short_excerpt(tmp_path: Path, extra: str, field: str) -> None:
    # problems_of holds every line under 300 characters.
    problems = problems_of(tmp_path, extra)
    assert field in {p.field for p in problems}


def test_a_huge_slug_is_shortened_in_every_location(tmp_path: Path) -> None:
    path = tmp_path / "series.yml"
    path.write_text(GOOD.replace("slug: news", "slug: " + "n" * 50_000) + "    colour: red\n")
    with pytest.raises(SeriesError) as caught:
        read_series_file(path, AUDIENCES, lambda name: True)
    assert all(len(str(p)) < 300 for p in caught.value.problems)


# --- class 5: templates outside templates/ ------------------------------------------------


@pytest.mark.parametrize(
    "template",
    ["/etc/passwd", "../x", "a/../../x", "..", "./newsletter", "a/./b", "a//b", "a\\..\\b"],
)
def test_a_template_outside_the_templates_folder_is_refused_unasked(
    tmp_path: Path, template: str
) -> None:
    asked: list[str] = []
    problem = only(problems_of(tmp_path, f"    template: '{template}'\n", asked))
    assert (problem.line, problem.field) == (10, "series[news].template")
    assert "not a folder inside templates/" in problem.message
    assert asked == [], "the disk was asked about a path outside templates/"


@pytest.mark.parametrize("template", ["newsletter", "brand/newsletter", "news_2027.v2"])
def test_a_template_inside_the_templates_folder_is_read(tmp_path: Path, template: str) -> None:
    path = tmp_path / "series.yml"
    path.write_text(GOOD + f"    template: {template}\n", encoding="utf-8")
    [definition] = read_series_file(path, AUDIENCES, lambda name: name == template)
    assert definition.template == template


# --- class 6: impossible dates, huge durations ----------------------------------------------


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ("    start: 2027-02-30\n", "start"),
        ("    start: 2027-13-01\n", "start"),
        ("    start: 2026-02-29\n", "start"),
        ("    start: 9999-12-31\n", "start"),
        ("    start: 0001-01-01\n", "start"),
        ("    shift: next\n    holidays: {dates: [2027-02-30]}\n", "holidays"),
        ("    shift: next\n    holidays: {dates: [2026-02-29]}\n", "holidays"),
        ("    shift: next\n    holidays: {dates: [2027-13-01]}\n", "holidays"),
        ("    shift: next\n    holidays: {dates: [9999-12-31]}\n", "holidays"),
        ("    shift: previous\n    holidays: {dates: [0001-01-03]}\n", "holidays"),
    ],
)
def test_an_impossible_date_names_file_line_and_field(
    tmp_path: Path, extra: str, field: str
) -> None:
    problem = only(problems_of(tmp_path, extra))
    assert problem.field == f"series[news].{field}"
    assert problem.line == GOOD.count("\n") + extra.count("\n")


@pytest.mark.parametrize(
    ("grace", "message"),
    [
        ("100000000000000000000d", "longer than 7 days"),
        ("99999999999h", "longer than 7 days"),
        ("9" * 5000 + "m", "longer than 7 days"),
        ("1d 1d 1d 1d 1d 1d 1d 1d", "longer than 7 days"),
        ("8d", "longer than 7 days"),
        ("100000000000000000000", "not a duration"),
        ("10**20", "not a duration"),
        ("99999999 days", "not a duration"),
        ("-6h", "not a duration"),
        ("-1", "not a duration"),
        ("0h", "not a duration"),
        ("soon", "not a duration"),
        ("[6h]", "not a duration"),
        ("1e400", "not a duration"),
    ],
)
def test_a_bad_grace_names_file_line_and_field(tmp_path: Path, grace: str, message: str) -> None:
    problem = only(problems_of(tmp_path, f"    grace: {grace}\n"))
    assert (problem.line, problem.field) == (10, "series[news].grace")
    assert message in problem.message


@pytest.mark.parametrize(("grace", "minutes"), [("6h", 360), ("7d", 10080), ("0001d 12h", 2160)])
def test_a_good_grace_is_read(tmp_path: Path, grace: str, minutes: int) -> None:
    path = tmp_path / "series.yml"
    path.write_text(GOOD + f"    grace: {grace}\n", encoding="utf-8")
    [definition] = read_series_file(path, AUDIENCES, lambda name: True)
    assert definition.grace.total_seconds() == minutes * 60


@pytest.mark.parametrize(
    "extra",
    [
        "    start: 2027-02-30\n",
        "    grace: 100000000000000000000d\n",
        "    template: ../x\n",
        "    grace: &g 6h\n",
    ],
)
def test_series_apply_exits_1_with_one_line_per_problem(tmp_path: Path, extra: str) -> None:
    commhub = Commhub(tmp_path / "var")
    assert commhub("init").exit_code == 0
    path = tmp_path / "series.yml"
    path.write_text(GOOD + extra, encoding="utf-8")
    result = commhub("series", "apply", str(path))
    assert result.exit_code == 1, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"commhub: {path}:10:")
    assert "Traceback" not in result.output
    assert "news" not in commhub("series", "list").stdout


# --- class 4: a from or reply-to is exactly one address ------------------------------------


@pytest.mark.parametrize("field", ["reply_to"])
@pytest.mark.parametrize(
    "value",
    [
        '"Team\\r\\nBcc: victim@example.net <team@vendor.example>"',
        '"a@x.example, b@y.example"',
        '"Team <team@vendor.example> and more"',
        '"team@vendor.example (the team)"',
        '"Team\\u0000 <team@vendor.example>"',
    ],
)
def test_a_reply_to_that_is_not_exactly_one_address_is_refused_with_its_line(
    tmp_path: Path, field: str, value: str
) -> None:
    problem = only(problems_of(tmp_path, f"    {field}: {value}\n"))
    assert problem.field == f"series[news].{field}"
    assert problem.line == 10


@pytest.mark.parametrize(
    "value",
    ['"Team\\nBcc: victim@example.net <team@vendor.example>"', '"a@x.example, b@y.example"'],
)
def test_a_from_that_is_not_exactly_one_address_is_refused(tmp_path: Path, value: str) -> None:
    path = tmp_path / "series.yml"
    path.write_text(GOOD.replace('"Team <team@vendor.example>"', value), encoding="utf-8")
    with pytest.raises(SeriesError) as caught:
        read_series_file(path, AUDIENCES, lambda name: True)
    [problem] = caught.value.problems
    assert problem.field == "series[news].from"
    assert problem.line == 9

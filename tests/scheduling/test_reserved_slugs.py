"""A series may not take the name of a page under /series/ (`new`, `dates`): it could never
be reached at /series/<slug>. A series file is refused as the web form is, by the one reader
both share, and nothing is applied."""

from __future__ import annotations

from pathlib import Path

import pytest

from commhub.errors import Problem, SeriesError
from commhub.scheduling.series import read_series_file
from tests.cli.test_cli import Commhub

AUDIENCES = {"sales", "technical"}
ENTRY = """\
  - slug: {slug}
    name: News {slug}
    channel: newsletter
    audiences: [sales, technical]
    cadence: monthly on day 1 at 09:00
    timezone: Europe/Paris
    subject: "{{{{ series.name }}}}"
    from: "Team <team@vendor.example>"
"""


def series_file(tmp_path: Path, *slugs: str) -> Path:
    path = tmp_path / "series.yml"
    text = "series:\n" + "".join(ENTRY.format(slug=slug) for slug in slugs)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("slug", ["new", "dates"])
def test_the_reader_refuses_a_slug_that_names_a_page(tmp_path: Path, slug: str) -> None:
    path = series_file(tmp_path, "news", slug)
    with pytest.raises(SeriesError) as refused:
        read_series_file(path, AUDIENCES, lambda name: name == "newsletter")
    [problem] = refused.value.problems
    assert problem == Problem(
        str(path),
        f'"{slug}" is the name of a page (/series/{slug}): pick another slug',
        f"series[{slug}].slug",
        10,  # the second entry's slug line
    )


def test_a_slug_that_only_starts_like_a_page_is_a_series(tmp_path: Path) -> None:
    path = series_file(tmp_path, "new-partners", "dates-2027")
    definitions = read_series_file(path, AUDIENCES, lambda name: name == "newsletter")
    assert [d.slug for d in definitions] == ["new-partners", "dates-2027"]


def test_series_apply_refuses_a_page_name_and_applies_nothing(tmp_path: Path) -> None:
    commhub = Commhub(tmp_path / "var")
    assert commhub("init").exit_code == 0
    path = series_file(tmp_path, "news", "new")
    result = commhub("series", "apply", str(path))
    assert result.exit_code == 1, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"commhub: {path}:10:series[new].slug: "), line
    assert "is the name of a page" in line
    listed = commhub("series", "list").stdout
    assert "news" not in listed  # all or nothing: the good entry is not applied either
    assert "new" not in listed

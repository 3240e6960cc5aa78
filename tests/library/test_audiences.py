from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from commhub.errors import AudienceError
from commhub.library.audiences import load_audiences
from commhub.resources import audiences_dir

SHIPPED = {"sales", "technical", "marketing", "development", "executive"}


def test_the_five_shipped_audiences_load_with_real_descriptions() -> None:
    definitions = {d.slug: d for d in load_audiences(audiences_dir())}
    assert set(definitions) >= SHIPPED
    for definition in definitions.values():
        assert len(definition.description.split()) >= 20
        assert definition.keywords


def test_adding_a_file_adds_an_audience(tmp_path: Path) -> None:
    shutil.copytree(audiences_dir(), tmp_path, dirs_exist_ok=True)
    (tmp_path / "support.yml").write_text(
        "name: Support\ndescription: Help desk staff.\nkeywords: [tickets]\n"
    )
    assert "support" in {d.slug for d in load_audiences(tmp_path)}


def test_a_missing_field_names_the_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "sales.yml").write_text("name: Sales\nkeywords: [pricing]\n")
    with pytest.raises(AudienceError) as raised:
        load_audiences(tmp_path)
    assert str(raised.value) == f"{tmp_path / 'sales.yml'}:description: required"


def test_a_duplicate_slug_names_both_files(tmp_path: Path) -> None:
    body = "name: Sales\ndescription: d\nkeywords: [k]\n"
    (tmp_path / "sales.yml").write_text(body)
    (tmp_path / "sales.yaml").write_text(body)
    with pytest.raises(
        AudienceError, match=r'sales\.yml:slug: duplicate slug "sales" \(also sales\.yaml\)'
    ):
        load_audiences(tmp_path)


def test_audiences_are_found_from_the_project_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert (audiences_dir() / "sales.yml").is_file()


def test_an_audience_may_not_be_called_all(tmp_path: Path) -> None:
    """ "all" already means every audience: in a series file, and in /feeds/all.atom."""
    (tmp_path / "all.yml").write_text("name: All\ndescription: d\nkeywords: [k]\n")
    with pytest.raises(AudienceError, match=r'all\.yml: "all" means every audience'):
        load_audiences(tmp_path)

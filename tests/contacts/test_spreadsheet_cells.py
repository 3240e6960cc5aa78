from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commhub.contacts.spreadsheet_cells import FORMULA_TRIGGERS, neutralise, restore


@pytest.mark.parametrize("value", ["=1+1", "+44 20", "-5", "@SUM(A1)", "\tx", "\rx", "'=x"])
def test_formula_cells_are_quoted(value: str) -> None:
    assert neutralise(value).startswith("'")
    assert not neutralise(value).startswith(FORMULA_TRIGGERS)


@pytest.mark.parametrize("value", ["Alice", "O'Brien", "'quoted'", "", "a=b"])
def test_plain_cells_are_untouched(value: str) -> None:
    assert neutralise(value) == value


@given(st.text())
def test_restore_inverts_neutralise(value: str) -> None:
    assert restore(neutralise(value)) == value
    assert not neutralise(value).startswith(FORMULA_TRIGGERS)

"""Cells a spreadsheet will not run: CSV formula injection, neutralised reversibly.

A cell that starts with =, +, -, @, tab or carriage return is a formula to Excel and
LibreOffice. Such a cell is written with a leading apostrophe, which spreadsheets show as
text. Reading a file back removes exactly that apostrophe, so export then import is the
identity, even for a value that itself starts with apostrophes.
"""

from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _needs_quote(value: str) -> bool:
    return value.lstrip("'").startswith(FORMULA_TRIGGERS)


def neutralise(value: str) -> str:
    """The cell as written to a CSV file a person may open in a spreadsheet."""
    return "'" + value if _needs_quote(value) else value


def restore(cell: str) -> str:
    """The value a neutralised cell stands for (the inverse of neutralise)."""
    return cell[1:] if cell.startswith("'") and _needs_quote(cell[1:]) else cell

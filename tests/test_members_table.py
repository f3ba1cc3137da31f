"""Formula-safe cells: what a spreadsheet would run gets a leading quote, nothing else does."""

from __future__ import annotations

import pytest

from server.members_table import safe_cell


@pytest.mark.parametrize(
    "value",
    ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "＝1+1", "＋1", "－1", "＠x", " =1", "  @x"],
)
def test_formula_starts_are_quoted(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Oslo", "a=b", "1-2", "x@example.com", "", " x", "'=1"])
def test_other_cells_are_unchanged(value: str) -> None:
    assert safe_cell(value) == value


def test_numbers_and_missing_values() -> None:
    assert (safe_cell(None), safe_cell(7), safe_cell(-2)) == ("", "7", "'-2")

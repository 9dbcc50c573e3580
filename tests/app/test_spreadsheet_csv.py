"""CSV for spreadsheets: formula-like text neutralised, every field quoted, values kept."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from app.kit.spreadsheet_csv import FORMULA_TRIGGERS, SpreadsheetSafeWriter


def _written(rows: list[list[object]]) -> str:
    buffer = io.StringIO(newline="")
    SpreadsheetSafeWriter(buffer).writerows(rows)
    return buffer.getvalue()


def test_every_trigger_gets_a_leading_quote_and_numbers_stay_numbers() -> None:
    cells: list[object] = [f"{trigger}cmd|' /C calc'!A0" for trigger in FORMULA_TRIGGERS]
    text = _written([[7, -3, *cells, "plain", None]])
    (row,) = csv.reader(io.StringIO(text, newline=""))
    assert row[:2] == ["7", "-3"]
    assert row[2:-2] == [f"'{cell}" for cell in cells]
    assert row[-2:] == ["plain", ""]
    assert text.startswith('"7","-3","\'=cmd')


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_a_row_reads_back_as_written_but_for_the_quote_before_formula_like_text(
    values: list[str],
) -> None:
    (row,) = csv.reader(io.StringIO(_written([list(values)]), newline=""))
    assert row == [f"'{v}" if v.startswith(FORMULA_TRIGGERS) else v for v in values]

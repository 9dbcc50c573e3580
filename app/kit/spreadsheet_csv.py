"""CSV for spreadsheets, safe from formula injection (OWASP's "CSV Injection" advice).

A cell a spreadsheet would read as a formula — text beginning with =, +, -, @, a tab or a
carriage return — gets a leading single quote, which makes Excel and LibreOffice show it as
text; and every field is quoted, so a separator inside a value cannot start a new cell. Only
text is neutralised: numbers crmsync itself writes (row numbers, ids) stay numbers.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def neutralised(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class SpreadsheetSafeWriter:
    """csv.writer's writerow/writerows, every field quoted and formula-like text neutralised."""

    def __init__(self, stream: _Writable) -> None:
        self._writer = csv.writer(stream, quoting=csv.QUOTE_ALL)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([neutralised(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)

"""A drill-down list as CSV (the "CSV" link beside every list): pure."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

COLUMNS = ("id", "created_at", "source", "kind", "sentiment_label", "sentiment", "rating",
           "score", "score_type", "status", "author", "title", "text", "url")  # fmt: skip
# Text a customer wrote that a spreadsheet would run as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_TEXT = {"author", "title", "text", "url"}


def _cell(column: str, value: Any) -> Any:
    if column in _TEXT and isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def csv_text(rows: Iterable[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(c, row.get(c)) for c in COLUMNS])
    return out.getvalue()

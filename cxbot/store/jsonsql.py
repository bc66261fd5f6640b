"""Batched SQL over JSON arrays: a whole batch of rows in one statement, a whole result in one
value.

Why: sqlite3 releases the GIL around each step of a statement, and the writer thread must then
win it back from a busy event loop (up to the switch interval each time). Row by row, one intake
job took 0.28 ms alone but 20 ms next to a busy thread; a batch as one JSON array pays that
wait once. SQLite's JSON functions cut a string at a NUL character: `insert_json_rows` binds
the rare row holding one as plain parameters, and Signal text never holds one (models.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database


def item(i: int) -> str:
    """SQL for element `i` of the current row `j.value` of a `json_each(?) j`."""
    return f"json_extract(j.value, '$[{i}]')"


def insert_json_rows(db: Database, table: str, rows: list[dict[str, Any]]) -> None:
    """Every row (dicts with the same keys: the columns) in ONE statement, over a JSON array of
    arrays; a row holding a NUL (a raw body can) is bound as plain parameters instead, and kept
    exactly."""
    if not rows:
        return
    columns = list(rows[0])
    names = ", ".join(columns)
    plain: list[list[Any]] = []
    for row in rows:
        values = [row[c] for c in columns]
        if any(isinstance(v, str) and "\x00" in v for v in values):
            marks = ", ".join("?" for _ in columns)
            db.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", values)
        else:
            plain.append(values)
    if plain:
        extracts = ", ".join(item(i) for i in range(len(columns)))
        db.execute(
            f"INSERT INTO {table} ({names}) SELECT {extracts} FROM json_each(?) j",
            [json.dumps(plain, ensure_ascii=False)],
        )


def next_id(db: Database, table: str) -> int:
    """The next free rowid. Safe to hand out in Python: the writer holds SQLite's write lock
    (BEGIN IMMEDIATE) for the whole batch, so no other connection can insert meanwhile."""
    return int(db.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0])


def json_rows(db: Database, sql: str, params: Sequence[Any]) -> list[Any]:
    """The rows of a query that returns them as ONE JSON array (`json_group_array`): read
    row by row, each row would cost another GIL round trip."""
    value = db.execute(sql, params).fetchone()[0]
    return list(json.loads(value)) if value else []

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

from cxbot.store.engine import is_pg


def item(i: int) -> str:
    """SQL for element `i` of the current row `j.value` of a `json_each(?) j`."""
    return f"json_extract(j.value, '$[{i}]')"


def insert_json_rows(db: Database, table: str, rows: list[dict[str, Any]]) -> None:
    """Every row (dicts with the same keys: the columns) in ONE statement, over a JSON array of
    arrays; a row holding a NUL (a raw body can) is bound as plain parameters instead, and kept
    exactly."""
    if not rows:
        return
    if is_pg(db):
        insert_rows_pg(db, table, rows)
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
    (BEGIN IMMEDIATE) for the whole batch, so no other connection can insert meanwhile. On
    PostgreSQL a transaction-scoped advisory lock per table stands in for that write lock
    (other replicas' writers wait for this commit before they count)."""
    if is_pg(db):
        db.execute("SELECT pg_advisory_xact_lock(hashtext(?))", [f"cxbot.ids.{table}"])
    return int(db.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0])


def json_rows(db: Database, sql: str, params: Sequence[Any]) -> list[Any]:
    """The rows of a query that returns them as ONE JSON array (`json_group_array`): read
    row by row, each row would cost another GIL round trip."""
    value = db.execute(sql, params).fetchone()[0]
    return list(json.loads(value)) if value else []


def insert_rows_pg(db: Database, table: str, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: every row in one statement, each JSON object cast to the table's row type
    (so each value gets its column's type). PostgreSQL text cannot hold a NUL character at
    all: one in a raw body is stored as U+FFFD, the replacement character."""
    columns = ", ".join(rows[0])
    clean = [
        {k: v.replace("\x00", "\ufffd") if isinstance(v, str) else v for k, v in row.items()}
        for row in rows
    ]
    data = json.dumps(clean, ensure_ascii=False)
    db.execute(
        f"INSERT INTO {table} ({columns}) SELECT {columns}"
        f" FROM jsonb_populate_recordset(NULL::{table}, ?::jsonb)",
        [data],
    )


def reserve_ids(db: Database, table: str, n: int) -> list[int]:
    """PostgreSQL: `n` ids from the table's identity sequence (safe across replicas; a
    rolled-back batch leaves a gap, as sequences do)."""
    if n == 0:
        return []
    rows = db.execute(
        "SELECT nextval(pg_get_serial_sequence(?, 'id')) FROM generate_series(1, ?)", [table, n]
    ).fetchall()
    return [int(r[0]) for r in rows]

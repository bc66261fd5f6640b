"""Which engine a handle talks to: the one question the data-access modules ask the seam.

A job's `db` is sqlite-utils' `Database` on SQLite and `cxbot.store.pg.PgDatabase` on
PostgreSQL; both offer `execute`, `conn.execute`, `conn.executemany` and `atomic()`. Where the
SQL must differ (JSON functions, full-text search, `INSERT OR IGNORE`), a module keeps both
variants side by side and picks one with `is_pg(db)`.
"""

from __future__ import annotations

from typing import Any, Literal

Dialect = Literal["sqlite", "postgres"]


def dialect(db: Any) -> Dialect:
    return "postgres" if getattr(db, "dialect", "sqlite") == "postgres" else "sqlite"


def is_pg(db: Any) -> bool:
    return dialect(db) == "postgres"

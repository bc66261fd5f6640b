"""The PostgreSQL side of the storage seam: a thin handle over a psycopg connection that offers
the subset of sqlite-utils' `Database` the data-access modules use, and the migration runner.

Jobs keep their `fn(db)` shape on both engines. `db.dialect` is "postgres" here (the SQLite
handle has no such attribute: `cxbot.store.engine.dialect` reads it), so a data-access module
keeps the two variants of a statement side by side where the engines differ. The only
rewriting done here is the placeholder: `?` becomes psycopg's `%s` (and a literal `%` is
doubled); everything else is the SQL as written.

psycopg is imported lazily: a default install on SQLite never loads it.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

# Every replica migrates on start: this advisory lock makes one do it while the others wait.
MIGRATION_LOCK = 0x6378_6D69  # "cxmi"
MIGRATIONS_TABLE = "_cxbot_migrations"  # the counterpart of sqlite-utils' _sqlite_migrations


@lru_cache(maxsize=4096)
def pg_sql(sql: str) -> str:
    """`?` placeholders outside quotes become `%s`; `%` is doubled so psycopg keeps it."""
    out: list[str] = []
    quote: str | None = None
    for ch in sql:
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            out.append("%s")
            continue
        out.append("%%" if ch == "%" else ch)
    return "".join(out)


class PgDatabase:
    """One psycopg connection in autocommit mode; transactions are explicit (`atomic`).

    `conn` is the handle itself, so code written for sqlite-utils' `db.conn.execute(...)`
    runs unchanged on both engines."""

    dialect = "postgres"

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn

    @property
    def conn(self) -> PgDatabase:
        return self

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        return self.raw.execute(pg_sql(sql), list(params))

    def executemany(self, sql: str, seq: Sequence[Sequence[Any]]) -> psycopg.Cursor[Any]:
        cur = self.raw.cursor()
        cur.executemany(pg_sql(sql), [list(p) for p in seq])
        return cur

    def executescript(self, script: str) -> None:
        """Several statements in one round trip (DDL: no parameters, no placeholder rewrite)."""
        self.raw.execute(script.encode())

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """A transaction, or a savepoint inside one: an exception rolls back to it."""
        with self.raw.transaction():
            yield

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def rollback(self) -> None:
        self.raw.rollback()

    def close(self) -> None:
        self.raw.close()


def connect_pg(url: str, *, application_name: str = "cxbot") -> PgDatabase:
    import psycopg

    conn = psycopg.connect(url, autocommit=True, application_name=application_name)
    return PgDatabase(conn)


def migrate_pg(db: PgDatabase) -> list[str]:
    """Apply pending migrations, each in its own transaction with its record, one replica at
    a time; returns the names applied. The same registry as SQLite's (store/migrations.py)."""
    from cxbot.store.migrations import migrations

    applied: list[str] = []
    with db.atomic():
        db.execute("SELECT pg_advisory_xact_lock(?)", [MIGRATION_LOCK])
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (migration_set TEXT NOT NULL,"
            " name TEXT NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (migration_set, name))"
        )
        done = {
            r[0]
            for r in db.execute(
                f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ?", [migrations.name]
            ).fetchall()
        }
        for migration in migrations._migrations:
            if migration.name in done:
                continue
            with db.atomic():
                migration.fn(db)  # type: ignore[arg-type]  # the engine-neutral handle
                db.execute(
                    f"INSERT INTO {MIGRATIONS_TABLE} (migration_set, name, applied_at)"
                    " VALUES (?, ?, ?)",
                    [migrations.name, migration.name, str(datetime.datetime.now(datetime.UTC))],
                )
            applied.append(migration.name)
    return applied


def pending_pg(db: PgDatabase) -> list[str]:
    from cxbot.store.migrations import migrations

    exists = db.execute("SELECT to_regclass(?)", [MIGRATIONS_TABLE]).fetchone()
    done: set[str] = set()
    if exists and exists[0]:
        done = {r[0] for r in db.execute(f"SELECT name FROM {MIGRATIONS_TABLE}").fetchall()}
    return [m.name for m in migrations._migrations if m.name not in done]


def redacted(url: str) -> str:
    """The URL without its password, for logs and `check-config`."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))

"""`cxbot db copy --to URL`: an SQLite database into a PostgreSQL one, rows and ids as they are.

The target is migrated first (the same schema), then every table both have is copied in one
transaction: a failure leaves the target as it was. Rows keep their ids, and `ON CONFLICT DO
NOTHING` makes a second run copy nothing, so the command is safe to repeat. The rollup is not
copied but rebuilt from the copied signals (its row trigger is off during the copy: one
GROUP BY instead of a trigger per row), in the zone the source's rollup used. The identity
sequences then continue after the highest id. At the end every table's row count is compared,
and a mismatch (say, a target that held other data) is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cxbot.store.migrations import migrations
from cxbot.store.pg import PgDatabase, connect_pg, migrate_pg, redacted
from cxbot.store.rollup import rebuild_rollup
from cxbot.store.writer import connect

BATCH = 2000
# Parents before children (foreign keys); tables other branches add come after, by name.
ORDER = ("customers", "customer_handles", "events", "signals", "outbox", "digests", "mutes")
# Kept by the engines themselves: the migrations' records, the full-text index, the rollup.
SKIP_PREFIXES = ("sqlite_", "signals_fts", "_sqlite_migrations", "_cxbot_migrations",
                 "daily_rollup")  # fmt: skip
ROLLUP_TRIGGERS = ("signals_rollup_insert", "signals_rollup_update")


class CopyError(Exception):
    """The copy cannot start or did not come out whole; the message says why."""


@dataclass(frozen=True)
class Copied:
    table: str
    source: int  # rows in the SQLite table
    target: int  # rows in the PostgreSQL table afterwards
    inserted: int  # rows this run added


def _tables(src: Any, dst: PgDatabase) -> list[tuple[str, list[str]]]:
    """(table, shared columns) for every table both databases have, in copy order."""
    names = [r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    found = []
    for name in names:
        if name.startswith(SKIP_PREFIXES):
            continue
        target = {
            r[0]
            for r in dst.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = ?",
                [name],
            ).fetchall()
        }
        if not target:
            continue
        columns = [r[1] for r in src.execute(f"PRAGMA table_info({name})") if r[1] in target]
        found.append((name, columns))
    rank = {t: i for i, t in enumerate(ORDER)}
    return sorted(found, key=lambda t: (rank.get(t[0], len(ORDER)), t[0]))


def _clean(value: Any) -> Any:
    # PostgreSQL text cannot hold NUL (a raw body can): stored as U+FFFD, as intake does.
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


def _batches(src: Any, table: str, columns: list[str]) -> Iterator[list[list[Any]]]:
    cur = src.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1")
    while rows := cur.fetchmany(BATCH):
        yield [[_clean(v) for v in row] for row in rows]


def count_rows(src_path: Path) -> int:
    """Rows the copy will read (the progress bar's length)."""
    src = connect(src_path, readonly=True)
    try:
        total = 0
        for (name,) in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            if not name.startswith(SKIP_PREFIXES):
                total += int(src.execute(f"SELECT count(*) FROM {name}").fetchone()[0])
        return total
    finally:
        src.conn.close()


def copy_database(
    src_path: Path, url: str, progress: Callable[[int], None] = lambda n: None
) -> list[Copied]:
    if not src_path.exists():
        raise CopyError(f"no SQLite database at {src_path}")
    import psycopg

    try:
        dst = connect_pg(url, application_name="cxbot-copy")
    except psycopg.Error as exc:
        raise CopyError(f"cannot connect to {redacted(url)}: {exc}".strip()) from None
    src = connect(src_path, readonly=True)
    try:
        if pending := [m.name for m in migrations.pending(src)]:
            raise CopyError(
                f"{src_path} is not migrated ({', '.join(pending)}): run `cxbot db migrate`"
            )
        migrate_pg(dst)
        tables = _tables(src, dst)
        before = {t: _count(dst, t) for t, _ in tables}
        with dst.atomic():
            # Parents are copied before children: check keys now, so nothing is left pending
            # when the rollup trigger is switched back on.
            dst.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for trigger in ROLLUP_TRIGGERS:
                dst.execute(f"ALTER TABLE signals DISABLE TRIGGER {trigger}")
            for table, columns in tables:
                # The source's zone as it is, and its salt (audit hashes must keep agreeing).
                if table in ("rollup_offsets", "rollup_meta", "privacy_salt"):
                    dst.execute(f"DELETE FROM {table}")
                sql = (
                    f"INSERT INTO {table} ({', '.join(columns)})"
                    f" VALUES ({', '.join('?' for _ in columns)}) ON CONFLICT DO NOTHING"
                )
                for rows in _batches(src, table, columns):
                    dst.conn.executemany(sql, rows)
                    progress(len(rows))
                if "id" in columns:
                    dst.execute(
                        "SELECT setval(pg_get_serial_sequence(?, 'id'),"
                        f" greatest((SELECT max(id) FROM {table}), 1))",
                        [table],
                    )
            rebuild_rollup(dst)  # type: ignore[arg-type]  # the engine-neutral handle
            for trigger in ROLLUP_TRIGGERS:
                dst.execute(f"ALTER TABLE signals ENABLE TRIGGER {trigger}")
        result = []
        for table, _ in tables:
            source, target = _count(src, table), _count(dst, table)
            result.append(Copied(table, source, target, target - before[table]))
        wrong = [c for c in result if c.source != c.target]
        if wrong:
            raise CopyError(
                "row counts differ after the copy (was the target empty?): "
                + ", ".join(f"{c.table} {c.source} vs {c.target}" for c in wrong)
            )
        return result
    finally:
        src.conn.close()
        dst.close()


def _count(db: Any, table: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

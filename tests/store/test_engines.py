"""The storage seam on both engines: migrations recorded and idempotent, `cxbot db migrate`,
and intake exactly-once when several writers (replicas) share one PostgreSQL database."""

from __future__ import annotations

import threading
from pathlib import Path

from click.testing import CliRunner

from cxbot.cli import main
from cxbot.models import Signal
from cxbot.store.intake import DeliveryRecord, store_deliveries
from cxbot.store.migrations import migrations
from cxbot.store.pg import pg_sql
from cxbot.store.writer import migrate, pending_migrations
from tests.kit.postgres import Engine

NAMES = [m.name for m in migrations._migrations]


def test_placeholders_become_psycopg_ones_outside_quotes_only() -> None:
    assert pg_sql("SELECT '?', \"a?\", x FROM t WHERE a = ? AND b LIKE '5%' AND c = ?") == (
        "SELECT '?', \"a?\", x FROM t WHERE a = %s AND b LIKE '5%%' AND c = %s"
    )


def _empty(engine: Engine) -> Engine:
    """The same engine with an empty database (not the migrated template)."""
    if engine.databases is None:
        return engine
    return Engine("postgres", engine.path, engine.databases.fresh(migrated=False))


def test_migrations_apply_once_and_are_recorded(engine: Engine) -> None:
    engine = _empty(engine)
    db = engine.connect()
    try:
        assert pending_migrations(db) == NAMES
        assert migrate(db) == NAMES
        assert migrate(db) == []
        assert pending_migrations(db) == []
        tables = (
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            if engine.is_pg
            else "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
        found = {r[0] for r in db.execute(tables).fetchall()}
        assert {"signals", "events", "customers", "customer_handles", "outbox", "digests", "mutes",
                "daily_rollup", "daily_rollup_lang"} <= found  # fmt: skip
    finally:
        db.conn.close()


def test_db_migrate_on_either_engine(engine: Engine, tmp_path: Path) -> None:
    engine = _empty(engine)
    config = tmp_path / "cxbot.toml"
    config.write_text(f'[database]\npath = "{engine.path}"\n', encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(main, ["db", "migrate", "--config", str(config)], env=engine.env())
    assert first.exit_code == 0, first.output
    assert f"applied {', '.join(NAMES)}" in first.output
    again = runner.invoke(main, ["db", "migrate", "--config", str(config)], env=engine.env())
    assert again.output.endswith("schema up to date\n")


def _record(source: str, *ids: str) -> DeliveryRecord:
    return DeliveryRecord(
        source=source,
        provider="generic",
        received_at="2026-11-20T10:00:00Z",
        body="{}",
        signals=[Signal(external_id=i, kind="review", text=f"text {i}") for i in ids],
    )


def test_replicas_storing_the_same_deliveries_store_each_signal_once(pg_engine: Engine) -> None:
    """Three writers (as three replicas would) store overlapping deliveries at once: every
    (source, external_id) lands once, each accepted exactly once across them, and every
    delivery's answer names the one stored id."""
    engine = pg_engine
    writers = [engine.writer() for _ in range(3)]
    for w in writers:
        w.start()
    results: list[list[tuple[list[int], int]]] = [[] for _ in writers]
    start = threading.Barrier(len(writers))

    def replica(i: int) -> None:
        start.wait()
        futures = [
            writers[i].submit_many(store_deliveries, _record("web", f"k{n}", f"k{n + 1}"))
            for n in range(0, 120)
        ]
        results[i] = [(f.result(30).ids, f.result(30).accepted) for f in futures]

    threads = [threading.Thread(target=replica, args=(i,)) for i in range(len(writers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for w in writers:
        w.close()
    db = engine.connect()
    try:
        rows = db.execute("SELECT external_id, id FROM signals").fetchall()
        events = db.execute("SELECT sum(accepted), count(*) FROM events").fetchone()
    finally:
        db.close()
    stored = dict(rows)
    assert len(rows) == len(stored) == 121  # k0 .. k120, each once
    assert events == (121, 3 * 120)  # accepted once in all; every delivery has its event
    for per_replica in results:
        for n, (ids, _) in enumerate(per_replica):
            assert ids == [stored[f"k{n}"], stored[f"k{n + 1}"]]
    assert sum(accepted for r in results for _, accepted in r) == 121

"""Retention: what is pruned, in bounded steps, on the writer thread.

`prune_events` deletes raw deliveries received before a cutoff (`[retention] events_days`),
at most `limit` rows per call so one call never holds the write lock for long; the daily job
(cxbot/listener/housekeeping.py) calls it until a call prunes fewer than `limit`. Signals stay:
their `event_id` is cleared first (it is a foreign key). Later kinds of retention (signals,
erasure) go here as `prune_<table>` beside it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from cxbot.models import iso_utc
from cxbot.store.writer import connect

PRUNE_STEP = 5000


def prune_events(db: Database, before: datetime, limit: int = PRUNE_STEP) -> int:
    """Delete up to `limit` of the oldest events received before `before`; the number deleted."""
    oldest = "SELECT id FROM events WHERE received_at < ? ORDER BY received_at, id LIMIT ?"
    params = [iso_utc(before), limit]
    # Both statements pick the same rows: they run in one write transaction.
    db.execute(f"UPDATE signals SET event_id = NULL WHERE event_id IN ({oldest})", params)
    return int(db.execute(f"DELETE FROM events WHERE id IN ({oldest})", params).rowcount)


def checkpoint(path: Path, *, vacuum: bool = False) -> tuple[int, int]:
    """SQLite: copy the WAL into the file and truncate it (`vacuum`: then rebuild the file,
    returning freed pages to the disk). (pages before, pages after)."""
    db = connect(path)
    try:
        before = int(db.execute("PRAGMA page_count").fetchone()[0])
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if vacuum:
            db.execute("VACUUM")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return before, int(db.execute("PRAGMA page_count").fetchone()[0])
    finally:
        db.conn.close()

"""The `digests` table: one row per ISO week and channel, the record that makes digests
idempotent. Plain `fn(db, ...)` functions for the writer (and reader) thread, with no imports
from the app, so outbox.py can call `sync_digest_status` without an import cycle.

status: 'queued' (owed: its outbox row exists), 'sent' (with sent_at), 'failed' (the outbox
gave up), 'skipped' (missed by more than grace_hours; never sent).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from cxbot.models import iso_utc


def dedup_key(period: str, channel: str) -> str:
    return f"digest:{period}:{channel}"


def digest_status(db: Database, period: str, channel: str) -> str | None:
    row = db.execute(
        "SELECT status FROM digests WHERE period = ? AND channel = ?", [period, channel]
    ).fetchone()
    return None if row is None else str(row[0])


def enqueue_digest(
    db: Database, period: str, channel: str, payload: dict[str, Any], text: str, now: datetime
) -> bool:
    """The `digests` row and its outbox row, together (one writer job = one transaction);
    False, writing nothing, when the week was already recorded for this channel."""
    stamp = iso_utc(now)
    cur = db.conn.execute(
        "INSERT INTO digests (period, channel, status, created_at, text) VALUES (?, ?, 'queued',"
        " ?, ?) ON CONFLICT (period, channel) DO NOTHING",
        [period, channel, stamp, text],
    )
    if not cur.rowcount:
        return False
    db.conn.execute(
        "INSERT INTO outbox (kind, dedup_key, channel, payload, status, next_attempt_at,"
        " created_at) VALUES ('digest', ?, ?, ?, 'pending', ?, ?) ON CONFLICT (dedup_key)"
        " DO NOTHING",
        [dedup_key(period, channel), channel, json.dumps(payload), stamp, stamp],
    )
    return True


def record_skipped(db: Database, period: str, channel: str, now: datetime) -> bool:
    cur = db.conn.execute(
        "INSERT INTO digests (period, channel, status, created_at) VALUES (?, ?, 'skipped', ?)"
        " ON CONFLICT (period, channel) DO NOTHING",
        [period, channel, iso_utc(now)],
    )
    return bool(cur.rowcount)


def sync_digest_status(db: Database, outbox_id: int) -> None:
    """Copy a digest outbox row's final state ('sent' with its time, or 'failed') into
    `digests`. Call it in the same writer job that marks the outbox row; other kinds: no-op."""
    row = db.execute(
        "SELECT kind, dedup_key, channel, status, sent_at FROM outbox WHERE id = ?", [outbox_id]
    ).fetchone()
    if row is None or row[0] != "digest" or row[3] not in ("sent", "failed"):
        return
    period = str(row[1]).split(":")[1]  # digest:PERIOD:CHANNEL (channel names hold no ':')
    db.execute(
        "UPDATE digests SET status = ?, sent_at = ? WHERE period = ? AND channel = ?",
        [row[3], row[4], period, row[2]],
    )

"""The `digests` table: one row per ISO week and channel, the record that makes digests
idempotent. Plain `fn(db, ...)` functions for the writer (and reader) thread. The outbox row
that delivers a digest is written with it (`cxbot.outbox.rows.owe`); its outcome is copied back
into `digests` by an SQL trigger (migration m004).

status: 'queued' (owed: its outbox row exists), 'sent' (with sent_at), 'failed' (the outbox
gave up), 'skipped' (missed by more than grace_hours; never sent).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from cxbot.digest.render import scrub
from cxbot.models import iso_utc
from cxbot.outbox import rows as outbox
from cxbot.store.engine import is_pg


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
    outbox.owe(
        db,
        kind="digest",
        dedup_key=outbox.digest_key(period, channel),
        channel=channel,
        now=now,
        payload=json.dumps(payload),
    )
    return True


def forget_quotes(db: Database, signal_ids: list[int], now: datetime) -> tuple[int, int]:
    """Before `signal_ids` are erased: every digest that quoted one of them (its outbox
    message and `digests.text`) has those lines replaced, and a posted one is owed an edit.
    Returns (digests scrubbed, edits owed)."""
    erased, scrubbed, owed = set(signal_ids), 0, 0
    for row in outbox.digest_rows(db):
        payload = json.loads(row["payload"] or "{}")
        quotes = payload.get("quoted") or []
        if not erased.intersection(q["id"] for q in quotes):
            continue
        period = payload.get("period")
        found = db.execute(
            "SELECT text FROM digests WHERE period = ? AND channel = ?", [period, row["channel"]]
        ).fetchone()
        message, text, kept = scrub(payload["message"], str(found[0] or "") if found else "",
                                    quotes, erased)  # fmt: skip
        version = int(payload.get("scrubs", 0)) + 1
        payload.update(message=message, quoted=kept, scrubs=version)
        if found:
            db.execute(
                "UPDATE digests SET text = ? WHERE period = ? AND channel = ?",
                [text, period, row["channel"]],
            )
        owed += outbox.rewrite_digest(db, row["id"], payload, version, now) is not None
        scrubbed += 1
    return scrubbed, owed


def record_skipped(db: Database, period: str, channel: str, now: datetime) -> bool:
    cur = db.conn.execute(
        "INSERT INTO digests (period, channel, status, created_at) VALUES (?, ?, 'skipped', ?)"
        " ON CONFLICT (period, channel) DO NOTHING",
        [period, channel, iso_utc(now)],
    )
    return bool(cur.rowcount)


def installed_at(db: Database) -> datetime | None:
    """When this database was created: its first migration's record (sqlite-utils writes
    `_sqlite_migrations`, store/pg.py `_cxbot_migrations`, both as str(datetime) in UTC)."""
    table = "_cxbot_migrations" if is_pg(db) else "_sqlite_migrations"
    row = db.execute(f"SELECT min(applied_at) FROM {table}").fetchone()
    if row is None or row[0] is None:
        return None
    try:
        return datetime.fromisoformat(str(row[0]))
    except ValueError:
        return None


def delivery_state(db: Database, period: str, channel: str) -> tuple[Any, ...]:
    """(digest status, sent_at, outbox id, outbox status, last error) of a week and channel."""
    row = db.execute(
        "SELECT d.status, d.sent_at, o.id, o.status, o.last_error FROM digests d LEFT JOIN"
        " outbox o ON o.dedup_key = ? WHERE d.period = ? AND d.channel = ?",
        [outbox.digest_key(period, channel), period, channel],
    ).fetchone()
    return tuple(row) if row else (None,) * 5

"""The alerts stage's SQL: the `mutes` table, an alert's status columns on `signals`, and the
counts the spike rules compare. Outbox rows are written by `cxbot.outbox.rows`, never here.

Mutes: `/cx mute RULE DURATION`, `/cx unmute RULE`, and the list `/cx alerts` shows. The
writes run on the writer thread (the caller queues them); `active_mutes` reads the same table
when deciding alerts, comparing `until` with the clock as ISO text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from cxbot.models import iso_utc
from cxbot.store.engine import is_pg
from cxbot.store.intake import BACKFILL_EVENT_TYPE


@dataclass(frozen=True)
class Mute:
    rule: str
    until: str  # ISO-8601 UTC
    muted_by: str | None
    created_at: str


def list_mutes(db: Database, now: datetime) -> list[Mute]:
    """Mutes still in force at `now` (expired rows are harmless and ignored)."""
    return [
        Mute(*row)
        for row in db.execute(
            "SELECT rule, until, muted_by, created_at FROM mutes WHERE until > ? ORDER BY rule",
            [iso_utc(now)],
        )
    ]


def mute_rule(db: Database, rule: str, until: datetime, by: str | None, now: datetime) -> Mute:
    """Mute `rule` until `until`; muting again replaces the end time (idempotent per click)."""
    mute = Mute(rule, iso_utc(until), by, iso_utc(now))
    db.execute(
        "INSERT INTO mutes (rule, until, muted_by, created_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (rule) DO UPDATE SET until = excluded.until,"
        " muted_by = excluded.muted_by, created_at = excluded.created_at",
        [mute.rule, mute.until, mute.muted_by, mute.created_at],
    )
    return mute


def unmute_rule(db: Database, rule: str, now: datetime | None = None) -> bool:
    """Lift the mute; True when one was in force (at `now`, or at all when `now` is None)."""
    if now is None:
        return db.execute("DELETE FROM mutes WHERE rule = ?", [rule]).rowcount > 0
    active = db.execute(
        "SELECT 1 FROM mutes WHERE rule = ? AND until > ?", [rule, iso_utc(now)]
    ).fetchone()
    db.execute("DELETE FROM mutes WHERE rule = ?", [rule])
    return active is not None


def active_mutes(db: Database, now: datetime) -> set[str]:
    return {r[0] for r in db.execute("SELECT rule FROM mutes WHERE until > ?", [iso_utc(now)])}


def negative_count(db: Database, by: str, key: str, start: datetime, end: datetime) -> int:
    """Negative signals created in [start, end) from a source (`by` = "source") or on a topic."""
    if by == "source":
        where = "source = ?"
    elif is_pg(db):
        where = "EXISTS (SELECT 1 FROM cxbot_topics(signals.topics) t WHERE t = ?)"
    else:
        where = "EXISTS (SELECT 1 FROM json_each(signals.topics) WHERE value = ?)"
    return int(
        db.execute(
            f"SELECT count(*) FROM signals WHERE created_at >= ? AND created_at < ?"
            f" AND sentiment_label = 'negative' AND {where}",
            [iso_utc(start), iso_utc(end), key],
        ).fetchone()[0]
    )


def signal_status(db: Database, signal_id: int) -> tuple[str, str | None] | None:
    """(status, assignee) of a signal, None when there is no such signal."""
    found = db.execute("SELECT status, assignee FROM signals WHERE id = ?", [signal_id]).fetchone()
    return None if found is None else (str(found[0]), found[1])


def set_status(
    db: Database, signal_id: int, status: str, assignee: str | None, by: str, now: datetime
) -> None:
    """Record a status change with who and when; the first acknowledgement and resolution
    times are kept for the digest's response figures."""
    stamp = iso_utc(now)
    db.execute(
        """UPDATE signals SET status = ?, assignee = ?, status_by = ?, status_at = ?,
             acknowledged_at = coalesce(acknowledged_at, ?),
             resolved_at = CASE WHEN ? = 'resolved' THEN ? ELSE resolved_at END
           WHERE id = ?""",
        [status, assignee, by, stamp, stamp, status, stamp, signal_id],
    )


def backfilled_ids(db: Database, ids: list[int]) -> set[int]:
    """The signals among `ids` that a source's first poll brought (history, never alerted)."""
    if not ids:
        return set()
    if is_pg(db):
        where = "s.id = ANY(?)"
        arg: object = list(ids)
    else:
        where = "s.id IN (SELECT value FROM json_each(?))"
        arg = json.dumps(ids)
    rows = db.execute(
        "SELECT s.id FROM signals s JOIN events e ON e.id = s.event_id"
        f" WHERE {where} AND e.event_type = ?",
        [arg, BACKFILL_EVENT_TYPE],
    ).fetchall()
    return {int(r[0]) for r in rows}

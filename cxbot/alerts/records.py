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


@dataclass(frozen=True)
class Lifecycle:
    """An alert's state on its signal row; `version` counts status changes (compare-and-set)."""

    status: str
    assignee: str | None
    snoozed_until: str | None = None  # ISO UTC, or "customer"
    snoozed_from: str | None = None
    version: int = 0


def signal_status(db: Database, signal_id: int) -> tuple[str, str | None] | None:
    """(status, assignee) of a signal, None when there is no such signal."""
    found = db.execute("SELECT status, assignee FROM signals WHERE id = ?", [signal_id]).fetchone()
    return None if found is None else (str(found[0]), found[1])


def lifecycle_of(db: Database, signal_id: int) -> Lifecycle | None:
    found = db.execute(
        "SELECT status, assignee, snoozed_until, snoozed_from, status_version FROM signals"
        " WHERE id = ?",
        [signal_id],
    ).fetchone()
    if found is None:
        return None
    status, assignee, until, before, version = found
    return Lifecycle(str(status), assignee, until, before, int(version))


def set_lifecycle(
    db: Database, signal_id: int, version: int, after: Lifecycle, by: str | None, now: datetime
) -> bool:
    """Record a change with who and when, if the row is still at `version` (False: someone
    else changed it first). `by` None (a wake-up) keeps who set the status. The first acknowledgement and resolution times are kept for the
    SLAs and the digest (a snooze is not an acknowledgement); a regression stamps
    `regressed_at` and counts in `reopened`."""
    stamp = iso_utc(now)
    regressed = after.status == "regressed"
    cur = db.execute(
        """UPDATE signals SET status = ?, assignee = ?, status_by = coalesce(?, status_by), status_at = ?,
             snoozed_until = ?, snoozed_from = ?, status_version = status_version + 1,
             acknowledged_at = CASE WHEN ? THEN coalesce(acknowledged_at, ?)
                                    ELSE acknowledged_at END,
             resolved_at = CASE WHEN ? THEN coalesce(resolved_at, ?) ELSE resolved_at END,
             regressed_at = CASE WHEN ? THEN ? ELSE regressed_at END,
             reopened = reopened + ?
           WHERE id = ? AND status_version = ?""",
        [
            after.status,
            after.assignee,
            by,
            stamp,
            after.snoozed_until,
            after.snoozed_from,
            after.status in ("acknowledged", "assigned", "resolved"),
            stamp,
            after.status == "resolved",
            stamp,
            regressed,
            stamp,
            int(regressed),
            signal_id,
            version,
        ],
    )
    return bool(cur.rowcount == 1)


def due_snoozes(db: Database, now: datetime, limit: int = 200) -> list[int]:
    """Snoozed signals whose time has come (not those waiting for the customer)."""
    return [
        int(r[0])
        for r in db.execute(
            "SELECT id FROM signals WHERE snoozed_until IS NOT NULL AND snoozed_until != ?"
            " AND snoozed_until <= ? AND status = 'snoozed' ORDER BY id LIMIT ?",
            ["customer", iso_utc(now), limit],
        )
    ]


def followed_up(
    db: Database, signal_id: int, customer_id: int | None, source: str, thread_key: str | None
) -> list[tuple[int, str, str | None]]:
    """(id, status, resolved_at) of earlier snoozed or resolved signals from the same customer
    or on the same ticket: what a new signal wakes or reopens. Only clicks set these
    statuses, so each had an alert message."""
    where: list[str] = []
    params: list[object] = []
    if customer_id is not None:
        where.append("customer_id = ?")
        params.append(customer_id)
    if thread_key:
        where.append("(source = ? AND thread_key = ?)")
        params += [source, thread_key]
    if not where:
        return []
    rows = db.execute(
        "SELECT id, status, resolved_at FROM signals WHERE id != ? AND status IN"
        f" ('snoozed', 'resolved') AND ({' OR '.join(where)}) ORDER BY id",
        [signal_id, *params],
    ).fetchall()
    return [(int(r[0]), str(r[1]), r[2]) for r in rows]


def record_breach(
    db: Database, signal_id: int, sla: str, stage: str, due: datetime, now: datetime
) -> bool:
    """True the first time an alert's stage is found breached; False ever after."""
    found = db.conn.execute(
        "INSERT INTO sla_breaches (signal_id, sla, stage, due_at, breached_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (signal_id, stage) DO NOTHING RETURNING signal_id",
        (signal_id, sla, stage, iso_utc(due), iso_utc(now)),
    ).fetchone()
    return found is not None


def breaches_of(db: Database, signal_ids: list[int]) -> dict[int, set[str]]:
    """The stages already breached, per signal."""
    out: dict[int, set[str]] = {}
    for at in range(0, len(signal_ids), 500):
        chunk = signal_ids[at : at + 500]
        marks = ", ".join("?" for _ in chunk)
        for sid, stage in db.execute(
            f"SELECT signal_id, stage FROM sla_breaches WHERE signal_id IN ({marks})", chunk
        ):
            out.setdefault(int(sid), set()).add(str(stage))
    return out


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


def breach_counts(db: Database, since: datetime) -> dict[str, int]:
    """SLA breaches found since `since`, per stage ('ack', 'resolve')."""
    return {
        str(stage): int(n)
        for stage, n in db.execute(
            "SELECT stage, count(*) FROM sla_breaches WHERE breached_at >= ? GROUP BY stage",
            [iso_utc(since)],
        )
    }

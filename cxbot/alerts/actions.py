"""Closing the loop: Acknowledge / Assign to me / Resolve, applied idempotently.

Runs on the writer thread, so two clicks (or two people) are serialised: the second sees the
first's result, and a click that changes nothing writes nothing and owes no message update.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from cxbot.models import iso_utc

ACTIONS = {"cx_ack": "acknowledged", "cx_assign": "assigned", "cx_resolve": "resolved"}


@dataclass(frozen=True)
class StatusChange:
    changed: bool
    status: str
    assignee: str | None
    updates: list[int]  # outbox rows owed: a chat.update per alert message of the signal


def next_status(
    current: str, assignee: str | None, action: str, user: str
) -> tuple[str, str | None] | None:
    """Pure: the (status, assignee) after `action` by `user`, or None when nothing changes."""
    if current == "resolved":
        return None
    if action == "cx_ack":
        return ("acknowledged", assignee) if current == "new" else None
    if action == "cx_assign":
        return None if (current == "assigned" and assignee == user) else ("assigned", user)
    if action == "cx_resolve":
        return ("resolved", assignee)
    raise ValueError(f"unknown action {action!r}")


def apply_action(
    db: Database, signal_id: int, action: str, user: str, now: datetime
) -> StatusChange:
    found = db.execute("SELECT status, assignee FROM signals WHERE id = ?", [signal_id]).fetchone()
    if found is None:
        raise LookupError(f"signal {signal_id} not found")
    status, assignee = found
    after = next_status(status, assignee, action, user)
    if after is None:
        return StatusChange(False, status, assignee, [])
    new_status, new_assignee = after
    stamp = iso_utc(now)
    db.execute(
        """UPDATE signals SET status = ?, assignee = ?, status_by = ?, status_at = ?,
             acknowledged_at = coalesce(acknowledged_at, ?),
             resolved_at = CASE WHEN ? = 'resolved' THEN ? ELSE resolved_at END
           WHERE id = ?""",
        [new_status, new_assignee, user, stamp, stamp, new_status, stamp, signal_id],
    )
    updates: list[int] = []
    alerts = db.execute(
        "SELECT id, channel FROM outbox WHERE signal_id = ? AND kind = 'alert' AND status != 'held'",
        [signal_id],
    ).fetchall()
    for alert_id, channel in alerts:
        cur = db.conn.execute(
            "INSERT INTO outbox (kind, dedup_key, channel, signal_id, payload, status,"
            " next_attempt_at, created_at) VALUES ('update', ?, ?, ?, ?, 'pending', ?, ?)"
            " ON CONFLICT (dedup_key) DO NOTHING",
            [
                f"update:{alert_id}:{new_status}:{new_assignee}",
                channel,
                signal_id,
                f'{{"alert_id": {alert_id}}}',
                stamp,
                stamp,
            ],
        )
        if cur.rowcount and cur.lastrowid is not None:
            updates.append(cur.lastrowid)
    return StatusChange(True, new_status, new_assignee, updates)

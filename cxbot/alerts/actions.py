"""Closing the loop: Acknowledge / Assign to me / Resolve, applied idempotently.

Runs on the writer thread, so two clicks (or two people) are serialised: the second sees the
first's result, and a click that changes nothing writes nothing and owes no message update.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from cxbot.alerts.records import set_status, signal_status
from cxbot.outbox import rows as outbox

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
    found = signal_status(db, signal_id)
    if found is None:
        raise LookupError(f"signal {signal_id} not found")
    status, assignee = found
    after = next_status(status, assignee, action, user)
    if after is None:
        return StatusChange(False, status, assignee, [])
    new_status, new_assignee = after
    set_status(db, signal_id, new_status, new_assignee, user, now)
    updates: list[int] = []
    for alert_id, channel in outbox.alert_messages_of(db, signal_id):
        owed = outbox.owe(
            db,
            kind="update",
            dedup_key=outbox.update_key(alert_id, new_status, new_assignee),
            channel=channel,
            now=now,
            signal_id=signal_id,
            payload=json.dumps({"alert_id": alert_id}),
        )
        if owed is not None:
            updates.append(owed)
    return StatusChange(True, new_status, new_assignee, updates)

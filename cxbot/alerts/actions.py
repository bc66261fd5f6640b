"""Closing the loop: acknowledge, assign, snooze, resolve and reopen, applied idempotently.

Runs on the writer thread, so two clicks (or two people) are serialised: the second sees the
first's result, and a click that changes nothing writes nothing and owes no message update.
Across replicas (PostgreSQL) the write is a compare-and-set on `signals.status_version`, and
the updates it owes are keyed by that version, so two replicas applying one click owe one.
`next_state` is the pure transition table; the rest reads and writes through records.py and
outbox/rows.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlite_utils import Database

from cxbot.alerts.records import Lifecycle, lifecycle_of, set_lifecycle
from cxbot.models import iso_utc
from cxbot.outbox import rows as outbox

# Button and menu action ids -> what they do (listener/slack.py routes them all here).
ACTIONS = {
    "cx_ack": "acknowledged",
    "cx_assign": "assigned",
    "cx_assign_to": "assigned",
    "cx_snooze": "snoozed",
    "cx_resolve": "resolved",
    "cx_reopen": "regressed",
}
OPEN = ("new", "acknowledged", "assigned", "snoozed", "regressed")
UNTIL_CUSTOMER = "customer"  # snoozed_until's marker: woken by the customer's next signal
SNOOZES = {"1h": timedelta(hours=1), "8h": timedelta(hours=8), "1d": timedelta(days=1)}
SNOOZE_LABELS = {"1h": "1 hour", "8h": "8 hours", "1d": "1 day"}
SNOOZE_LABELS[UNTIL_CUSTOMER] = "Until the customer writes again"
# A second click on the same snooze option moments later is a double click, not a new snooze.
_SAME_SNOOZE = timedelta(minutes=1)


@dataclass(frozen=True)
class StatusChange:
    changed: bool
    status: str
    assignee: str | None
    updates: list[int]  # outbox rows owed: message updates and thread notes


def snooze_until(option: str, now: datetime) -> str:
    """The stored end of a snooze: an ISO time, or the marker for "until the customer writes"."""
    if option == UNTIL_CUSTOMER:
        return UNTIL_CUSTOMER
    if option not in SNOOZES:
        raise ValueError(f"unknown snooze option {option[:20]!r}")
    return iso_utc(now + SNOOZES[option])


def _same_snooze(old: str | None, new: str) -> bool:
    if old is None or UNTIL_CUSTOMER in (old, new):
        return old == new
    gap = datetime.fromisoformat(new) - datetime.fromisoformat(old)
    return abs(gap) < _SAME_SNOOZE


def next_state(
    state: Lifecycle, action: str, target: str | None = None, until: str | None = None
) -> Lifecycle | None:
    """Pure: the lifecycle after `action`, or None when nothing changes. `target` is the
    assignee for cx_assign / cx_assign_to; `until` the snooze end (`snooze_until`)."""
    status = state.status
    woken = replace(state, snoozed_until=None, snoozed_from=None)
    if action == "cx_reopen":
        return replace(woken, status="regressed") if status == "resolved" else None
    if action == "wake":
        if status != "snoozed":
            return None
        return replace(woken, status=state.snoozed_from or "new")
    if action == "regress":  # the customer wrote again after the alert was resolved
        return replace(woken, status="regressed") if status == "resolved" else None
    if status == "resolved":
        return None
    if action == "cx_ack":
        return replace(woken, status="acknowledged") if status in ("new", "regressed") else None
    if action in ("cx_assign", "cx_assign_to"):
        if not target:
            raise ValueError("assigning needs a user")
        if status == "assigned" and state.assignee == target:
            return None
        return replace(woken, status="assigned", assignee=target)
    if action == "cx_snooze":
        if until is None:
            raise ValueError("snoozing needs an end")
        if status == "snoozed" and _same_snooze(state.snoozed_until, until):
            return None
        before = state.snoozed_from if status == "snoozed" else status
        return replace(state, status="snoozed", snoozed_until=until, snoozed_from=before)
    if action == "cx_resolve":
        return replace(woken, status="resolved")
    raise ValueError(f"unknown action {action[:40]!r}")


def next_status(
    current: str, assignee: str | None, action: str, user: str
) -> tuple[str, str | None] | None:
    """Pure: the (status, assignee) after a button by `user`, or None when nothing changes."""
    after = next_state(Lifecycle(current, assignee), action, target=user)
    return None if after is None else (after.status, after.assignee)


def apply_action(
    db: Database,
    signal_id: int,
    action: str,
    user: str,
    now: datetime,
    target: str | None = None,
    option: str | None = None,
) -> StatusChange:
    """A click: `target` is a picked user (cx_assign_to), `option` a snooze option."""
    state = lifecycle_of(db, signal_id)
    if state is None:
        raise LookupError(f"signal {signal_id} not found")
    until = snooze_until(option or "", now) if action == "cx_snooze" else None
    who = target if action == "cx_assign_to" else user
    after = next_state(state, action, target=who, until=until)
    if after is None:
        return StatusChange(False, state.status, state.assignee, [])
    return change(db, signal_id, state, after, user, now, note=_note(action, after, user))


def _note(action: str, after: Lifecycle, user: str) -> str | None:
    """The thread reply a click owes, besides the message edit."""
    if action == "cx_assign_to" and after.assignee and after.assignee != user:
        return f"<@{after.assignee}> you were assigned by <@{user}>"
    return None


def change(
    db: Database,
    signal_id: int,
    state: Lifecycle,
    after: Lifecycle,
    by: str | None,
    now: datetime,
    note: str | None = None,
) -> StatusChange:
    """Write `after` if the signal is still at `state`'s version; owe the edits (and note)."""
    if not set_lifecycle(db, signal_id, state.version, after, by, now):
        fresh = lifecycle_of(db, signal_id) or state  # another replica was first
        return StatusChange(False, fresh.status, fresh.assignee, [])
    version = state.version + 1
    owed = owe_updates(db, signal_id, version, now)
    if note is not None:
        owed += outbox.owe_note(db, signal_id, note, f"{signal_id}:v{version}", now)
    return StatusChange(True, after.status, after.assignee, owed)


def owe_updates(db: Database, signal_id: int, version: int, now: datetime) -> list[int]:
    """A chat.update of every alert message of the signal, once per status version."""
    updates: list[int] = []
    for alert_id, channel in outbox.alert_messages_of(db, signal_id):
        owed = outbox.owe(
            db,
            kind="update",
            dedup_key=outbox.update_key(alert_id, version),
            channel=channel,
            now=now,
            signal_id=signal_id,
            payload=json.dumps({"alert_id": alert_id}),
        )
        if owed is not None:
            updates.append(owed)
    return updates

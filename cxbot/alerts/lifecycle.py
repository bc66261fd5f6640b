"""What changes an alert without a click: wake-ups, regressions and SLA breaches.

Two entry points, both plain `fn(db, ...)` for the writer thread, both returning the outbox
rows they owe (the caller pokes the outbox):
- `after_signals`, in the enrichment's write job right after the alerts are decided: the
  customer (or ticket) wrote again, so their snoozed alerts wake, and a *negative* new signal
  reopens their latest resolved alert as regressed.
- `tick`, every LIFECYCLE_SECONDS (cxbot/listener/housekeeping.py): snoozes whose time has
  come wake, and SLA stages past due are reported once (a thread note and a post in the
  escalation channel). A snoozed alert is skipped until it wakes; `sla_breaches` remembers
  what was reported, across restarts and replicas.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from cxbot.alerts.actions import UNTIL_CUSTOMER, change, next_state
from cxbot.alerts.records import (
    backfilled_ids,
    breaches_of,
    due_snoozes,
    followed_up,
    lifecycle_of,
    record_breach,
)
from cxbot.alerts.sla import Clock, SlaRule, breaches, clocks
from cxbot.models import iso_utc
from cxbot.outbox import rows as outbox
from cxbot.slack.blocks import CXBOT
from cxbot.slack.text import escape, one_line, trim, user, when
from cxbot.store.edits import previous_versions

LIFECYCLE_SECONDS = 30  # how often `tick` runs in `cxbot serve`
SLA_HORIZON = timedelta(days=90)  # alerts older than this are not timed any more
_SNIPPET = 120


def _who(row: Mapping[str, Any]) -> str:
    name = row.get("author_name") or row.get("author_handle") or "The customer"
    return f"*{escape(one_line(str(name)))}*"


def _snippet(row: Mapping[str, Any]) -> str:
    text = one_line(str(row.get("title") or row.get("text") or ""))
    return f": “{trim(escape(text), _SNIPPET)}”" if text else ""


def _apply(
    db: Database, signal_id: int, action: str, by: str | None, now: datetime, note: str
) -> list[int]:
    state = lifecycle_of(db, signal_id)
    after = None if state is None else next_state(state, action)
    if state is None or after is None:
        return []
    return change(db, signal_id, state, after, by, now, note=note).updates


def after_signals(db: Database, rows: Sequence[Mapping[str, Any]], now: datetime) -> list[int]:
    """The fresh signals' effect on earlier alerts of the same customer or ticket."""
    ids = [int(r["id"]) for r in rows]
    # History (a first poll) and edits of an old signal are not the customer writing again.
    skip = backfilled_ids(db, ids) | previous_versions(db, ids).keys()
    owed: list[int] = []
    for row in rows:
        if row["id"] in skip:
            continue
        earlier = [
            found
            for found in followed_up(
                db, row["id"], row.get("customer_id"), row["source"], row.get("thread_key")
            )
            if found[0] < row["id"]
        ]
        wrote = f"{_who(row)} wrote again (signal {row['id']}){_snippet(row)}"
        for signal_id, status, _ in earlier:
            if status == "snoozed":
                note = f":alarm_clock: Back from snooze: {wrote}"
                owed += _apply(db, signal_id, "wake", None, now, note)
        resolved = [
            sid
            for sid, status, resolved_at in earlier
            if status == "resolved" and str(row.get("created_at") or "") > str(resolved_at or "")
        ]
        if resolved and row.get("sentiment_label") == "negative":
            note = f":repeat: Regressed: {wrote}"
            owed += _apply(db, max(resolved), "regress", CXBOT, now, note)
    return owed


def tick(db: Database, now: datetime, slas: Sequence[SlaRule], tz: ZoneInfo) -> list[int]:
    """Wake the snoozes that are due, then report the SLA breaches not reported yet."""
    owed: list[int] = []
    for signal_id in due_snoozes(db, now):
        owed += _apply(
            db, signal_id, "wake", None, now, ":alarm_clock: Snooze over: back on the list"
        )
    if slas:
        owed += report_breaches(db, now, slas, tz)
    return owed


def open_clocks(db: Database, now: datetime, slas: Sequence[SlaRule], tz: ZoneInfo) -> list[Clock]:
    """Every running SLA stage of the alerts still open (what `/cx sla` lists)."""
    alerts = [
        {**a, "rules": json.loads(a["rules"] or "[]")}
        for a in outbox.open_alerts(db, iso_utc(now - SLA_HORIZON))
    ]
    return clocks(alerts, slas, tz, now)


def breach_text(clock: Clock, slas: Sequence[SlaRule]) -> str:
    sla = next(s for s in slas if s.rule == clock.sla)
    what = "acknowledged" if clock.stage == "ack" else "resolved"
    within = sla.ack_within if clock.stage == "ack" else sla.resolve_within
    hours = " business time" if sla.business_hours else ""
    rule = "`" + escape(clock.sla.replace("`", "'")) + "`"
    return f":rotating_light: SLA breached: not {what} within {within}{hours} (rule {rule}, due {when(iso_utc(clock.due))})"


def report_breaches(
    db: Database, now: datetime, slas: Sequence[SlaRule], tz: ZoneInfo
) -> list[int]:
    running = open_clocks(db, now, slas, tz)
    already = breaches_of(db, sorted({c.signal_id for c in running if c.breached}))
    by_rule = {s.rule: s for s in slas}
    owed: list[int] = []
    for clock in breaches(running, already):
        if not record_breach(db, clock.signal_id, clock.sla, clock.stage, clock.due, now):
            continue  # another replica reported it first
        text = breach_text(clock, slas)
        key = f"sla:{clock.signal_id}:{clock.stage}"
        owed += outbox.owe_note(db, clock.signal_id, text, key, now)
        channel = by_rule[clock.sla].escalate_to
        if channel:
            alert = clock.alert
            owner = f" · assigned to {user(alert['assignee'])}" if alert.get("assignee") else ""
            post = f"{text}\nSignal {clock.signal_id} in {escape(str(alert['channel']))}{owner}{_snippet(alert)}"
            new = outbox.owe_post(db, channel, post, f"{key}:{channel}", now, clock.signal_id)
            owed += [new] if new is not None else []
    return owed


__all__ = ["LIFECYCLE_SECONDS", "UNTIL_CUSTOMER", "after_signals", "open_clocks", "tick"]

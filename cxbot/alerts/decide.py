"""Deciding alerts, inside the enrichment's write job: rules → outbox rows in one transaction.

An alert is owed the moment its row is committed; cxbot/outbox/worker.py delivers it. Each row has a
`dedup_key` (UNIQUE), so deciding twice for the same signal, channel or window writes nothing
twice. Held alerts (over a rule's throttle) are not sent one by one: they hang off one roll-up
row that is delivered when the window closes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from cxbot.alerts.records import active_mutes, backfilled_ids, negative_count
from cxbot.alerts.rules import (
    AlertPolicy,
    AlertRule,
    Facts,
    SpikeRule,
    VipList,
    alerts_for,
    spike_detected,
)
from cxbot.models import iso_utc
from cxbot.outbox import rows as outbox
from cxbot.store.edits import previous_versions

THREAD_HORIZON = timedelta(
    days=7
)  # a customer's next signal within this joins the first alert's thread


def facts_of(row: dict[str, Any], vip: VipList) -> Facts:
    topics = row.get("topics") or []
    if isinstance(topics, str):
        topics = json.loads(topics)
    return Facts(
        source=row["source"],
        kind=row["kind"],
        text=row.get("text"),
        title=row.get("title"),
        rating=row.get("rating"),
        score=row.get("score"),
        score_type=row.get("score_type"),
        lang=row.get("lang"),
        sentiment=row.get("sentiment"),
        sentiment_label=row.get("sentiment_label"),
        topics=tuple(topics),
        urgency=row.get("urgency") or 0,
        intent=row.get("intent"),
        vip=vip.contains(row.get("author_email")),
    )


def _thread_parent(db: Database, row: dict[str, Any], channel: str, now: datetime) -> int | None:
    """The first alert in this channel for the same ticket, else for the same customer."""
    since = iso_utc(now - THREAD_HORIZON)
    if row.get("thread_key"):
        found = outbox.first_alert_in_thread(
            db, channel, since, source=row["source"], thread_key=row["thread_key"]
        )
        if found is not None:
            return found
    if row.get("customer_id") is not None:
        return outbox.first_alert_in_thread(
            db, channel, since, customer_id=row["customer_id"], not_signal=row["id"]
        )
    return None


def _sent_in_window(db: Database, rule: AlertRule, channel: str, now: datetime) -> int:
    since = iso_utc(now - timedelta(minutes=rule.window_minutes))
    return outbox.alerts_sent_since(db, rule.name, channel, since)


def _held_summary_for(db: Database, rule: AlertRule, channel: str, now: datetime) -> int:
    """The held-alerts summary of the current window, created on first need, due at its end."""
    window = timedelta(minutes=rule.window_minutes)
    bucket = int(now.timestamp() // window.total_seconds())
    key = outbox.held_summary_key(rule.name, channel, bucket)
    due = datetime.fromtimestamp((bucket + 1) * window.total_seconds(), now.tzinfo)
    outbox.owe(
        db,
        kind="rollup",
        dedup_key=key,
        channel=channel,
        now=now,
        due=due,
        rule=rule.name,
        rules=json.dumps([rule.name]),
        payload=json.dumps({"window_minutes": rule.window_minutes}),
    )
    return outbox.id_of(db, key)


def _owed(
    row: dict[str, Any], before: dict[str, Any] | None, policy: AlertPolicy, muted: set[str]
) -> dict[str, list[str]]:
    """Channel -> rules for this signal; for an edited one, only the rules its previous
    version did not match (a 5★ turned 1★ alerts, a typo fix does not)."""
    owed = alerts_for(facts_of(row, policy.vip), policy.rules, muted)
    if before is None:
        return owed
    old = alerts_for(facts_of({**row, **before}, policy.vip), policy.rules, muted)
    return {ch: names for ch, names in owed.items() if set(names) - set(old.get(ch, []))}


def decide_alerts(
    db: Database, rows: Sequence[dict[str, Any]], now: datetime, policy: AlertPolicy
) -> list[int]:
    """Write the alerts these freshly enriched signals need; returns the new outbox ids."""
    if not policy.rules and not policy.spikes:
        return []
    ids = [row["id"] for row in rows]
    # History (a source's first poll) never alerts, unless edited since: an edit is news.
    before = previous_versions(db, ids)
    history = backfilled_ids(db, ids) - before.keys()
    rows = [row for row in rows if row["id"] not in history]
    muted = active_mutes(db, now)
    by_name = {r.name: r for r in policy.rules}
    created: list[int] = []
    for row in rows:
        for channel, names in _owed(row, before.get(row["id"]), policy, muted).items():
            lead = by_name[names[0]]  # throttling counts against the first matching rule
            held = _sent_in_window(db, lead, channel, now) >= lead.max_per_window
            new_id = outbox.owe(
                db,
                kind="alert",
                dedup_key=outbox.alert_key(row["id"], channel),
                channel=channel,
                now=now,
                status="held" if held else "pending",
                signal_id=row["id"],
                rule=lead.name,
                rules=json.dumps(names),
                rollup_id=_held_summary_for(db, lead, channel, now) if held else None,
                thread_of=None if held else _thread_parent(db, row, channel, now),
            )
            if new_id is not None and not held:
                created.append(new_id)
    created.extend(_decide_spikes(db, rows, now, policy.spikes, muted))
    return created


def _decide_spikes(
    db: Database,
    rows: Sequence[dict[str, Any]],
    now: datetime,
    spikes: Sequence[SpikeRule],
    muted: set[str],
) -> list[int]:
    created: list[int] = []
    negatives = [r for r in rows if r.get("sentiment_label") == "negative"]
    for rule in spikes:
        if rule.name in muted or not negatives:
            continue
        keys = (
            {r["source"] for r in negatives}
            if rule.by == "source"
            else {t for r in negatives for t in (r.get("topics") or [])}
        )
        window = timedelta(minutes=rule.window_minutes)
        # One alert per spike and window: the bucket is in the key, so a spike that lasts is
        # reported again at most once per window length.
        bucket = int(now.timestamp() // window.total_seconds())
        for key in sorted(keys):
            dedup = outbox.spike_key(rule.name, key, bucket)
            if outbox.is_owed(db, dedup):
                continue
            recent = negative_count(db, rule.by, key, now - window, now + timedelta(seconds=1))
            baseline = [
                negative_count(
                    db, rule.by, key, now - timedelta(days=d) - window, now - timedelta(days=d)
                )
                for d in range(1, rule.baseline_days + 1)
            ]
            if not spike_detected(recent, baseline, rule):
                continue
            new_id = outbox.owe(
                db,
                kind="spike",
                dedup_key=dedup,
                channel=rule.channel,
                now=now,
                rule=rule.name,
                rules=json.dumps([rule.name]),
                payload=json.dumps(
                    {
                        "by": rule.by,
                        "key": key,
                        "recent": recent,
                        "baseline": sum(baseline) / len(baseline),
                        "window_minutes": rule.window_minutes,
                    }
                ),
            )
            if new_id is not None:
                created.append(new_id)
    return created

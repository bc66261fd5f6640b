"""`/cx customer`: one customer's profile across channels, found by email or by handle.

A read function for the reader thread, like queries.py; profiles are built by enrichment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from cxbot.cx.queries import SignalRow, signal_rows
from cxbot.models import iso_utc


@dataclass(frozen=True)
class ChannelStats:
    source: str
    kind: str
    n: int
    negative: int
    avg_sentiment: float | None
    last_at: str


@dataclass(frozen=True)
class AlertRow:
    outbox_id: int
    rules: list[str]
    status: str  # delivery status: pending / sent / failed
    created_at: str
    signal: SignalRow


@dataclass(frozen=True)
class CustomerProfile:
    id: int
    name: str | None
    email: str | None
    handles: list[tuple[str, str]]  # (provider, handle)
    first_seen: str
    last_seen: str
    signal_count: int
    avg_sentiment: float | None
    channels: list[ChannelStats]
    sentiment_points: list[tuple[str, float]]  # (created_at, sentiment), oldest first
    open_alerts: list[AlertRow]
    open_alert_count: int
    recent: list[SignalRow]


def find_customer(db: Database, who: str) -> int | None:
    """An email matches `customers.email`; anything else is a handle on any provider."""
    who = who.strip()
    if "@" in who[1:]:
        row = db.execute(
            "SELECT id FROM customers WHERE email IN (?, ?) ORDER BY last_seen DESC LIMIT 1",
            [who, who.lower()],
        ).fetchone()
    else:
        bare = who.lstrip("@")
        row = db.execute(
            "SELECT h.customer_id FROM customer_handles h JOIN customers c ON c.id ="
            " h.customer_id WHERE h.handle IN (?, ?, ?, ?) ORDER BY c.last_seen DESC LIMIT 1",
            [bare, "@" + bare, bare.lower(), "@" + bare.lower()],
        ).fetchone()
    return int(row[0]) if row else None


def customer_profile(
    db: Database, who: str, *, since: datetime, recent: int = 5
) -> CustomerProfile | None:
    """Profile across channels; `since` bounds the sentiment trend (e.g. a year back)."""
    cid = find_customer(db, who)
    if cid is None:
        return None
    c = db.execute(
        "SELECT id, name, email, first_seen, last_seen, signal_count, avg_sentiment"
        " FROM customers WHERE id = ?",
        [cid],
    ).fetchone()
    handles = [
        (r[0], r[1])
        for r in db.execute(
            "SELECT provider, handle FROM customer_handles WHERE customer_id = ?"
            " ORDER BY provider, handle",
            [cid],
        )
    ]
    channels = [
        ChannelStats(*r)
        for r in db.execute(
            "SELECT source, kind, count(*), coalesce(sum(sentiment_label = 'negative'), 0),"
            " avg(sentiment), max(created_at) FROM signals WHERE customer_id = ? GROUP BY source, kind"
            " ORDER BY count(*) DESC, source",
            [cid],
        )
    ]
    points = [
        (r[0], float(r[1]))
        for r in db.execute(
            "SELECT created_at, sentiment FROM signals WHERE customer_id = ? AND created_at >= ?"
            " AND sentiment IS NOT NULL ORDER BY created_at",
            [cid, iso_utc(since)],
        )
    ]
    # Open = the signal the alert was about is not resolved yet, whatever the delivery status.
    open_where = (
        "FROM signals s JOIN outbox o ON o.signal_id = s.id WHERE s.customer_id = ?"
        " AND s.status <> 'resolved'"
    )
    alert_rows = db.execute(
        f"SELECT o.id, o.rules, o.status, o.created_at, s.id {open_where}"
        " ORDER BY o.created_at DESC LIMIT 5",
        [cid],
    ).fetchall()
    alert_count = db.execute(f"SELECT count(*) {open_where}", [cid]).fetchone()[0]
    signals = {r.id: r for r in signal_rows(db, [r[4] for r in alert_rows])}
    alerts = [AlertRow(r[0], _rule_names(r[1]), r[2], r[3], signals[r[4]]) for r in alert_rows]
    recent_ids = [
        r[0]
        for r in db.execute(
            "SELECT id FROM signals WHERE customer_id = ? ORDER BY created_at DESC LIMIT ?",
            [cid, recent],
        )
    ]
    return CustomerProfile(
        id=c[0],
        name=c[1],
        email=c[2],
        handles=handles,
        first_seen=c[3],
        last_seen=c[4],
        signal_count=c[5],
        avg_sentiment=c[6],
        channels=channels,
        sentiment_points=points,
        open_alerts=alerts,
        open_alert_count=alert_count,
        recent=signal_rows(db, recent_ids),
    )


def _rule_names(raw: str | None) -> list[str]:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []

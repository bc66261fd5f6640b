"""Reads shared by the query side (`/cx` and the digest): signal rows for lists, and the topic and column values seen (for hints and filters)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from cxbot.metrics import Counts
from cxbot.models import Filters, SignalRow, iso_utc
from cxbot.store.engine import is_pg
from cxbot.store.rollup import (
    ROLLUP_SUMS,
    plan,
    raw_sums,
    raw_where,
    rolled_up,
    rollup_source,
    rollup_timezone,
)


def known_topics(db: Database, limit: int = 500) -> list[str]:
    """Distinct topics, by seeking the rollup's primary key topic by topic (no scan)."""
    found: list[str] = []
    last = ""
    while len(found) < limit:
        row = db.execute(
            "SELECT topic FROM daily_rollup WHERE topic > ? ORDER BY topic LIMIT 1", [last]
        ).fetchone()
        if row is None:
            break
        last = row[0]
        found.append(last)
    return found


def topic_list(raw: str | None) -> list[str]:
    """The topics of a signal as the rollup's SQL reads them (json_each: text values, once)."""
    try:
        value = json.loads(raw) if raw else []
    except ValueError:
        return []
    items = (
        value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
    )
    out: list[str] = []
    for item in items:
        if isinstance(item, str) and item and item not in out:
            out.append(item)
    return out


SIGNAL_ROW_SQL = (
    "s.id, s.created_at, s.source, s.kind, s.title, substr(s.text, 1, 400), s.url, s.rating,"
    " s.score, s.score_type, s.sentiment, s.sentiment_label,"
    " coalesce(s.author_name, s.author_handle, s.author_email), s.status"
)


def signal_rows(db: Database, ids: Sequence[int]) -> list[SignalRow]:
    """The signals with these ids, in this order."""
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    found = {
        r[0]: SignalRow(*r)
        for r in db.execute(
            f"SELECT {SIGNAL_ROW_SQL} FROM signals s WHERE s.id IN ({marks})", list(ids)
        )
    }
    return [found[i] for i in ids if i in found]


def known_values(db: Database, column: str, limit: int = 200) -> list[str]:
    """Distinct sources or kinds, seeking their index value by value (for "did you mean")."""
    if column not in ("source", "kind"):
        return []
    found: list[str] = []
    last = ""
    while len(found) < limit:
        row = db.execute(
            f"SELECT {column} FROM signals WHERE {column} > ? ORDER BY {column} LIMIT 1", [last]
        ).fetchone()
        if row is None:
            break
        last = row[0]
        found.append(last)
    return found


def unenriched_count(db: Database) -> int:
    """Signals stored but not enriched yet: `/healthz` reports it as the backlog."""
    return int(db.execute("SELECT count(*) FROM signals WHERE enriched_at IS NULL").fetchone()[0])


# --- the dashboard's reads (cxbot/dashboard/data.py) ----------------------------------------


def grouped_counts(
    db: Database, start: datetime, end: datetime, filters: Filters, by: Sequence[str]
) -> dict[tuple[str, ...], Counts]:
    """Exact Counts in [start, end) per value of the `by` columns (source, kind, lang): the
    rollup's whole days plus the raw edges, as `window_counts` reads one window."""
    assert by and set(by) <= {"source", "kind", "lang"}, by
    pg = is_pg(db)
    out: dict[tuple[str, ...], Counts] = defaultdict(Counts)
    cols = ", ".join(by)
    p = plan(start, end, rollup_timezone(db)) if rolled_up(filters) else None
    raws = p.raws if p is not None else ((start, end, 1),)
    if p is not None and p.days is not None:
        table, where, params = rollup_source(filters, pg=pg)
        if "lang" in by:
            table = "daily_rollup_lang"
        for row in db.execute(
            f"SELECT {cols}, {ROLLUP_SUMS} FROM {table} WHERE {where}"
            f" AND day >= ? AND day <= ? GROUP BY {cols}",
            [*params, p.days[0].isoformat(), p.days[1].isoformat()],
        ):
            out[tuple(row[: len(by)])] += Counts.of(row[len(by) :])
    raw_cols = ", ".join("coalesce(lang, '')" if c == "lang" else c for c in by)
    where, params = raw_where(filters, pg=pg)
    for a, b, sign in raws:
        for row in db.execute(
            f"SELECT {raw_cols}, {raw_sums()} FROM signals WHERE created_at >= ?"
            f" AND created_at < ? AND {where} GROUP BY {raw_cols}",
            [iso_utc(a), iso_utc(b), *params],
        ):
            key, counts = tuple(row[: len(by)]), Counts.of(row[len(by) :])
            out[key] = out[key] + counts if sign > 0 else out[key] - counts
    return {k: v for k, v in out.items() if v.n}


# Open: the signal an alert was about is not resolved, whatever the message's delivery.
# CROSS JOIN keeps outbox the outer loop in SQLite: with a filter such as source = ? it would
# otherwise walk that source's signals by index (1.3 s on 1M signals, benchmarks/dashboard.py)
# instead of the few alert rows. PostgreSQL plans the same text freely.
_ALERTS = "FROM outbox o CROSS JOIN signals s WHERE s.id = o.signal_id AND o.kind = 'alert'"


@dataclass(frozen=True)
class OpenAlert:
    alert_id: int
    rules: str  # JSON list, as stored
    slack_channel: str | None
    slack_ts: str | None
    alerted_at: str
    signal: SignalRow
    assignee: str | None


def open_alerts(db: Database, filters: Filters, limit: int = 50) -> list[OpenAlert]:
    """The newest alerts whose signal is not resolved, one per signal (its first message)."""
    where, params = raw_where(filters, "s.", pg=is_pg(db))
    rows = db.execute(
        "SELECT o.id, o.rules, o.slack_channel, o.slack_ts, o.created_at, s.id, s.assignee"
        f" {_ALERTS} AND s.status <> 'resolved' AND {where} ORDER BY o.id DESC LIMIT ?",
        [*params, limit * 4],
    ).fetchall()
    first: dict[int, Any] = {}
    for row in rows:  # newest first: the last seen per signal is its first alert
        first[int(row[5])] = row
    ids = sorted(first, reverse=True)[:limit]
    found = {r.id: r for r in signal_rows(db, ids)}
    return [
        OpenAlert(int(r[0]), str(r[1]), r[2], r[3], str(r[4]), found[sid], r[6])
        for sid in ids
        if sid in found and (r := first[sid]) is not None
    ]


def alert_loop(
    db: Database, start: datetime, end: datetime, filters: Filters
) -> list[tuple[str, str | None, str, str | None]]:
    """(status, assignee, first alerted at, acknowledged at) of each signal alerted in the window."""
    where, params = raw_where(filters, "s.", pg=is_pg(db))
    return [
        (str(r[0]), r[1], str(r[2]), r[3])
        for r in db.execute(
            f"SELECT s.status, s.assignee, min(o.created_at), s.acknowledged_at {_ALERTS}"
            f" AND o.created_at >= ? AND o.created_at < ? AND {where}"
            " GROUP BY s.id, s.status, s.assignee, s.acknowledged_at",
            [iso_utc(start), iso_utc(end), *params],
        )
    ]


def open_by_assignee(db: Database, filters: Filters) -> list[tuple[str | None, int]]:
    where, params = raw_where(filters, "s.", pg=is_pg(db))
    return [
        (r[0], int(r[1]))
        for r in db.execute(
            f"SELECT s.assignee, count(DISTINCT s.id) {_ALERTS} AND s.status <> 'resolved'"
            f" AND {where} GROUP BY s.assignee ORDER BY count(DISTINCT s.id) DESC",
            params,
        )
    ]


# What a drill-down list may narrow to, beyond the /cx filters.
ONLY = {
    "negative": "s.sentiment_label = 'negative'",
    "neutral": "s.sentiment_label = 'neutral'",
    "positive": "s.sentiment_label = 'positive'",
    "unscored": "(s.sentiment_label IS NULL OR s.sentiment_label NOT IN"
    " ('negative', 'neutral', 'positive'))",
    "nps": "s.score_type = 'nps' AND s.score IS NOT NULL",
    "csat": "s.score_type = 'csat' AND s.score IS NOT NULL",
    "ces": "s.score_type = 'ces' AND s.score IS NOT NULL",
    "rating": "s.rating IS NOT NULL",
}


def signal_list(
    db: Database,
    start: datetime,
    end: datetime,
    filters: Filters,
    only: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[SignalRow]:
    """The signals behind a dashboard number, newest first (the covering index by time)."""
    where, params = raw_where(filters, "s.", pg=is_pg(db))
    extra = f" AND {ONLY[only]}" if only else ""
    ids = [
        int(r[0])
        for r in db.execute(
            f"SELECT s.id FROM signals s WHERE s.created_at >= ? AND s.created_at < ?"
            f" AND {where}{extra} ORDER BY s.created_at DESC, s.id DESC LIMIT ? OFFSET ?",
            [iso_utc(start), iso_utc(end), *params, limit, offset],
        )
    ]
    return signal_rows(db, ids)


def signal_customer(db: Database, signal_id: int) -> tuple[bool, int | None]:
    """(the signal exists, its customer id)."""
    row = db.execute("SELECT customer_id FROM signals WHERE id = ?", [signal_id]).fetchone()
    return (False, None) if row is None else (True, None if row[0] is None else int(row[0]))


def change_marker(db: Database) -> tuple[int, int, int]:
    """Moves when a signal arrives or is enriched, or an alert or status update is owed: the
    newest signal and outbox ids (primary keys) and the enrichment backlog (a partial index)."""
    newest = db.execute("SELECT max(id) FROM signals").fetchone()[0]
    owed = db.execute("SELECT max(id) FROM outbox").fetchone()[0]
    return int(newest or 0), int(owed or 0), unenriched_count(db)

"""Read functions behind `/cx`: `fn(db, ...)` returning plain dataclasses for cxbot/cx/answers.py.

They run on the reader thread. Metrics come from the daily rollup (cxbot/store/rollup.py); lists of signals
come from indexes that stop after `limit` rows, so none of them scans a period's signals."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from cxbot.metrics import Counts
from cxbot.models import Filters, SignalRow, iso_utc
from cxbot.periods import Window
from cxbot.replies.figures import ReplyFigures, reply_figures
from cxbot.replies.records import alerted_with_first_reply
from cxbot.store.engine import is_pg
from cxbot.store.reads import SIGNAL_ROW_SQL, known_topics, signal_rows, topic_list
from cxbot.store.rollup import (
    Plan,
    id_bounds,
    plan,
    raw_where,
    rolled_up,
    rollup_source,
    rollup_timezone,
    severity,
    window_counts,
)


@dataclass(frozen=True)
class Stats:
    window: Window
    previous: Window | None
    current: Counts
    before: Counts | None
    buckets: tuple[Window, ...] = ()
    trend: tuple[Counts, ...] = ()  # one per bucket


def stats(
    db: Database,
    window: Window,
    previous: Window | None,
    filters: Filters,
    buckets: Sequence[Window] = (),
) -> Stats:
    """Counts for the window, the previous one and each trend bucket, in one rollup read."""
    windows = [(window.start, window.end)]
    if previous is not None:
        windows.append((previous.start, previous.end))
    windows.extend((b.start, b.end) for b in buckets)
    counts = window_counts(db, windows, filters)
    before = counts[1] if previous is not None else None
    trend = tuple(counts[2 if previous is not None else 1 :])
    return Stats(window, previous, counts[0], before, tuple(buckets), trend)


def reply_stats(db: Database, window: Window, filters: Filters, as_of: datetime) -> ReplyFigures:
    """The window's alerted signals: the share replied to from Slack, the median wait."""
    where, params = raw_where(filters, "s.", pg=is_pg(db))
    rows = alerted_with_first_reply(db, iso_utc(window.start), iso_utc(window.end), where, params)
    return reply_figures(rows, as_of)


@dataclass(frozen=True)
class TopicStats:
    """Mentions of a topic (and how many were negative) in the period and the one before."""

    topic: str
    n: int
    negative: int
    before_n: int = 0
    before_negative: int = 0


def topic_stats(
    db: Database, window: Window, previous: Window | None, filters: Filters
) -> list[TopicStats]:
    """Every topic's mentions in the window and the previous one, most mentioned first."""
    topics = [t for t in known_topics(db) if filters.topic in (None, t)]
    if not topics:
        return []
    tz = rollup_timezone(db)
    edges: dict[tuple[datetime, datetime], dict[str, tuple[int, int]]] = {}
    sides: list[dict[str, list[int]]] = []
    for w in [window] + ([previous] if previous is not None else []):
        # Without the rollup (intent:), the whole window is one raw edge.
        p = plan(w.start, w.end, tz) if rolled_up(filters) else Plan(None, ((w.start, w.end, 1),))
        acc = {t: [0, 0] for t in topics}
        if p.days is not None:
            table, where, params = rollup_source(filters, pg=is_pg(db))
            marks = ", ".join("?" for _ in topics)
            where = where.replace("topic = ?", f"topic IN ({marks})", 1)
            for topic, n, negative in db.execute(
                f"SELECT topic, sum(n), sum(negative) FROM {table} WHERE {where}"
                " AND day >= ? AND day <= ? GROUP BY topic",
                [*topics, *params[1:], p.days[0].isoformat(), p.days[1].isoformat()],
            ).fetchall():
                acc[topic] = [n or 0, negative or 0]
        for a, b, sign in p.raws:
            if (a, b) not in edges:  # the boundary the two periods share is read once
                edges[a, b] = _raw_topic_counts(db, a, b, filters)
            for topic, (n, negative) in edges[a, b].items():
                if topic in acc:
                    acc[topic][0] += sign * n
                    acc[topic][1] += sign * negative
        sides.append(acc)
    before = sides[1] if len(sides) > 1 else {t: [0, 0] for t in topics}
    result = [TopicStats(t, *sides[0][t], *before[t]) for t in topics if sides[0][t][0] > 0]
    return sorted(result, key=lambda r: (-r.n, r.topic))


def _raw_topic_counts(
    db: Database, start: datetime, end: datetime, filters: Filters
) -> dict[str, tuple[int, int]]:
    """(mentions, negative) per topic in [start, end): grouped by the stored topics list, whose
    few distinct values are parsed here, instead of a JSON parse per signal in SQL."""
    where, params = raw_where(filters, pg=is_pg(db))
    acc: dict[str, list[int]] = {}
    for raw, n, negative in db.execute(
        "SELECT topics, count(*), sum(CASE WHEN sentiment_label = 'negative' THEN 1 ELSE 0 END)"
        " FROM signals"
        f" WHERE created_at >= ? AND created_at < ? AND {where} GROUP BY topics",
        [iso_utc(start), iso_utc(end), *params],
    ).fetchall():
        for topic in topic_list(raw):
            counts = acc.setdefault(topic, [0, 0])
            counts[0] += n
            counts[1] += int(negative)
    return {t: (c[0], c[1]) for t, c in acc.items()}


LONG_WINDOW = timedelta(days=14)


def top_negative(
    db: Database, window: Window, filters: Filters, limit: int = 10
) -> list[SignalRow]:
    """The worst negative signals of the window, worst first, newest first among equals.

    Both partial indexes hold only negative signals with what ranks and filters them. A short
    window reads its negatives by time and sorts them; a long one walks the severity index from
    the worst and stops after `limit` (its share of all signals is large, so that is quick)."""
    where, params = raw_where(filters, pg=is_pg(db))
    index = "signals_worst" if window.duration > LONG_WINDOW else "signals_negative"
    # PostgreSQL chooses between the same two partial indexes itself (no INDEXED BY there).
    hint = "" if is_pg(db) else f" INDEXED BY {index}"
    ids = [
        r[0]
        for r in db.execute(
            f"SELECT id FROM signals{hint} WHERE sentiment_label ="
            f" 'negative' AND created_at >= ? AND created_at < ? AND {where}"
            f" ORDER BY {severity(db)}, created_at DESC LIMIT ?",
            [iso_utc(window.start), iso_utc(window.end), *params, limit],
        )
    ]
    return signal_rows(db, ids)


@dataclass(frozen=True)
class SearchResult:
    words: tuple[str, ...]
    match: str | None  # the FTS5 query sent; None when no word can match anything
    rows: list[SignalRow]
    more: bool


def fts_query(words: Sequence[str]) -> str | None:
    """Each word as an FTS5 string ("..." with quotes doubled), implicitly ANDed: operators,
    `*`, `NEAR(`, `-` and parentheses in user text are searched for, never interpreted. Words
    with no letter or digit would tokenize to nothing and are dropped."""
    quoted = ['"' + w.replace('"', '""') + '"' for w in words if any(ch.isalnum() for ch in w)]
    return " ".join(quoted) or None


def search(
    db: Database, words: Sequence[str], window: Window | None, filters: Filters, limit: int = 10
) -> SearchResult:
    """Newest first by the signal's own time (created_at, then id): arrival order would put a
    backfill of last year's reviews above this morning's. Every match is sorted (a top-n heap),
    so a window's id range keeps a common word cheap."""
    match = fts_query(words)
    if match is None:
        return SearchResult(tuple(words), None, [], False)
    if is_pg(db):
        return _search_pg(db, words, match, window, filters, limit)
    where, params = raw_where(filters, "s.")
    conds = ["signals_fts MATCH ?"]
    args: list[Any] = [match]
    if window is not None:
        # Without an id range, a word that is common overall but rare in the window would be
        # followed through every newer match before the LIMIT is reached.
        bounds = id_bounds(db, window.start, window.end)
        if bounds is None:
            return SearchResult(tuple(words), match, [], False)
        conds.append("signals_fts.rowid >= ? AND signals_fts.rowid <= ?")
        conds.append("s.created_at >= ? AND s.created_at < ?")
        args += [*bounds, iso_utc(window.start), iso_utc(window.end)]
    rows = db.execute(
        f"SELECT {SIGNAL_ROW_SQL.replace('substr(s.text, 1, 400)', _SNIPPET)} FROM signals_fts"
        f" JOIN signals s ON s.id = signals_fts.rowid WHERE {' AND '.join(conds)} AND {where}"
        " ORDER BY s.created_at DESC, s.id DESC LIMIT ?",
        [*args, *params, limit + 1],
    ).fetchall()
    found = [SignalRow(*r) for r in rows]
    return SearchResult(tuple(words), match, found[:limit], len(found) > limit)


# Matches are marked with \x02..\x03 so the renderer can bold them after escaping the text.
_SNIPPET = "snippet(signals_fts, -1, char(2), char(3), '…', 24)"

# PostgreSQL: the GIN expression index of migration m001 (`simple`: no stemming, any script).
# Each word is a phrase, as in FTS5 ("..."), so punctuation inside a word is never an operator.
_FTS_DOC = "to_tsvector('simple', coalesce(s.title, '') || ' ' || coalesce(s.text, ''))"
# A text of up to 24 words comes back whole, as FTS5's snippet gives it; a longer one is cut to
# 24 words around the match, without FTS5's "…" marks.
_HEADLINE = (
    "ts_headline('simple', coalesce(s.text, s.title, ''), q.q, 'StartSel=' || chr(2) ||"
    " ', StopSel=' || chr(3) || ', MaxWords=24, MinWords=23, ShortWord=0')"
)


def _search_pg(
    db: Database,
    words: Sequence[str],
    match: str,
    window: Window | None,
    filters: Filters,
    limit: int,
) -> SearchResult:
    """`search` on PostgreSQL: newest first by created_at, in the same id range for a window."""
    kept = [w for w in words if any(ch.isalnum() for ch in w)]
    query = " && ".join("phraseto_tsquery('simple', ?)" for _ in kept)
    where, params = raw_where(filters, "s.", pg=True)
    conds, args = [f"{_FTS_DOC} @@ q.q"], []
    if window is not None:
        bounds = id_bounds(db, window.start, window.end)
        if bounds is None:
            return SearchResult(tuple(words), match, [], False)
        conds.append("s.id >= ? AND s.id <= ? AND s.created_at >= ? AND s.created_at < ?")
        args += [*bounds, iso_utc(window.start), iso_utc(window.end)]
    rows = db.execute(
        f"SELECT {SIGNAL_ROW_SQL.replace('substr(s.text, 1, 400)', _HEADLINE)}"
        f" FROM (SELECT {query} AS q) q, signals s WHERE {' AND '.join(conds)} AND {where}"
        " ORDER BY s.created_at DESC, s.id DESC LIMIT ?",
        [*kept, *args, *params, limit + 1],
    ).fetchall()
    found = [SignalRow(*r) for r in rows]
    return SearchResult(tuple(words), match, found[:limit], len(found) > limit)


# --- customer profiles (`/cx customer`) ----------------------------------------------------


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
    db: Database, who: str | int, *, since: datetime, recent: int = 5
) -> CustomerProfile | None:
    """Profile across channels; `since` bounds the sentiment trend (e.g. a year back). `who`
    is an email or a handle, or a customer id (the dashboard's timeline of a signal)."""
    cid = who if isinstance(who, int) else find_customer(db, who)
    if cid is None:
        return None
    c = db.execute(
        "SELECT id, name, email, first_seen, last_seen, signal_count, avg_sentiment"
        " FROM customers WHERE id = ?",
        [cid],
    ).fetchone()
    if c is None:
        return None
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
            "SELECT source, kind, count(*),"
            " coalesce(sum(CASE WHEN sentiment_label = 'negative' THEN 1 ELSE 0 END), 0),"
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


def source_activity(
    db: Database, names: Sequence[str], since: datetime
) -> dict[str, tuple[int, str | None]]:
    """Per source: signals dated since `since`, and the newest signal's own time (both by the
    (source, created_at) index, so a source's history is never scanned)."""
    out = {}
    for name in names:
        n = db.execute(
            "SELECT count(*) FROM signals WHERE source = ? AND created_at >= ?",
            [name, iso_utc(since)],
        ).fetchone()[0]
        newest = db.execute(
            "SELECT max(created_at) FROM signals WHERE source = ?", [name]
        ).fetchone()[0]
        out[name] = (int(n), None if newest is None else str(newest))
    return out

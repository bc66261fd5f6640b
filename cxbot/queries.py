"""Read functions behind `/cx`: `fn(db, ...)` returning plain dataclasses for answers.py.

They run on the reader thread. Metrics come from the daily rollup (rollup.py); lists of signals
come from indexes that stop after `limit` rows, so none of them scans a period's signals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from .metrics import Counts
from .models import iso_utc
from .periods import Window
from .rollup import (
    FIRST_TOPIC,
    ROLLUP_SUMS,
    Filters,
    id_bounds,
    plan,
    raw_sums,
    raw_where,
    rollup_source,
    rollup_timezone,
    window_counts,
)

# --- metrics over windows ----------------------------------------------------------------------


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


@dataclass(frozen=True)
class TopicStats:
    topic: str
    current: Counts
    before: Counts


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


def topic_stats(
    db: Database, window: Window, previous: Window | None, filters: Filters
) -> list[TopicStats]:
    """Every topic's counts in the window and the previous one, most mentioned first."""
    topics = [t for t in known_topics(db) if filters.topic in (None, t)]
    if not topics:
        return []
    tz = rollup_timezone(db)
    sides = [window] + ([previous] if previous is not None else [])
    per_side: list[dict[str, Counts]] = []
    for w in sides:
        p = plan(w.start, w.end, tz)
        acc: dict[str, Counts] = {}
        if p.days is not None:
            table, where, params = rollup_source(filters)
            marks = ", ".join("?" for _ in topics)
            where = where.replace("topic = ?", f"topic IN ({marks})", 1)
            for row in db.execute(
                f"SELECT topic, {ROLLUP_SUMS} FROM {table} WHERE {where}"
                " AND day >= ? AND day <= ? GROUP BY topic",
                [*topics, *params[1:], p.days[0].isoformat(), p.days[1].isoformat()],
            ).fetchall():
                acc[row[0]] = Counts.of(row[1:])
        for a, b, sign in p.raws:
            for topic, edge in _raw_topic_counts(db, a, b, filters).items():
                base = acc.get(topic, Counts())
                acc[topic] = base + edge if sign > 0 else base - edge
        per_side.append(acc)
    result = [
        TopicStats(
            t,
            per_side[0].get(t, Counts()),
            per_side[1].get(t, Counts()) if len(per_side) > 1 else Counts(),
        )
        for t in topics
    ]
    return sorted((r for r in result if r.current.n > 0), key=lambda r: (-r.current.n, r.topic))


def _raw_topic_counts(
    db: Database, start: datetime, end: datetime, filters: Filters
) -> dict[str, Counts]:
    where, params = raw_where(filters, "s.")
    rows = db.execute(
        f"SELECT j.value, {raw_sums('s.')} FROM signals s, json_each(CASE WHEN json_valid(s.topics)"
        f" THEN s.topics ELSE '[]' END) j WHERE s.created_at >= ? AND s.created_at < ?"
        f" AND {FIRST_TOPIC} AND {where} GROUP BY j.value",
        [iso_utc(start), iso_utc(end), *params],
    ).fetchall()
    return {row[0]: Counts.of(row[1:]) for row in rows}


# --- lists of signals --------------------------------------------------------------------------


@dataclass(frozen=True)
class SignalRow:
    id: int
    created_at: str
    source: str
    kind: str
    title: str | None
    text: str | None  # the snippet for search results
    url: str | None
    rating: int | None
    score: float | None
    score_type: str | None
    sentiment: float | None
    sentiment_label: str | None
    author: str | None
    status: str


_ROW = (
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
        for r in db.execute(f"SELECT {_ROW} FROM signals s WHERE s.id IN ({marks})", list(ids))
    }
    return [found[i] for i in ids if i in found]


# How bad a negative signal is, -1 (worst) .. 1: the lowest of its rating, score and text
# sentiment, each mapped onto -1..1 (an explicit rating or score is as strong as the words).
SEVERITY = (
    "min(coalesce(sentiment, 1.0), coalesce((rating - 3) / 2.0, 1.0), coalesce(CASE score_type"
    " WHEN 'nps' THEN (score - 5) / 5.0 WHEN 'csat' THEN (score - 3) / 2.0"
    " WHEN 'ces' THEN (score - 4) / 3.0 END, 1.0))"
)


def top_negative(
    db: Database, window: Window, filters: Filters, limit: int = 10
) -> list[SignalRow]:
    """The worst negative signals of the window, worst first, newest first among equals. The
    partial index holds only negative signals with every ranking column: no table reads."""
    where, params = raw_where(filters)
    ids = [
        r[0]
        for r in db.execute(
            f"SELECT id FROM signals INDEXED BY signals_negative WHERE sentiment_label ="
            f" 'negative' AND created_at >= ? AND created_at < ? AND {where}"
            f" ORDER BY {SEVERITY}, created_at DESC LIMIT ?",
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
    """Newest first. FTS5 walks its doclist in rowid order, and rowids grow with arrival, so
    `ORDER BY rowid DESC LIMIT n` stops after n matches however common the word is."""
    match = fts_query(words)
    if match is None:
        return SearchResult(tuple(words), None, [], False)
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
        f"SELECT {_ROW.replace('substr(s.text, 1, 400)', _SNIPPET)} FROM signals_fts"
        f" JOIN signals s ON s.id = signals_fts.rowid WHERE {' AND '.join(conds)} AND {where}"
        " ORDER BY signals_fts.rowid DESC LIMIT ?",
        [*args, *params, limit + 1],
    ).fetchall()
    found = [SignalRow(*r) for r in rows]
    return SearchResult(tuple(words), match, found[:limit], len(found) > limit)


# Matches are marked with \x02..\x03 so the renderer can bold them after escaping the text.
_SNIPPET = "snippet(signals_fts, -1, char(2), char(3), '…', 24)"


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

"""Reads shared by the query side (`/cx` and the digest): signal rows for lists, and the topic and column values seen (for hints and filters)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlite_utils import Database

from cxbot.models import SignalRow


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

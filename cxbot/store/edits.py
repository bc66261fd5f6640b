"""Edited reviews: a provider shows a review again with the same id and new words or stars.

In the job that stores a poll page (cxbot/poll/runner.py), each signal the table already holds
is compared with its stored title, text and rating. A changed one keeps its history: the
version before (with its enrichment) goes to `signal_edits`; the row takes the new words and
stars and is enriched again (pending), its contribution to its customer's profile taken back
first so the new enrichment counts it once. The rules stage then alerts only for what the edit
itself brings (cxbot/alerts/decide.py compares both versions): a 5★ turned 1★ alerts, a typo
fix does not. The signal keeps its id, its first time and its thread.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

from cxbot.models import Signal
from cxbot.store.engine import is_pg

_OLD = ("id", "title", "text", "rating", "lang", "sentiment", "sentiment_label", "topics",
        "urgency", "customer_id", "enriched_at", "metadata")  # fmt: skip


def _stored(db: Database, source: str, external_ids: list[str]) -> dict[str, dict[str, Any]]:
    cols = ", ".join(_OLD)
    if is_pg(db):
        sql = f"SELECT external_id, {cols} FROM signals WHERE source = ? AND external_id = ANY(?)"
        arg: object = external_ids
    else:
        sql = (
            f"SELECT external_id, {cols} FROM signals WHERE source = ?"
            " AND external_id IN (SELECT value FROM json_each(?))"
        )
        arg = json.dumps(external_ids, ensure_ascii=False)
    return {
        r[0]: dict(zip(_OLD, r[1:], strict=True)) for r in db.execute(sql, [source, arg]).fetchall()
    }


def changed(old: dict[str, Any], new: Signal) -> bool:
    return (old["title"], old["text"], old["rating"]) != (new.title, new.text, new.rating)


def apply_edits(db: Database, source: str, signals: Sequence[Signal], now: str) -> list[int]:
    """Store the edits among `signals` (already-known ids with new title, text or rating);
    returns the edited signal ids. Runs inside the writer's job."""
    if not signals:
        return []
    stored = _stored(db, source, [s.external_id for s in signals])
    edited: list[int] = []
    for signal in signals:
        old = stored.get(signal.external_id)
        if old is None or not changed(old, signal):
            continue
        db.execute(
            "INSERT INTO signal_edits (signal_id, edited_at, title, text, rating, lang, sentiment,"
            " sentiment_label, topics, urgency) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (signal_id, edited_at) DO NOTHING",
            [old["id"], now, old["title"], old["text"], old["rating"], old["lang"],
             old["sentiment"], old["sentiment_label"], old["topics"] or "[]", old["urgency"]],
        )  # fmt: skip
        if old["customer_id"] is not None and old["enriched_at"] is not None:
            _take_back(db, old["customer_id"], old["sentiment"])
        metadata = {**json.loads(old["metadata"] or "{}"), **signal.metadata}
        db.execute(
            "UPDATE signals SET title = ?, text = ?, rating = ?, metadata = ?,"
            " enriched_at = NULL, customer_id = NULL WHERE id = ?",
            [signal.title, signal.text, signal.rating,
             json.dumps(metadata, ensure_ascii=False, default=str), old["id"]],
        )  # fmt: skip
        edited.append(int(old["id"]))
    return edited


def _take_back(db: Database, customer_id: int, sentiment: float | None) -> None:
    """The profile without this signal's version: it is counted again once re-enriched."""
    s, n = (0.0, 0) if sentiment is None else (float(sentiment), 1)
    db.execute(
        """UPDATE customers SET signal_count = signal_count - 1,
             sentiment_sum = sentiment_sum - ?, sentiment_count = sentiment_count - ?,
             avg_sentiment = CASE WHEN sentiment_count - ? > 0
                 THEN (sentiment_sum - ?) / (sentiment_count - ?) ELSE NULL END
           WHERE id = ?""",
        [s, n, n, s, n, customer_id],
    )


def previous_versions(db: Database, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """For the edited signals among `ids`: the version before the latest edit."""
    if not ids:
        return {}
    cols = "title, text, rating, lang, sentiment, sentiment_label, topics, urgency"
    arg: object
    if is_pg(db):
        where, arg = "e.signal_id = ANY(?)", list(ids)
    else:
        where, arg = "e.signal_id IN (SELECT value FROM json_each(?))", json.dumps(list(ids))
    rows = db.execute(
        f"SELECT e.signal_id, {cols} FROM signal_edits e WHERE {where} AND e.edited_at ="
        " (SELECT max(edited_at) FROM signal_edits l WHERE l.signal_id = e.signal_id)",
        [arg],
    ).fetchall()
    names = cols.split(", ")
    return {int(r[0]): dict(zip(names, r[1:], strict=True)) for r in rows}

"""Writing a verified delivery: the raw event plus its signals, deduplicated, in one job.

These functions run on the writer thread inside its transaction (see store.py); they take the
`Database` and plain data, and never commit themselves.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from .models import Signal, iso_utc
from .sources.base import ItemError

# Headers that can carry a credential are never stored (signatures are kept: they help replay).
_SECRET_HEADERS = frozenset({"authorization", "cookie", "x-cxbot-token", "proxy-authorization"})


def storable_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in _SECRET_HEADERS}


@dataclass(frozen=True)
class DeliveryRecord:
    source: str
    provider: str
    received_at: str  # ISO-8601 UTC
    body: str
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = None
    delivery_id: str | None = None
    event_type: str | None = None
    signals: Sequence[Signal] = ()
    rejected: Sequence[ItemError] = ()
    ping: bool = False


@dataclass(frozen=True)
class StoredDelivery:
    event_id: int
    ids: list[int]  # the stored signal id of every item, accepted or duplicate, in order
    accepted: int
    duplicates: int
    new_ids: list[int]


def signal_row(
    signal: Signal, *, source: str, provider: str, received_at: str, event_id: int
) -> dict[str, Any]:
    author = signal.author
    return {
        "source": source,
        "provider": provider,
        "kind": signal.kind,
        "external_id": signal.external_id,
        "author_name": author.name,
        "author_handle": author.handle,
        "author_email": author.email,
        "title": signal.title,
        "text": signal.text,
        "rating": signal.rating,
        "score": signal.score,
        "score_type": signal.score_type,
        "url": signal.url,
        "channel": signal.channel,
        "thread_key": signal.thread_key,
        "metadata": json.dumps(signal.metadata, ensure_ascii=False, default=str),
        "created_at": iso_utc(signal.created_at) if signal.created_at else received_at,
        "received_at": received_at,
        "event_id": event_id,
    }


def _insert_sql(columns: Sequence[str]) -> str:
    return f"INSERT INTO signals ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"


def store_delivery(db: Database, rec: DeliveryRecord) -> StoredDelivery:
    """Dedup on (source, external_id) first, so the event row is written once with its counts.

    The check-then-insert is race-free because only the writer thread writes, inside one
    transaction; the UNIQUE constraint stays as the backstop.
    """
    conn = db.conn
    known: dict[str, int | None] = {}  # external_id -> existing id (None: new in this delivery)
    fresh: list[Signal] = []
    for signal in rec.signals:
        if signal.external_id in known:
            continue
        found = conn.execute(
            "SELECT id FROM signals WHERE source = ? AND external_id = ?",
            (rec.source, signal.external_id),
        ).fetchone()
        known[signal.external_id] = found[0] if found else None
        if found is None:
            fresh.append(signal)
    duplicates = len(rec.signals) - len(fresh)
    event_id = conn.execute(
        "INSERT INTO events (source, provider, received_at, delivery_id, event_type, content_type,"
        " headers, body, outcome, accepted, duplicates, rejected)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            rec.source,
            rec.provider,
            rec.received_at,
            rec.delivery_id,
            rec.event_type,
            rec.content_type,
            json.dumps(storable_headers(rec.headers), ensure_ascii=False),
            rec.body,
            "ping" if rec.ping else "stored",
            len(fresh),
            duplicates,
            json.dumps([{"index": e.index, "message": e.message} for e in rec.rejected]),
        ),
    ).lastrowid
    assert event_id is not None
    new_ids: list[int] = []
    for signal in fresh:
        row = signal_row(
            signal,
            source=rec.source,
            provider=rec.provider,
            received_at=rec.received_at,
            event_id=event_id,
        )
        signal_id = conn.execute(_insert_sql(list(row)), tuple(row.values())).lastrowid
        assert signal_id is not None
        known[signal.external_id] = signal_id
        new_ids.append(signal_id)
    ids = [known[s.external_id] or 0 for s in rec.signals]
    return StoredDelivery(event_id, ids, len(new_ids), duplicates, new_ids)

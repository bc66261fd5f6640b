"""Writing a verified delivery: the raw event plus its signals, deduplicated, in one job.

These functions run on the writer thread inside its transaction (see cxbot/store/writer.py); they take the
`Database` and plain data, and never commit themselves.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from cxbot.models import Signal, iso_utc
from cxbot.sources.base import ItemError
from cxbot.store.engine import is_pg
from cxbot.store.jsonsql import insert_json_rows, item, json_rows, next_id, reserve_ids

# A delivery of this type is history read by a source's first poll (cxbot/poll/): its signals
# are stored and enriched but never alerted (cxbot/alerts/decide.py), as `cxbot ingest` does.
BACKFILL_EVENT_TYPE = "poll-backfill"

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
    # Of the raw bytes as received (the body above is their text); from `body` when not given.
    body_sha256: str | None = None
    body_bytes: int | None = None


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


def _known_ids(
    db: Database, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, int | None]]:
    """(source, external_id) -> (signal id, id of the event that first brought it)."""
    if not keys:
        return {}
    rows = json_rows(
        db,
        "SELECT json_group_array(json_array(s.source, s.external_id, s.id, s.event_id))"
        " FROM json_each(?) j"
        f" JOIN signals s ON s.source = {item(0)} AND s.external_id = {item(1)}",
        [json.dumps(sorted(keys), ensure_ascii=False)],
    )
    return {(source, ext): (signal_id, event) for source, ext, signal_id, event in rows}


def _kept_body(rec: DeliveryRecord, new: int) -> tuple[str, str]:
    """What `events` keeps of a delivery: (outcome, body). A ping or a test send (answered
    without credentials by some providers) and a delivery that brought nothing new keep no
    body, only its hash and size: a flood of either cannot fill the disk."""
    if rec.ping:
        return "ping", ""
    if rec.signals and not new:
        return "duplicate", ""
    return "stored", rec.body


def store_deliveries(db: Database, recs: Sequence[DeliveryRecord]) -> list[StoredDelivery]:
    """Store a batch of deliveries in order: dedup on (source, external_id) against the table
    and against earlier deliveries of the batch (a provider's retry can arrive alongside the
    original), then each event row with its counts, then the new signal rows.

    The check-then-insert is race-free because it runs inside the writer's write transaction;
    the UNIQUE constraint stays as the backstop. PostgreSQL: `_store_deliveries_pg`.
    """
    if is_pg(db):
        with db.atomic():  # a savepoint in the writer's batch; the deferred key needs one
            return _store_deliveries_pg(db, recs)
    known = _known_ids(db, {(r.source, s.external_id) for r in recs for s in r.signals})
    event_id = next_id(db, "events")
    signal_id = next_id(db, "signals")
    events: list[dict[str, Any]] = []
    signals: list[dict[str, Any]] = []
    stored: list[StoredDelivery] = []
    for rec in recs:
        new_ids: list[int] = []
        first_event: int | None = None
        for signal in rec.signals:
            key = (rec.source, signal.external_id)
            if key in known:
                first_event = first_event or known[key][1]
                continue
            known[key] = (signal_id, event_id)
            new_ids.append(signal_id)
            row = signal_row(
                signal,
                source=rec.source,
                provider=rec.provider,
                received_at=rec.received_at,
                event_id=event_id,
            )
            signals.append({"id": signal_id, **row})
            signal_id += 1
        ids = [known[(rec.source, s.external_id)][0] for s in rec.signals]
        duplicates = len(rec.signals) - len(new_ids)
        events.append(_event_row(rec, event_id, len(new_ids), duplicates, first_event))
        stored.append(StoredDelivery(event_id, ids, len(new_ids), duplicates, new_ids))
        event_id += 1
    # Events first: signals reference them (foreign key).
    insert_json_rows(db, "events", events)
    insert_json_rows(db, "signals", signals)
    return stored


def _event_row(
    rec: DeliveryRecord, event_id: int, accepted: int, duplicates: int, first_event: int | None
) -> dict[str, Any]:
    outcome, body = _kept_body(rec, accepted)
    raw = rec.body.encode("utf-8", "surrogatepass") if rec.body_sha256 is None else b""
    return {
        "id": event_id,
        "source": rec.source,
        "provider": rec.provider,
        "received_at": rec.received_at,
        "delivery_id": rec.delivery_id,
        "event_type": rec.event_type,
        "content_type": rec.content_type,
        "headers": json.dumps(
            {} if rec.ping else storable_headers(rec.headers), ensure_ascii=False
        ),
        "body": body,
        "outcome": outcome,
        "body_sha256": rec.body_sha256 or hashlib.sha256(raw).hexdigest(),
        "body_bytes": len(raw) if rec.body_bytes is None else rec.body_bytes,
        "duplicate_of": first_event if outcome == "duplicate" else None,
        "accepted": accepted,
        "duplicates": duplicates,
        "rejected": json.dumps([{"index": e.index, "message": e.message} for e in rec.rejected]),
    }


def _known_ids_pg(
    db: Database, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, int | None]]:
    """(source, external_id) -> (signal id, id of the event that first brought it)."""
    if not keys:
        return {}
    sources, externals = zip(*sorted(keys), strict=True)
    rows = db.execute(
        "SELECT s.source, s.external_id, s.id, s.event_id FROM unnest(?::text[], ?::text[]) AS k(source, ext)"
        " JOIN signals s ON s.source = k.source AND s.external_id = k.ext",
        [list(sources), list(externals)],
    ).fetchall()
    return {(source, ext): (int(signal_id), event) for source, ext, signal_id, event in rows}


def _store_deliveries_pg(db: Database, recs: Sequence[DeliveryRecord]) -> list[StoredDelivery]:
    """PostgreSQL, where other replicas insert at the same time: ids come from the sequences,
    and `ON CONFLICT (source, external_id) DO NOTHING` is the dedup that counts. A signal that
    another replica stored after our look-up is not returned by the insert: it is a duplicate,
    and its id is looked up. The event rows are written last, with their true counts (the
    signals' foreign key to events is checked at commit)."""
    known = _known_ids_pg(db, {(r.source, s.external_id) for r in recs for s in r.signals})
    event_ids = reserve_ids(db, "events", len(recs))
    fresh: dict[tuple[str, str], dict[str, Any]] = {}
    for rec, event_id in zip(recs, event_ids, strict=True):
        for signal in rec.signals:
            key = (rec.source, signal.external_id)
            if key not in known and key not in fresh:
                fresh[key] = signal_row(
                    signal,
                    source=rec.source,
                    provider=rec.provider,
                    received_at=rec.received_at,
                    event_id=event_id,
                )
    ours: set[tuple[str, str]] = set()
    if fresh:
        for key, signal_id in zip(fresh, reserve_ids(db, "signals", len(fresh)), strict=True):
            fresh[key] = {"id": signal_id, **fresh[key]}
        columns = ", ".join(next(iter(fresh.values())))
        rows = list(fresh.values())
        inserted = {
            int(r[0])
            for r in db.execute(
                f"INSERT INTO signals ({columns}) SELECT {columns}"
                " FROM jsonb_populate_recordset(NULL::signals, ?::jsonb)"
                " ON CONFLICT (source, external_id) DO NOTHING RETURNING id",
                [json.dumps(rows, ensure_ascii=False)],
            ).fetchall()
        }
        ours = {k for k, row in fresh.items() if row["id"] in inserted}
        known |= {k: (row["id"], row["event_id"]) for k, row in fresh.items() if k in ours}
        known |= _known_ids_pg(db, set(fresh) - ours)  # stored by another replica meanwhile
    stored: list[StoredDelivery] = []
    events: list[dict[str, Any]] = []
    counted: set[tuple[str, str]] = set()  # a key is new once: in its first delivery, first item
    for rec, event_id in zip(recs, event_ids, strict=True):
        new_ids = []
        first_event: int | None = None
        for signal in rec.signals:
            key = (rec.source, signal.external_id)
            if key in ours and key not in counted:
                counted.add(key)
                new_ids.append(known[key][0])
            else:
                first_event = first_event or known[key][1]
        ids = [known[(rec.source, s.external_id)][0] for s in rec.signals]
        duplicates = len(rec.signals) - len(new_ids)
        events.append(_event_row(rec, event_id, len(new_ids), duplicates, first_event))
        stored.append(StoredDelivery(event_id, ids, len(new_ids), duplicates, new_ids))
    insert_json_rows(db, "events", events)
    return stored


def store_delivery(db: Database, rec: DeliveryRecord) -> StoredDelivery:
    """One delivery (the CLI's `ingest` and `replay`); the server batches (store_deliveries)."""
    return store_deliveries(db, [rec])[0]

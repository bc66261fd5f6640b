"""Enrichment as a stage: pending signals are read, enriched off the event loop, written back.

The database is the queue: a signal is pending while `enriched_at IS NULL`, so a signal stored
but not enriched when the process died is picked up on the next start. The in-memory event only
wakes the worker early. Writing the enrichment, the customer profile and the alerts it decides
happens in one writer job, so they commit together (alerting.py).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import multiprocessing
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from .config import Settings
from .enrich import Enricher, Enrichment
from .enrich.identity import normalise_email, normalise_handle
from .enrich.settings import EnrichSettings
from .models import iso_utc

log = logging.getLogger("cxbot.enrichment")

BATCH = 200
_COLUMNS = (
    "id",
    "source",
    "provider",
    "kind",
    "text",
    "title",
    "rating",
    "score",
    "score_type",
    "author_name",
    "author_email",
    "author_handle",
    "created_at",
    "thread_key",
    "url",
)

# Called inside the enrichment's write job with the freshly enriched rows; returns outbox ids.
AfterEnrich = Callable[[Database, list[dict[str, Any]], datetime], list[int]]


def pending(db: Database, limit: int = BATCH, since: str | None = None) -> list[dict[str, Any]]:
    cols = ", ".join(_COLUMNS)
    sql = f"SELECT {cols} FROM signals WHERE enriched_at IS NULL ORDER BY id LIMIT ?"
    return [dict(zip(_COLUMNS, r, strict=True)) for r in db.execute(sql, [limit]).fetchall()]


def resolve_customer(db: Database, row: dict[str, Any], seen_at: str) -> int | None:
    """One profile per person: matched by normalised email, then by (provider, handle).

    Two different emails are never merged; a handle-only profile gains the email the first
    time the same handle writes with one.
    """
    email = normalise_email(row.get("author_email"))
    handle = normalise_handle(row.get("author_handle"))
    provider = row["provider"]
    customer_id: int | None = None
    if email:
        found = db.execute("SELECT id FROM customers WHERE email = ?", [email]).fetchone()
        customer_id = found[0] if found else None
    if customer_id is None and handle:
        found = db.execute(
            "SELECT c.id, c.email FROM customer_handles h JOIN customers c ON c.id = h.customer_id"
            " WHERE h.provider = ? AND h.handle = ?",
            [provider, handle],
        ).fetchone()
        if found and (email is None or found[1] is None):
            customer_id = found[0]
            if email:
                db.execute("UPDATE customers SET email = ? WHERE id = ?", [email, customer_id])
    if customer_id is None:
        if not email and not handle:
            return None
        customer_id = db.execute(
            "INSERT INTO customers (email, name, first_seen, last_seen) VALUES (?, ?, ?, ?)"
            " RETURNING id",
            [email, row.get("author_name"), seen_at, seen_at],
        ).fetchone()[0]
    if handle:
        db.execute(
            "INSERT OR IGNORE INTO customer_handles (provider, handle, customer_id) VALUES (?, ?, ?)",
            [provider, handle, customer_id],
        )
    return customer_id


def _count_on_profile(db: Database, customer_id: int, row: dict[str, Any], e: Enrichment) -> None:
    scored = e.text_sentiment is not None
    db.execute(
        """UPDATE customers SET
             signal_count = signal_count + 1,
             name = coalesce(name, ?),
             first_seen = min(first_seen, ?),
             last_seen = max(last_seen, ?),
             sentiment_sum = sentiment_sum + ?,
             sentiment_count = sentiment_count + ?,
             avg_sentiment = CASE WHEN sentiment_count + ? > 0
                 THEN (sentiment_sum + ?) / (sentiment_count + ?) ELSE NULL END
           WHERE id = ?""",
        [
            row.get("author_name"),
            row["created_at"],
            row["created_at"],
            e.text_sentiment or 0.0,
            int(scored),
            int(scored),
            e.text_sentiment or 0.0,
            int(scored),
            customer_id,
        ],
    )


def apply_enrichment(
    db: Database,
    rows: Sequence[dict[str, Any]],
    results: Sequence[Enrichment],
    now: datetime,
    after: AfterEnrich | None = None,
) -> list[int]:
    """Store enrichment, customer profile and (through `after`) alerts in one transaction."""
    stamp = iso_utc(now)
    done: list[dict[str, Any]] = []
    for row, e in zip(rows, results, strict=True):
        updated = db.execute(
            """UPDATE signals SET lang = ?, sentiment = ?, sentiment_label = ?,
                 sentiment_source = ?, topics = ?, urgency = ?, enriched_at = ?
               WHERE id = ? AND enriched_at IS NULL""",
            [
                e.lang,
                e.text_sentiment,
                e.sentiment_label,
                e.sentiment_source,
                json.dumps(e.topics, ensure_ascii=False),
                e.urgency,
                stamp,
                row["id"],
            ],
        ).rowcount
        if not updated:  # enriched meanwhile (reprocess, a second worker): nothing twice
            continue
        customer_id = resolve_customer(db, row, row["created_at"])
        if customer_id is not None:
            db.execute("UPDATE signals SET customer_id = ? WHERE id = ?", [customer_id, row["id"]])
            _count_on_profile(db, customer_id, row, e)
        done.append(
            {
                **row,
                "customer_id": customer_id,
                "lang": e.lang,
                "sentiment": e.text_sentiment,
                "sentiment_label": e.sentiment_label,
                "sentiment_source": e.sentiment_source,
                "topics": e.topics,
                "urgency": e.urgency,
            }
        )
    return after(db, done, now) if after is not None and done else []


# The worker's own Enricher: built once by the executor's initializer, in the enrichment
# process (or thread), so the analysers are never shared or pickled.
_ENRICHER: Enricher | None = None


def _start_enricher(settings: EnrichSettings, base_dir: Path) -> None:
    global _ENRICHER
    _ENRICHER = Enricher(settings, base_dir)


def _enrich_here(rows: list[dict[str, Any]]) -> list[Enrichment]:
    assert _ENRICHER is not None, "the enrichment executor was started without its initializer"
    return _ENRICHER.enrich_many(rows)


def enrichment_executor(settings: Settings) -> concurrent.futures.Executor:
    """Where the CPU work runs. A separate process by default: scoring holds the GIL, and in a
    thread it would slow the event loop and the writer that answer webhooks."""
    args = (settings.file.enrich, settings.base_dir)
    if settings.file.enrich.worker == "process":
        # spawn, not fork: the parent has threads (the writer) whose locks a fork would copy.
        return concurrent.futures.ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_enricher,
            initargs=args,
        )
    return concurrent.futures.ThreadPoolExecutor(
        1, thread_name_prefix="cxbot-enrich", initializer=_start_enricher, initargs=args
    )


def build_enricher(settings: Settings) -> Enricher:
    return Enricher(settings.file.enrich, settings.base_dir)


class EnrichmentWorker:
    """Drains pending signals whenever woken (and every `poll` seconds as a safety net)."""

    def __init__(
        self,
        settings: Settings,
        store: Any,
        wake: asyncio.Event,
        after: AfterEnrich | None = None,
        on_alerts: Callable[[list[int]], None] | None = None,
        poll: float = 5.0,
    ) -> None:
        self.settings = settings
        self.store = store
        self.wake = wake
        self.after = after
        self.on_alerts = on_alerts
        self.poll = poll
        self._executor = enrichment_executor(settings)

    async def run(self) -> None:
        # Start the scorer now (a process takes a second or two), not on the first signal.
        await asyncio.get_running_loop().run_in_executor(self._executor, _enrich_here, [])
        while True:
            try:
                await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("enrichment batch failed; retrying in %.0fs", self.poll)
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=self.poll)
            except TimeoutError:
                pass
            self.wake.clear()

    async def drain(self) -> int:
        loop = asyncio.get_running_loop()
        total = 0
        while True:
            rows = await self.store.read(pending)
            if not rows:
                return total
            started = time.perf_counter()
            results = await loop.run_in_executor(self._executor, _enrich_here, rows)
            outbox_ids: list[int] = await self.store.write(
                partial(
                    apply_enrichment,
                    rows=rows,
                    results=results,
                    now=datetime.now(UTC),
                    after=self.after,
                )
            )
            total += len(rows)
            log.info(
                "enriched %d signal(s), %d alert(s) owed %.1fms",
                len(rows),
                len(outbox_ids),
                (time.perf_counter() - started) * 1000,
            )
            if outbox_ids and self.on_alerts is not None:
                self.on_alerts(outbox_ids)

    def close(self) -> None:
        self._executor.shutdown(wait=True)


def enrich_all_pending(settings: Settings, after: AfterEnrich | None = None) -> int:
    """Synchronous drain for the CLI (`ingest`, `reprocess`): every pending signal, in batches."""
    from .store import connect, writer_for

    enricher = build_enricher(settings)
    writer = writer_for(settings)
    writer.start()
    reader = connect(settings.db_path, readonly=True)
    total = 0
    try:
        while rows := pending(reader):
            results = enricher.enrich_many(rows)
            writer.submit(
                partial(
                    apply_enrichment, rows=rows, results=results, now=datetime.now(UTC), after=after
                )
            ).result()
            total += len(rows)
    finally:
        reader.conn.close()
        writer.close()
    return total

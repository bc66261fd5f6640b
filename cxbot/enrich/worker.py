"""Enrichment as a stage: pending signals are read, enriched off the event loop, written back.

The database is the queue: a signal is pending while `enriched_at IS NULL`, so a signal stored
but not enriched when the process died is picked up on the next start. The in-memory event only
wakes the worker early. Writing the enrichment, the customer profile and the alerts it decides
happens in one writer job, so they commit together: the rules stage (`cxbot.alerts.decide`)
is called here, by name, on the freshly enriched rows.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from cxbot.alerts.decide import decide_alerts
from cxbot.alerts.lifecycle import after_signals
from cxbot.alerts.rules import AlertPolicy
from cxbot.config import Settings
from cxbot.enrich import Enricher, Enrichment
from cxbot.enrich import rows as rows_sql
from cxbot.enrich.customers import CustomerBatch
from cxbot.enrich.settings import EnrichSettings
from cxbot.models import iso_utc
from cxbot.store.leases import SHARED_POLL_SECONDS, leases_of

log = logging.getLogger("cxbot.enrichment")

# Rows per write-back job: 0.2-0.5 ms each (alone, under load), so a webhook waits at most
# ~10 ms behind one (open loop, 500/s: p99 32-227 ms with slices of 50, 23-47 ms with 20).
WRITE_SLICE = 20
# After a wake-up, wait this long before reading the pending rows, so a stream of webhooks is
# enriched (and written back) in batches rather than one round per signal: every round is an
# IPC to the scorer and a writer job beside the webhooks'. wrk against `cxbot serve` on the
# 2-core VM: one connection p50 3.0 -> 2.5 ms and p99 32-103 -> 7 ms; 128 connections
# 1,670 -> 2,890 req/s, p99 197 -> 94 ms; alerts come at most this much later.
GATHER_S = 0.05


def enriched_values(e: Enrichment, stamp: str) -> list[Any]:
    """How an Enrichment is stored, in ENRICHED_COLUMNS order."""
    topics = json.dumps(e.topics, ensure_ascii=False)
    return [
        e.lang,
        e.text_sentiment,
        e.sentiment_label,
        e.sentiment_source,
        topics,
        e.urgency,
        e.intent,
        stamp,
    ]


def apply_enrichment(
    db: Database,
    rows: Sequence[dict[str, Any]],
    results: Sequence[Enrichment],
    now: datetime,
    policy: AlertPolicy | None = None,
) -> list[int]:
    """Store enrichment and customer profiles, then run the rules stage on the fresh rows, in
    one transaction; returns the new outbox ids. `policy` None: the caller wants no alerts
    (a backfill: old signals are history, not news). Then the earlier alerts of the same
    customers: woken from a snooze, or reopened as regressed (cxbot/alerts/lifecycle.py)."""
    done = store_enrichment(db, rows, results, now)
    if policy is None or not done:
        return []
    return decide_alerts(db, done, now, policy) + after_signals(db, done, now)


def store_enrichment(
    db: Database, rows: Sequence[dict[str, Any]], results: Sequence[Enrichment], now: datetime
) -> list[dict[str, Any]]:
    """Write the enrichment and customer profiles of the rows still pending; returns them as
    the rules stage reads them (with customer, language, sentiment, topics, urgency)."""
    stamp = iso_utc(now)
    updated = rows_sql.still_pending(db, [row["id"] for row in rows])
    fresh = [(row, e) for row, e in zip(rows, results, strict=True) if row["id"] in updated]
    rows_sql.write_enrichment(db, [[row["id"], *enriched_values(e, stamp)] for row, e in fresh])
    customers = CustomerBatch.load(db, [row for row, _ in fresh])
    resolved: list[tuple[int, dict[str, Any], float | None]] = []  # customer, row, sentiment
    done: list[dict[str, Any]] = []
    for row, e in fresh:
        customer_id = customers.resolve(row)
        if customer_id is not None:
            resolved.append((customer_id, row, e.text_sentiment))
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
                "intent": e.intent,
            }
        )
    customers.write(db, resolved)
    return done


# The worker's own Enricher: built once by the executor's initializer, in the enrichment
# process (or thread), so the analysers are never shared or pickled.
_ENRICHER: Enricher | None = None


def _start_enricher(settings: EnrichSettings, base_dir: Path, parent: int | None = None) -> None:
    global _ENRICHER
    if parent is not None:
        _exit_with_parent(parent)
    _ENRICHER = Enricher(settings, base_dir)
    if settings.blas_threads:
        # A live stream gives the encoder batches of a few texts: BLAS spreading each over every
        # core costs more in hand-offs than it saves, and takes the core the web process needs
        # (webhook-to-alert p99 1.85-7.3 s at 8/s, half fa/tr; docs/enrichment.md). Set after
        # the Enricher: threadpoolctl limits the BLAS libraries already loaded (numpy's), for the
        # whole process, until the process ends (the object is not kept: nothing restores it).
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=settings.blas_threads, user_api="blas")


def _exit_with_parent(parent: int) -> None:
    """A worker process must not outlive `serve`: after a SIGKILL (or the OOM killer) nothing
    tells it to stop, and each orphan would keep its analysers' memory for good."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="cxbot-parent-watch", daemon=True).start()


def _enrich_here(rows: list[dict[str, Any]]) -> list[Enrichment]:
    assert _ENRICHER is not None, "the enrichment executor was started without its initializer"
    return _ENRICHER.enrich_many(rows)


def enrichment_executor(settings: EnrichSettings, base_dir: Path) -> concurrent.futures.Executor:
    """Where the CPU work runs. A separate process by default: scoring holds the GIL, and in a
    thread it would slow the event loop and the writer that answer webhooks."""
    args: tuple[Any, ...] = (settings, base_dir)
    if settings.worker == "process":
        # spawn, not fork: the parent has threads (the writer) whose locks a fork would copy.
        return concurrent.futures.ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_enricher,
            initargs=(*args, os.getpid()),
        )
    return concurrent.futures.ThreadPoolExecutor(
        1, thread_name_prefix="cxbot-enrich", initializer=_start_enricher, initargs=args
    )


def build_enricher(settings: Settings) -> Enricher:
    return Enricher(settings.file.enrich, settings.base_dir)  # the CLI's, on its own thread


class EnrichmentWorker:
    """Drains pending signals whenever woken (and every `poll` seconds as a safety net)."""

    def __init__(
        self,
        settings: EnrichSettings,
        base_dir: Path,
        store: Any,
        wake: asyncio.Event,
        policy: AlertPolicy | None,
        on_alerts: Callable[[list[int]], None] | None = None,
        poll: float = 5.0,
    ) -> None:
        self.store = store
        self.wake = wake
        self.policy = policy
        self.on_alerts = on_alerts
        self.poll = poll
        self._executor = enrichment_executor(settings, base_dir)

    async def run(self) -> None:
        # Start the scorer now (a process takes a second or two), not on the first signal; the
        # pool spawns its process in the submitting thread, so submit from a helper thread.
        await asyncio.to_thread(lambda: self._executor.submit(_enrich_here, []).result())
        # With replicas on one database one of them enriches at a time (a dead one's lease is
        # freed with its connection); the others look again every SHARED_POLL_SECONDS.
        leases = leases_of(self.store)
        poll = min(self.poll, SHARED_POLL_SECONDS) if leases.shared else self.poll
        while True:
            try:
                if await leases.hold("enrich"):
                    await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("enrichment batch failed; retrying in %.1fs", poll)
            # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that lands as the
            # event fires, and shutdown then waits on this loop forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(poll):
                    await self.wake.wait()
            self.wake.clear()
            await asyncio.sleep(GATHER_S)

    async def drain(self) -> int:
        loop = asyncio.get_running_loop()
        total = 0
        while True:
            rows = await self.store.read(rows_sql.pending)
            if not rows:
                return total
            started = time.perf_counter()
            results = await loop.run_in_executor(self._executor, _enrich_here, rows)
            owed = 0
            # Written back in slices, each its own writer job, so webhooks queued meanwhile
            # are stored between them instead of waiting behind the whole batch.
            for i in range(0, len(rows), WRITE_SLICE):
                outbox_ids: list[int] = await self.store.write(
                    partial(
                        apply_enrichment,
                        rows=rows[i : i + WRITE_SLICE],
                        results=results[i : i + WRITE_SLICE],
                        now=datetime.now(UTC),
                        policy=self.policy,
                    )
                )
                owed += len(outbox_ids)
                if outbox_ids and self.on_alerts is not None:
                    self.on_alerts(outbox_ids)
            total += len(rows)
            log.info(
                "enriched %d signal(s), %d alert(s) owed %.1fms",
                len(rows),
                owed,
                (time.perf_counter() - started) * 1000,
            )

    def close(self) -> None:
        self._executor.shutdown(wait=True)


def enrich_all_pending(settings: Settings, policy: AlertPolicy | None) -> int:
    """Synchronous drain for the CLI (`ingest`, `reprocess`): every pending signal, in batches."""
    from cxbot.store.writer import connect_for, writer_for

    enricher = build_enricher(settings)
    writer = writer_for(settings.db_path, settings.file.database, settings.tz)
    writer.start()
    reader = connect_for(settings.db_path, settings.file.database, readonly=True)
    total = 0
    try:
        while rows := rows_sql.pending(reader):
            results = enricher.enrich_many(rows)
            writer.submit(
                partial(
                    apply_enrichment,
                    rows=rows,
                    results=results,
                    now=datetime.now(UTC),
                    policy=policy,
                )
            ).result()
            total += len(rows)
    finally:
        reader.conn.close()
        writer.close()
    return total

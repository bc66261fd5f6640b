"""The CLI's batch paths through the same stages as the listener, run synchronously:

- `cxbot ingest`: JSON Lines backfill through the same validation and dedup; enriched after,
  and never alerted (old signals are history, not news);
- `cxbot replay`: a saved delivery through verify-less parse → store → enrich → alerts;
- `cxbot reprocess`: re-enrich stored signals after the analyser or the taxonomy changed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from cxbot.alerts.rules import AlertPolicy
from cxbot.config import Settings
from cxbot.enrich import Enrichment
from cxbot.enrich import rows as rows_sql
from cxbot.enrich.worker import build_enricher, enrich_all_pending, enriched_values
from cxbot.errors import BadRequest, NotFound
from cxbot.listener.webhooks import answer, check_and_parse, record_for
from cxbot.models import Signal, iso_utc
from cxbot.poll.runner import Progress, RunReport
from cxbot.poll.schedule import poll_now
from cxbot.sources import get_provider
from cxbot.sources.base import Delivery
from cxbot.sources.fields import decode_json, describe_validation
from cxbot.sources.generic import signal_from_generic
from cxbot.store.intake import DeliveryRecord, store_delivery
from cxbot.store.writer import AnyWriter, Store, connect_for, writer_for

NO_ALERTS: AlertPolicy | None = None  # enrichment without the rules stage


# --- ingest ----------------------------------------------------------------------------------

CHUNK = 500


@dataclass
class IngestReport:
    accepted: int = 0
    duplicates: int = 0
    enriched: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    new_ids: list[int] = field(default_factory=list)


def parse_line(raw: bytes) -> Signal:
    data = decode_json(raw.strip())
    try:
        return signal_from_generic(data)
    except BadRequest:
        raise
    except (ValueError, TypeError) as exc:
        raise BadRequest(describe_validation(exc)) from None


def ingest_lines(
    settings: Settings,
    lines: Iterable[tuple[int, bytes]],
    *,
    source: str,
    progress: Callable[[int], None] = lambda n: None,
) -> IngestReport:
    report = IngestReport()
    writer = writer_for(settings.db_path, settings.file.database, settings.tz)
    writer.start()
    try:
        chunk: list[tuple[int, bytes, Signal]] = []
        for number, raw in lines:
            try:
                chunk.append((number, raw, parse_line(raw)))
            except BadRequest as exc:
                report.rejected.append((number, exc.message))
                progress(1)
            if len(chunk) >= CHUNK:
                _flush(writer, chunk, source, report, progress)
                chunk = []
        if chunk:
            _flush(writer, chunk, source, report, progress)
    finally:
        writer.close()
    report.enriched = enrich_pending(settings)
    return report


def _flush(
    writer: AnyWriter,
    chunk: list[tuple[int, bytes, Signal]],
    source: str,
    report: IngestReport,
    progress: Callable[[int], None],
) -> None:
    rec = DeliveryRecord(
        source=source,
        provider="generic",
        received_at=iso_utc(datetime.now(UTC)),
        body="".join(raw.decode("utf-8", "replace") for _, raw, _ in chunk),
        content_type="application/x-ndjson",
        event_type="ingest",
        signals=[s for _, _, s in chunk],
    )
    stored = writer.submit(partial(store_delivery, rec=rec)).result()
    report.accepted += stored.accepted
    report.duplicates += stored.duplicates
    report.new_ids.extend(stored.new_ids)
    progress(len(chunk))


def enrich_pending(settings: Settings) -> int:
    """Enrich every stored signal that is not yet enriched; returns how many. A backfill
    never alerts: old signals are history, not news."""
    return enrich_all_pending(settings, policy=NO_ALERTS)


# --- replay ----------------------------------------------------------------------------------


def replay_file(
    settings: Settings, source_name: str, body: bytes, headers: Mapping[str, str]
) -> dict[str, Any]:
    source = settings.sources.get(source_name)
    if source is None:
        raise NotFound(f"unknown source {source_name!r}: add [sources.{source_name}] to the config")
    provider = get_provider(source.type)
    unchecked = dataclasses.replace(source, verify=False)
    delivery = Delivery(body=body, headers=dict(headers), now=time.time())
    parsed = check_and_parse(provider, unchecked, source.credentials, delivery)
    rec = record_for(unchecked, provider, delivery, parsed, "application/json")
    writer = writer_for(settings.db_path, settings.file.database, settings.tz)
    writer.start()
    try:
        stored = writer.submit(partial(store_delivery, rec=rec)).result()
    finally:
        writer.close()
    enrich_all_pending(settings, policy=settings.alert_policy)  # a replay alerts like a webhook
    return answer(stored, parsed)


# --- poll ------------------------------------------------------------------------------------


def poll_once(
    settings: Settings,
    names: Sequence[str],
    since: datetime | None = None,
    progress: Progress = lambda name, n, oldest: None,
) -> list[tuple[str, RunReport | None]]:
    """`cxbot poll`: the named poll sources (all when none) once now, then enrichment. New
    reviews alert as in `serve` (a first run or `since` is a backfill and does not)."""
    unknown = [n for n in names if n not in settings.polls]
    if unknown:
        known = ", ".join(settings.polls) or "none configured"
        raise NotFound(f"unknown poll source {unknown[0]!r} (poll sources: {known})")
    chosen = [settings.polls[n] for n in names or settings.polls]
    store = Store(writer_for(settings.db_path, settings.file.database, settings.tz))
    store.open()
    try:
        admins = settings.file.slack.admin_channel
        done = asyncio.run(
            poll_now(store, chosen, since=since, progress=progress, admin_channel=admins)
        )
    finally:
        store.close()
    enrich_all_pending(settings, policy=settings.alert_policy)
    return [(s.name, report) for s, report in done]


# --- reprocess -------------------------------------------------------------------------------


def restamped(
    rows: Sequence[dict[str, Any]], results: Sequence[Enrichment], now: datetime
) -> list[list[Any]]:
    stamp = iso_utc(now)
    return [[*enriched_values(e, stamp), row["id"]] for row, e in zip(rows, results, strict=True)]


def reprocess(
    settings: Settings, since: str | None, progress: Callable[[int], None] = lambda n: None
) -> int:
    """Re-enrich stored signals (created at or after `since`, ISO date) after the analyser or the
    taxonomy changed. Enriched signals only: pending ones are the worker's. Alerts are not
    decided again: these signals are not news."""
    enricher = build_enricher(settings)
    writer = writer_for(settings.db_path, settings.file.database, settings.tz)
    writer.start()
    reader = connect_for(settings.db_path, settings.file.database, readonly=True)
    last, total = 0, 0
    try:
        while True:
            # Keyset pagination by id: stable while the rows are being rewritten.
            rows = rows_sql.enriched_after(reader, last, since or "")
            if not rows:
                break
            results = enricher.enrich_many(rows)
            writer.submit(
                partial(
                    rows_sql.rewrite_enrichment,
                    values=restamped(rows, results, datetime.now(UTC)),
                )
            ).result()
            last = rows[-1]["id"]
            total += len(rows)
            progress(len(rows))
        writer.submit(rows_sql.recount_profile_sentiment).result()
    finally:
        reader.conn.close()
        writer.close()
    return total


def count_reprocessable(settings: Settings, since: str | None) -> int:
    reader = connect_for(settings.db_path, settings.file.database, readonly=True)
    try:
        return rows_sql.count_enriched(reader, since or "")
    finally:
        reader.conn.close()

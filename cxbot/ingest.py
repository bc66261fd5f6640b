"""`cxbot ingest`: JSON Lines backfill through the same validation and dedup as the listener."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from cxbot.config import Settings
from cxbot.errors import BadRequest
from cxbot.models import Signal, iso_utc
from cxbot.sources.fields import decode_json, describe_validation
from cxbot.sources.generic import signal_from_generic
from cxbot.store.intake import DeliveryRecord, store_delivery
from cxbot.store.writer import Writer, writer_for

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
    writer = writer_for(settings)
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
    writer: Writer,
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
    """Enrich every stored signal that is not yet enriched; returns how many."""
    from cxbot.enrich.worker import enrich_all_pending

    return enrich_all_pending(settings)

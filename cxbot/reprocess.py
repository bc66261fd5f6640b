"""`cxbot reprocess`: re-enrich stored signals after the analyser or the taxonomy changed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlite_utils import Database

from cxbot.config import Settings
from cxbot.enrich import Enrichment
from cxbot.enrich.worker import _COLUMNS, BATCH, ENRICHED_COLUMNS, build_enricher, enriched_values
from cxbot.models import iso_utc


def _restamp(
    db: Database, rows: Sequence[dict[str, Any]], results: Sequence[Enrichment], now: datetime
) -> None:
    stamp = iso_utc(now)
    sets = ", ".join(f"{c} = ?" for c in ENRICHED_COLUMNS)
    db.conn.executemany(
        f"UPDATE signals SET {sets} WHERE id = ?",
        [[*enriched_values(e, stamp), row["id"]] for row, e in zip(rows, results, strict=True)],
    )


def _recount_profiles(db: Database) -> None:
    """Profile sentiment follows the re-scored texts (counts and dates do not change)."""
    db.execute(
        """UPDATE customers SET
             sentiment_sum = coalesce((SELECT sum(sentiment) FROM signals s
                                       WHERE s.customer_id = customers.id), 0),
             sentiment_count = (SELECT count(sentiment) FROM signals s
                                WHERE s.customer_id = customers.id),
             avg_sentiment = (SELECT avg(sentiment) FROM signals s
                              WHERE s.customer_id = customers.id)"""
    )


def reprocess(
    settings: Settings, since: str | None, progress: Callable[[int], None] = lambda n: None
) -> int:
    """Re-enrich stored signals (created at or after `since`, ISO date) after the analyser or the
    taxonomy changed. Enriched signals only: pending ones are the worker's. Alerts are not
    decided again: these signals are not news."""
    from cxbot.store.writer import connect, writer_for

    enricher = build_enricher(settings)
    writer = writer_for(settings)
    writer.start()
    reader = connect(settings.db_path, readonly=True)
    cols = ", ".join(_COLUMNS)
    last, total = 0, 0
    try:
        while True:
            # Keyset pagination by id: stable while the rows are being rewritten.
            cur = reader.execute(
                f"SELECT {cols} FROM signals WHERE id > ? AND enriched_at IS NOT NULL"
                " AND created_at >= ? ORDER BY id LIMIT ?",
                [last, since or "", BATCH],
            )
            rows = [dict(zip(_COLUMNS, r, strict=True)) for r in cur.fetchall()]
            if not rows:
                break
            results = enricher.enrich_many(rows)
            writer.submit(
                partial(_restamp, rows=rows, results=results, now=datetime.now(UTC))
            ).result()
            last = rows[-1]["id"]
            total += len(rows)
            progress(len(rows))
        writer.submit(_recount_profiles).result()
    finally:
        reader.conn.close()
        writer.close()
    return total


def count_reprocessable(settings: Settings, since: str | None) -> int:
    from cxbot.store.writer import connect

    reader = connect(settings.db_path, readonly=True)
    try:
        return int(
            reader.execute(
                "SELECT count(*) FROM signals WHERE enriched_at IS NOT NULL AND created_at >= ?",
                [since or ""],
            ).fetchone()[0]
        )
    finally:
        reader.conn.close()

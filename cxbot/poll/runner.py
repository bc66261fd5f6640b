"""One poll of one source: its pages since the stored cursor, into the webhooks' intake.

Each page is stored in one writer job with the cursor that follows it, so a restart resumes at
the first page not stored and nothing is stored twice (dedup by the provider's review id is the
backstop). The first complete walk of a source is a backfill: its deliveries are typed
`poll-backfill` and their signals never alert; from then on new reviews alert as webhooks do.
A walk goes newest first and ends at the first review older than the newest one of the last
complete walk.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlite_utils import Database

from cxbot.errors import BadRequest
from cxbot.listener.logsafe import esc
from cxbot.models import iso_utc
from cxbot.outbox import rows as outbox
from cxbot.poll import records
from cxbot.poll.config import PollSource
from cxbot.poll.fetch import Fetcher, FetchError
from cxbot.poll.records import Cursor
from cxbot.sources.base import ItemError
from cxbot.sources.fields import parse_time
from cxbot.sources.polling import Page, PollError, Query
from cxbot.store.edits import apply_edits
from cxbot.store.intake import BACKFILL_EVENT_TYPE, DeliveryRecord, StoredDelivery, store_deliveries

log = logging.getLogger("cxbot.poll")

POLL_EVENT_TYPE = "poll"
# A walk reads this far behind the newest review it saw last time: providers publish reviews
# hours or days after they were written, and such a late one is older than that newest.
LOOKBACK = timedelta(days=2)
# Answers to a stored page cursor that mean it is stale: the next run starts the walk afresh.
STALE_CURSOR = (400, 404, 410)
MAX_PAGES = 10_000  # a provider that pages forever is stopped, not followed


@dataclass
class RunReport:
    source: str
    backfill: bool = False
    pages: int = 0
    accepted: int = 0
    duplicates: int = 0
    edited: int = 0  # known reviews with new words or stars (cxbot/store/edits.py)
    skipped: int = 0
    new_ids: list[int] = field(default_factory=list)
    error: str | None = None
    complete: bool = False


def _newest(page: Page, known: str | None) -> str | None:
    stamps = [iso_utc(s.created_at) for s in page.signals if s.created_at is not None]
    if known:
        stamps.append(known)
    return max(stamps) if stamps else None


def _store_page(
    db: Database, rec: DeliveryRecord | None, source: str, cursor: Cursor, now: str
) -> tuple[StoredDelivery | None, list[int]]:
    """The page's edits, its new signals and the cursor after it, committed together."""
    edited = apply_edits(db, source, rec.signals, now) if rec is not None else []
    stored = store_deliveries(db, [rec])[0] if rec is not None else None
    records.save_cursor(db, source, cursor, now)
    return stored, edited


def _finish(
    db: Database, source: PollSource, now: datetime, error: str | None, admin_channel: str | None
) -> int | None:
    """The run's outcome; on the N-th failure in a row, a report owed to the admins' channel
    (once per streak: the key holds the last success). Returns the outbox id, if one is owed."""
    status = records.record_outcome(db, source.name, iso_utc(now), error)
    after = source.options.alert_after_failures
    if error is None or admin_channel is None or status.failures != after:
        return None
    return outbox.owe(
        db,
        kind="poll-failing",
        dedup_key=outbox.poll_failing_key(source.name, status.last_ok or "never"),
        channel=admin_channel,
        now=now,
        payload=json.dumps({"source": source.name, "failures": after, "error": error}),
    )


def _record(
    source: PollSource, body: bytes, page: Page, backfill: bool, now: str
) -> DeliveryRecord | None:
    if not page.signals and not page.skipped:
        return None  # nothing new to keep: an empty page leaves no event row
    return DeliveryRecord(
        source=source.name,
        provider=source.type,
        received_at=now,
        body=body.decode("utf-8", "replace"),
        content_type="application/json",
        event_type=BACKFILL_EVENT_TYPE if backfill else POLL_EVENT_TYPE,
        signals=page.signals,
        rejected=[ItemError(i, msg) for i, msg in enumerate(page.skipped)],
    )


# (source, signals read on a page, the oldest one's time): for `cxbot poll`'s progress bar.
Progress = Callable[[str, int, datetime | None], None]


async def run_source(
    store: Any,
    fetcher: Fetcher,
    source: PollSource,
    *,
    since: datetime | None = None,
    on_new: Callable[[list[int]], None] = lambda ids: None,
    progress: Progress = lambda name, n, oldest: None,
    admin_channel: str | None = None,
    on_alert: Callable[[list[int]], None] = lambda ids: None,
) -> RunReport:
    """Walk `source` from its cursor (or, given `since`, afresh back to that time, quietly)."""
    started = time.perf_counter()
    status = await store.read(partial(records.poll_status, source=source.name))
    cursor = status.cursor
    backfill = since is not None or not cursor.backfilled
    if since is not None:
        cursor = Cursor(since=cursor.since, backfilled=cursor.backfilled)  # a fresh walk
    last = parse_time(cursor.since, "cursor.since")
    mark = since or (last - LOOKBACK if last else None)
    query = Query(source.options, mark)
    report = RunReport(source.name, backfill=backfill)
    page_cursor = cursor.page
    walk_newest = cursor.walk_newest
    poller = source.poller
    try:
        while True:
            req = poller.request(page_cursor, query)
            body = await fetcher.get(source, req)
            page = poller.read(body, page_cursor, query)
            walk_newest = _newest(page, walk_newest)
            if page.next is None:  # the walk is complete: the next one stops at its newest
                since_text = max(filter(None, [walk_newest, cursor.since]), default=None)
                after = Cursor(since=since_text, backfilled=True)
            else:
                if page.next == page_cursor or report.pages >= MAX_PAGES:
                    raise PollError(f"the provider keeps paging ({report.pages} pages); stopped")
                after = Cursor(page.next, cursor.since, cursor.backfilled, walk_newest)
            now = iso_utc(datetime.now(UTC))
            rec = _record(source, body, page, backfill, now)
            stored, edited = await store.write(
                partial(_store_page, rec=rec, source=source.name, cursor=after, now=now)
            )
            report.pages += 1
            report.skipped += len(page.skipped)
            report.edited += len(edited)
            if stored is not None:
                report.accepted += stored.accepted
                report.duplicates += stored.duplicates - len(edited)
                report.new_ids.extend(stored.new_ids)
            if (stored is not None and stored.new_ids) or edited:
                on_new([*(stored.new_ids if stored else []), *edited])  # to enrich
            dated = [sig.created_at for sig in page.signals if sig.created_at is not None]
            progress(source.name, len(page.signals), min(dated, default=None))
            if page.next is None:
                report.complete = True
                break
            page_cursor = page.next
    except (PollError, BadRequest) as exc:
        report.error = str(exc.message if isinstance(exc, BadRequest) else exc)
        if isinstance(exc, FetchError) and exc.status in STALE_CURSOR and page_cursor is not None:
            restart = Cursor(since=cursor.since, backfilled=cursor.backfilled)
            now = iso_utc(datetime.now(UTC))
            await store.write(
                partial(records.save_cursor, source=source.name, cursor=restart, now=now)
            )
    except Exception as exc:  # noqa: BLE001 - a failing source is reported, the others go on
        log.exception("poll source=%s failed unexpectedly", esc(source.name))
        report.error = f"{type(exc).__name__}: {exc}"[:300]
    owed = await store.write(
        partial(
            _finish,
            source=source,
            now=datetime.now(UTC),
            error=report.error,
            admin_channel=admin_channel,
        )
    )
    if owed is not None:
        on_alert([owed])
    log.info(
        "poll source=%s type=%s %s pages=%d accepted=%d edited=%d duplicates=%d skipped=%d %s %.1fms",
        esc(source.name), source.type, "backfill" if backfill else "new", report.pages,
        report.accepted, report.edited, report.duplicates, report.skipped,
        f"error={esc(report.error)}" if report.error else "ok",
        (time.perf_counter() - started) * 1000,
    )  # fmt: skip
    return report

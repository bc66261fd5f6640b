"""Housekeeping in `cxbot serve`, APScheduler jobs owned by one cleanup_ctx: retention (daily)
and the alert lifecycle (every LIFECYCLE_SECONDS: snooze wake-ups and SLA breaches).

The job runs once a day (and once shortly after start-up, so a server restarted daily still
prunes) and deletes raw deliveries older than `[retention] events_days` (cxbot/store/retention.py)
and signals older than `[retention] signals_days` (cxbot/privacy/records.py) in bounded steps,
each its own writer job so webhooks are never held up for long.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from cxbot.alerts.lifecycle import LIFECYCLE_SECONDS, tick
from cxbot.config import RetentionConfig, Settings
from cxbot.listener.keys import OUTBOX, SETTINGS, STORE
from cxbot.privacy.records import prune_signals
from cxbot.store.retention import PRUNE_STEP, prune_events
from cxbot.store.writer import Store

log = logging.getLogger("cxbot.retention")

HOUSEKEEPING = web.AppKey("housekeeping", AsyncIOScheduler)
START_DELAY = timedelta(minutes=5)  # after start-up's own work (backlog, missed digests)


async def _in_steps(store: Store, job: Callable[..., int], step: int, **args: object) -> int:
    """Run a pruning job until a call removes fewer than `step` rows; the total removed."""
    total = 0
    while True:
        deleted = await store.write(partial(job, limit=step, **args))
        total += deleted
        if deleted < step:
            return total


async def prune_once(
    store: Store, config: RetentionConfig, now: datetime, step: int = PRUNE_STEP
) -> int:
    """Every event past its retention, `step` rows per writer job; the number pruned."""
    if config.events_days == 0:
        return 0
    before = now - timedelta(days=config.events_days)
    total = await _in_steps(store, prune_events, step, before=before)
    if total:
        log.info("retention: pruned %d events received before %s", total, before.date())
    return total


async def prune_signals_once(
    store: Store, config: RetentionConfig, now: datetime, step: int = PRUNE_STEP
) -> int:
    """Every signal past `signals_days`, `step` per writer job; the number deleted."""
    if config.signals_days == 0:
        return 0
    before = now - timedelta(days=config.signals_days)
    total = await _in_steps(store, prune_signals, step, before=before, now=now)
    if total:
        log.info("retention: deleted %d signals created before %s", total, before.date())
    return total


async def _job(store: Store, config: RetentionConfig) -> None:
    try:
        now = datetime.now(UTC)
        await prune_once(store, config, now)
        await prune_signals_once(store, config, now)
    except Exception:  # a failed prune is retried tomorrow; it must not stop the scheduler
        log.exception("retention: prune failed")


async def lifecycle_once(
    store: Store, settings: Settings, now: datetime, poke: Callable[[], None] | None = None
) -> list[int]:
    """Snoozes due wake up, SLA breaches are reported (cxbot/alerts/lifecycle.py)."""
    owed: list[int] = await store.write(
        partial(tick, now=now, slas=settings.file.sla, tz=settings.tz)
    )
    if owed and poke is not None:
        poke()
    return owed


async def _lifecycle_job(store: Store, settings: Settings, poke: Callable[[], None]) -> None:
    try:
        owed = await lifecycle_once(store, settings, datetime.now(UTC), poke)
        if owed:
            log.info("lifecycle: %d messages owed (wake-ups, SLA breaches)", len(owed))
    except Exception:  # tried again on the next tick; it must not stop the scheduler
        log.exception("lifecycle: tick failed")


async def housekeeping_ctx(app: web.Application) -> AsyncIterator[None]:
    """Register after the store's and the workers' ctx (the lifecycle pokes the outbox)."""
    settings = app[SETTINGS]
    config = settings.file.retention
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        _job,
        IntervalTrigger(days=1, timezone=UTC),
        args=[app[STORE], config],
        id="retention",
        name="retention",
        coalesce=True,
        max_instances=1,
        next_run_time=datetime.now(UTC) + START_DELAY,
    )
    scheduler.add_job(
        _lifecycle_job,
        IntervalTrigger(seconds=LIFECYCLE_SECONDS, timezone=UTC),
        args=[app[STORE], settings, app[OUTBOX].poke],
        id="lifecycle",
        name="lifecycle",
        coalesce=True,
        max_instances=1,
    )
    scheduler.start()
    app[HOUSEKEEPING] = scheduler
    try:
        yield
    finally:
        scheduler.shutdown(wait=False)

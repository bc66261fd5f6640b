"""Poll sources in `cxbot serve` (an APScheduler job per source) and `cxbot poll` (now, once).

Each source runs on its own `interval`, one poll of it at a time (`max_instances=1`, and a
lock shared with anything else in the process), first at start-up. With replicas on
PostgreSQL the replica holding the lease `poll:NAME` polls that source; the others skip their
turn, and one takes it over when the holder dies (cxbot/store/leases.py). A failing source
logs, records its error (shown by `/healthz`) and waits for its next turn; the others go on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime

import aiohttp
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from cxbot.listener.keys import NEW_SIGNALS, OUTBOX, SETTINGS, STORE
from cxbot.listener.logsafe import esc
from cxbot.poll.config import PollSource
from cxbot.poll.fetch import Fetcher
from cxbot.poll.runner import Progress, RunReport, run_source
from cxbot.store.leases import leases_of

log = logging.getLogger("cxbot.poll")

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=60, connect=15)


class Polls:
    """The process's pollers: one fetcher (and its tokens), one lock per source."""

    def __init__(
        self,
        store: object,
        session: aiohttp.ClientSession,
        admin_channel: str | None = None,
        on_alert: Callable[[list[int]], None] = lambda ids: None,
    ) -> None:
        self.store = store
        self.admin_channel = admin_channel
        self.on_alert = on_alert
        self.fetcher = Fetcher(session)
        self._locks: dict[str, asyncio.Lock] = {}
        self.tasks: set[asyncio.Task[object]] = set()

    async def run(
        self,
        source: PollSource,
        *,
        since: datetime | None = None,
        on_new: Callable[[list[int]], None] = lambda ids: None,
        progress: Progress = lambda name, n, oldest: None,
    ) -> RunReport | None:
        """One poll of `source`; None when another replica holds it."""
        leases, name = leases_of(self.store), f"poll:{source.name}"
        async with self._locks.setdefault(source.name, asyncio.Lock()):
            if not await leases.hold(name):
                return None
            try:
                return await run_source(
                    self.store,
                    self.fetcher,
                    source,
                    since=since,
                    on_new=on_new,
                    progress=progress,
                    admin_channel=self.admin_channel,
                    on_alert=self.on_alert,
                )
            finally:
                # A replica keeps its PostgreSQL lease (the source stays with it); on SQLite
                # the file lock spans one run, so `cxbot poll` can run between `serve`'s turns.
                if not leases.shared:
                    await leases.release(name)


POLLS = web.AppKey("polls", Polls)


async def _job(app: web.Application, source: PollSource) -> None:
    polls = app[POLLS]
    task = asyncio.current_task()
    if task is not None:
        polls.tasks.add(task)
    try:
        await polls.run(source, on_new=lambda ids: app[NEW_SIGNALS].set())
    except Exception:  # noqa: BLE001 - the next turn tries again; other sources go on
        log.exception("poll source=%s failed; next try in %.0fs", esc(source.name), source.interval)
    finally:
        if task is not None:
            polls.tasks.discard(task)


async def poll_scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    """Register after the store's ctx (it writes through the store)."""
    settings = app[SETTINGS]
    if not settings.polls:
        yield
        return
    session = aiohttp.ClientSession(timeout=HTTP_TIMEOUT)
    app[POLLS] = Polls(app[STORE], session, settings.file.slack.admin_channel, app[OUTBOX].poke)
    scheduler = AsyncIOScheduler(timezone=UTC)
    for name, source in settings.polls.items():
        scheduler.add_job(
            _job,
            IntervalTrigger(seconds=source.interval, timezone=UTC),
            args=[app, source],
            id=f"poll:{name}",
            name=f"poll {name}",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),  # at start-up
        )
    scheduler.start()
    log.info(
        "polling %s", ", ".join(f"{n} every {s.interval:g}s" for n, s in settings.polls.items())
    )
    try:
        yield
    finally:
        scheduler.shutdown(wait=False)
        running = list(app[POLLS].tasks)
        for task in running:
            task.cancel()  # a page being stored still commits: the writer owns it
        await asyncio.gather(*running, return_exceptions=True)
        await session.close()


async def poll_now(
    store: object,
    sources: Sequence[PollSource],
    *,
    since: datetime | None = None,
    progress: Progress = lambda name, n, oldest: None,
    admin_channel: str | None = None,
) -> list[tuple[PollSource, RunReport | None]]:
    """`cxbot poll`: each source once, in turn (a failing one does not stop the next)."""
    async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as session:
        polls = Polls(store, session, admin_channel)
        return [(s, await polls.run(s, since=since, progress=progress)) for s in sources]

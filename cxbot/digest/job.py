"""Weekly digests in `cxbot serve`: an APScheduler 3.x AsyncIOScheduler owned by a cleanup_ctx.

One job, `run_due`, fires at the configured weekday and local time (CronTrigger in the team's
zone, so DST moves the UTC instant, not the local time) and once at start-up. It asks our own
clock which send was due last: on time or missed by less than `grace_hours`, that week's
digest is owed; missed by more, the week is recorded as skipped. Either way the decision is a
row in `digests` (UNIQUE period, channel) written in the same transaction as the outbox row
(UNIQUE dedup_key `digest:PERIOD:CHANNEL`): a restart, a second process or a re-run finds the
row and writes nothing, so a week is never sent twice. Delivery is the outbox's
(`cxbot.outbox.worker`); an SQL trigger copies its outcome into `digests` (migration m004).
`send_now` is `cxbot digest --send`: the same rows, then the outbox delivers them at once.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from cxbot.alerts.sla import SlaRule
from cxbot.digest.build import (
    Digest,
    Scope,
    WeekError,
    build_digest,
    digest_window,
    latest_occurrence,
)
from cxbot.digest.chart import chart_name, chart_png
from cxbot.digest.config import WEEKDAYS, DigestConfig
from cxbot.digest.queries import collect
from cxbot.digest.records import (
    delivery_state,
    digest_status,
    enqueue_digest,
    installed_at,
    record_skipped,
)
from cxbot.digest.render import quoted, render, render_plain
from cxbot.listener.keys import OUTBOX, SETTINGS, STORE
from cxbot.outbox.worker import OutboxWorker
from cxbot.store.leases import leases_of

log = logging.getLogger("cxbot.digest")

Clock = Callable[[], datetime]
JOB_ID = "digest"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Outcome:
    period: str
    channel: str
    status: str  # "queued" | "skipped" for a row written now, else the row found
    new: bool  # this call wrote the row


class DigestRunner:
    """Builds and records digests; `store` is a Store (or anything with read/write)."""

    def __init__(
        self,
        store: Any,
        config: DigestConfig,
        tz: ZoneInfo,
        poke: Callable[[], None] = lambda: None,
        clock: Clock = utcnow,
        stamp: Clock = utcnow,
        slas: Sequence[SlaRule] = (),
    ) -> None:
        self.store = store
        self.slas = slas  # the closed-loop figures' SLAs
        self.config = config
        self.tz = tz
        self.poke = poke
        self.clock = clock  # decides which week is due, and the "as of" of the figures
        # Stamps the rows: the outbox times delivery out against created_at with its own
        # clock, so the rows must carry that clock's time, not the (testable) decision time.
        self.stamp = stamp
        self.runs = 0  # finished scheduled runs (what tests and logs can wait on)

    async def run_due(self) -> list[Outcome]:
        """The scheduled job: the latest due send, on time or within grace → sent; else
        recorded as skipped. Safe to run any number of times."""
        now = self.clock()
        period, due = latest_occurrence(now, self.config.parsed_schedule, self.tz)
        late = now - due
        if late <= timedelta(hours=self.config.grace_hours):
            return await self.send(period, now)
        # A send due before this database existed was never missed: nobody had installed us.
        installed = await self.store.read(installed_at)
        before_install = installed is not None and due < installed
        outcomes = []
        for channel in self.config.channels:
            new = await self.store.write(
                partial(record_skipped, period=period, channel=channel, now=self.stamp())
            )
            if new and before_install:
                log.info(
                    "digest %s for %s was due before this database was created: not sent",
                    period,
                    channel,
                )
            elif new:
                log.warning(
                    "digest %s for %s missed by %.1f h (grace %g h): recorded as skipped",
                    period,
                    channel,
                    late.total_seconds() / 3600,
                    self.config.grace_hours,
                )
            status = await self.store.read(partial(digest_status, period=period, channel=channel))
            outcomes.append(Outcome(period, channel, status or "skipped", new))
        return outcomes

    async def send(
        self, period: str, now: datetime, channels: list[str] | None = None
    ) -> list[Outcome]:
        """Owe `period`'s digest to each channel that has no row for it yet."""
        window = digest_window(period, self.tz, now)
        if not window.complete:
            raise WeekError(f"{period} is not over yet: only a complete week is sent")
        outcomes = []
        for channel in channels or self.config.channels:
            found = await self.store.read(partial(digest_status, period=period, channel=channel))
            if found is not None:  # cheap check first: no need to build what is recorded
                outcomes.append(Outcome(period, channel, found, False))
                continue
            scope = Scope.of(self.config.filter_for(channel))
            data = await self.store.read(
                partial(collect, window=window, scope=scope, now=now, slas=self.slas)
            )
            digest = build_digest(data)
            chart = await self._chart(digest) if self.config.chart else None
            filename, title = chart_name(digest, channel)
            payload = {
                "message": render(digest),
                "chart": base64.b64encode(chart).decode("ascii") if chart else None,
                "filename": filename,
                "title": title,
                "period": period,
                "quoted": quoted(digest),  # what an erasure of one of them replaces
            }
            text = render_plain(digest)
            new = await self.store.write(
                partial(
                    enqueue_digest,
                    period=period,
                    channel=channel,
                    payload=payload,
                    text=text,
                    now=self.stamp(),
                )
            )
            if new:
                log.info("digest %s for %s queued: %s", period, channel, digest.headline)
            status = await self.store.read(partial(digest_status, period=period, channel=channel))
            outcomes.append(Outcome(period, channel, status or "queued", new))
        if any(o.new for o in outcomes):
            self.poke()
        return outcomes

    async def _chart(self, digest: Digest) -> bytes | None:
        try:  # drawn off the event loop; a chart that fails costs the picture, not the digest
            return await asyncio.to_thread(chart_png, digest)
        except Exception:
            log.exception("digest chart failed; sending the text alone")
            return None


async def send_now(
    runner: DigestRunner,
    worker: OutboxWorker,
    period: str,
    now: datetime,
    channels: list[str],
    wait_seconds: float = 60,
) -> list[tuple[str, bool, tuple[Any, ...]]]:
    """Owe `period`'s digest to `channels` (once per week and channel) and deliver what is
    owed now: per channel, whether this call wrote the row and its `delivery_state`. Like
    `cxbot serve`, the outbox also delivers anything else that is owed."""
    outcomes = await runner.send(period, now, channels)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while loop.time() < deadline:
        states = [
            await runner.store.read(partial(delivery_state, period=period, channel=c))
            for c in channels
        ]
        if not any(st[3] in ("pending", "sending") for st in states):
            break
        await asyncio.sleep(min(1.0, await worker.deliver_due()))
    return [
        (
            o.channel,
            o.new,
            await runner.store.read(partial(delivery_state, period=period, channel=o.channel)),
        )
        for o in outcomes
    ]


DIGESTS = web.AppKey("digests", DigestRunner)
SCHEDULER = web.AppKey("digest_scheduler", AsyncIOScheduler)
# Tests set this before the app starts (a callable returning an aware datetime).
DIGEST_CLOCK: web.AppKey[Clock] = web.AppKey("digest_clock")


async def _job(runner: DigestRunner) -> None:
    leases = leases_of(runner.store)
    try:
        # Replicas: the replica holding the "digest" lease runs it; the others wait, and one
        # takes over (run_due is idempotent) if the holder dies within the grace period.
        deadline = asyncio.get_running_loop().time() + runner.config.grace_hours * 3600
        while not await leases.hold("digest"):
            if asyncio.get_running_loop().time() > deadline:
                return
            await asyncio.sleep(LEADER_RETRY_SECONDS)
        await runner.run_due()
    except Exception:
        log.exception("digest run failed; the next run (or a restart) tries again")
    finally:
        runner.runs += 1


LEADER_RETRY_SECONDS = 5.0


async def digest_scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    """Register after the workers' ctx (it needs the store and the outbox's poke)."""
    settings = app[SETTINGS]
    config = settings.file.digest
    if not config.channels:
        log.info("no [digest] channels: weekly digests are off")
        yield
        return
    outbox = app[OUTBOX]
    clock = app.get(DIGEST_CLOCK, utcnow)
    runner = DigestRunner(
        app[STORE],
        config,
        settings.tz,
        outbox.poke,
        clock,
        stamp=outbox.clock,
        slas=settings.file.sla,
    )
    app[DIGESTS] = runner
    s = config.parsed_schedule
    scheduler = AsyncIOScheduler(timezone=settings.tz)
    trigger = CronTrigger(
        day_of_week=WEEKDAYS[s.weekday], hour=s.hour, minute=s.minute, timezone=settings.tz
    )
    scheduler.add_job(
        _job,
        trigger,
        args=[runner],
        id=JOB_ID,
        name="weekly digest",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,  # run_due itself decides between late-but-in-grace and skipped
        next_run_time=datetime.now(settings.tz),  # at start-up: a missed digest, if any
    )
    scheduler.start()
    app[SCHEDULER] = scheduler
    log.info("weekly digest: %s %s to %s", config.schedule, settings.tz.key, config.channels)
    try:
        yield
    finally:
        scheduler.shutdown(wait=False)

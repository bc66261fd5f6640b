"""Delivering what the outbox owes: alerts, roll-ups, spikes, message updates and digests.

Promises: every committed row is delivered at least once and, as far as Slack lets anyone know,
never twice. Before a post the row is marked `sending` (committed); after it, `sent` with the
message ts. A row found `sending` at start-up was interrupted mid-post: the worker looks for it
in the channel (each message carries its outbox id as metadata) and only posts it if absent.
Order is kept per channel: a row waiting for a retry holds back the later rows of its channel.
Pace is one message per second per channel (Slack's posting limit); 429 Retry-After is obeyed;
network errors and 5xx back off exponentially; after `send_timeout_seconds` a row is failed.
Kinds that are not Slack messages (`reply`: the provider's API) go to their handler, which
settles the row itself and raises `RetryLater` to be retried like a post.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Protocol

from sqlite_utils import Database

from cxbot.models import iso_utc
from cxbot.outbox.messages import build_message
from cxbot.outbox.rows import EDITS, last_sent_at, mark, owed_rows, parent_ts, sent_message
from cxbot.slack.sinks import RetryLater, Sink, Undeliverable
from cxbot.store.leases import SHARED_POLL_SECONDS, leases_of

log = logging.getLogger("cxbot.outbox")

MAX_BACKOFF = 60.0


class KindHandler(Protocol):
    """Delivers an outbox kind that is not a Slack message; marks the row itself."""

    async def deliver(self, row: dict[str, Any]) -> None: ...
    async def give_up(self, row: dict[str, Any], reason: str) -> None: ...


def parse_iso(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def next_due_per_channel(
    rows: list[dict[str, Any]], now: datetime
) -> dict[str, list[dict[str, Any]]]:
    """Per channel, the due rows in id order, stopping at the first one that must wait."""
    lanes: dict[str, list[dict[str, Any]]] = {}
    blocked: set[str] = set()
    for row in rows:
        ch = row["channel"]
        if ch in blocked:
            continue
        if parse_iso(row["next_attempt_at"]) > now:
            # Roll-ups wait for their window without holding back the channel's alerts.
            if row["kind"] != "rollup":
                blocked.add(ch)
            continue
        lanes.setdefault(ch, []).append(row)
    return lanes


def backoff(attempts: int) -> float:
    base = min(MAX_BACKOFF, 2.0 ** max(0, attempts - 1))
    return base * (0.75 + random.random() / 2)  # jitter: retries from many rows do not align


class OutboxWorker:
    def __init__(
        self,
        store: Any,
        sink: Sink,
        *,
        timeout_seconds: float,
        pace_seconds: float = 1.0,
        render: Callable[[Database, dict[str, Any]], Any] = build_message,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        handlers: Mapping[str, KindHandler] | None = None,
    ) -> None:
        self.store = store
        self.handlers = dict(handlers or {})
        self.sink = sink
        self.timeout = timedelta(seconds=timeout_seconds)
        self.pace = pace_seconds
        self.render = render
        self.clock = clock
        self.wake = asyncio.Event()
        self._lanes: dict[str, asyncio.Task[None]] = {}
        self._last_post: dict[str, float] = {}
        self.delivered = 0

    def poke(self, _ids: object = None) -> None:
        self.wake.set()

    async def run(self) -> None:
        try:
            while True:
                try:
                    wait = await self.dispatch()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("outbox round failed")
                    wait = 5.0
                # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that lands as the
                # event fires, and shutdown then waits on this loop forever.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self.wake.wait()
                self.wake.clear()
        finally:
            for task in self._lanes.values():
                task.cancel()
            await asyncio.gather(*self._lanes.values(), return_exceptions=True)

    async def dispatch(self) -> float:
        """Start a delivery task for each channel with due rows and none running: a channel
        that waits (pace, Retry-After) never holds back the others."""
        rows = await self.store.read(owed_rows)
        now = self.clock()
        leases = leases_of(self.store)
        busy = {ch for ch, task in self._lanes.items() if not task.done()}
        for channel, lane in next_due_per_channel(rows, now).items():
            if channel not in busy:
                # Replicas: one sender per channel, the one holding its lease.
                if leases.shared and not await leases.hold(f"outbox:{channel}"):
                    continue
                work = self._shared_lane(channel) if leases.shared else self._lane(lane)
                task = asyncio.create_task(work, name=f"outbox {channel}")
                task.add_done_callback(lambda _: self.wake.set())  # look again when it ends
                self._lanes[channel] = task
                busy.add(channel)
        waits = [
            (parse_iso(r["next_attempt_at"]) - now).total_seconds()
            for r in rows
            if r["channel"] not in busy
        ]
        return max(0.05, min([SHARED_POLL_SECONDS if leases.shared else 5.0, *waits]))

    async def deliver_due(self) -> float:
        """One round: deliver what is due; returns seconds until the next row is due (≤ 5)."""
        rows = await self.store.read(owed_rows)
        now = self.clock()
        lanes = next_due_per_channel(rows, now)
        if lanes:
            await asyncio.gather(*(self._lane(rows) for rows in lanes.values()))
            return 0.0 if any(lanes.values()) else 1.0
        waits = [(parse_iso(r["next_attempt_at"]) - now).total_seconds() for r in rows]
        return max(0.05, min([5.0, *waits]))

    async def _shared_lane(self, channel: str) -> None:
        """A channel's lane on a shared database, under its lease: the rows are read again
        now (another replica may have sent some before we took over), and the pace starts
        from the channel's last message, whoever sent it."""
        leases = leases_of(self.store)
        try:
            rows = await self.store.read(owed_rows)
            lane = next_due_per_channel(rows, self.clock()).get(channel, [])
            last = await self.store.read(partial(last_sent_at, channel=channel))
            if last is not None:
                ago = (self.clock() - parse_iso(last)).total_seconds()
                mark_at = time.monotonic() - max(0.0, ago)
                self._last_post[channel] = max(self._last_post.get(channel, mark_at), mark_at)
            await self._lane(lane)
        finally:
            await leases.release(f"outbox:{channel}")

    async def _lane(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            if not await self._deliver(row):
                return  # keep the channel's order: later rows wait for this one

    async def _pace(self, channel: str) -> None:
        last = self._last_post.get(channel)
        if last is not None:
            delay = self.pace - (time.monotonic() - last)
            if delay > 0:
                await asyncio.sleep(delay)
        self._last_post[channel] = time.monotonic()

    async def _deliver(self, row: dict[str, Any]) -> bool:
        started = time.perf_counter()
        now = self.clock()
        oid = row["id"]
        handler = self.handlers.get(row["kind"])
        if now - parse_iso(row["created_at"]) > self.timeout and row["kind"] != "rollup":
            if handler is not None:
                await handler.give_up(row, f"gave up after {self.timeout}: {row['last_error']}")
                return True
            await self.store.write(
                partial(
                    mark,
                    outbox_id=oid,
                    status="failed",
                    last_error=f"gave up after {self.timeout}: {row['last_error']}",
                )
            )
            log.warning(
                "outbox id=%d %s channel=%s failed: timed out", oid, row["kind"], row["channel"]
            )
            return True
        try:
            if handler is not None:
                await handler.deliver(row)
                self.delivered += 1
                return True
            message, thread_ts, target = await self.store.read(partial(self._prepare, row=row))
            if row["kind"] in EDITS:
                if target is None:  # the alert is not posted yet; it will be posted as it is now
                    await self.store.write(
                        partial(
                            mark,
                            outbox_id=oid,
                            status="sent",
                            sent_at=iso_utc(now),
                            last_error="alert not posted yet",
                        )
                    )
                    return True
                await self._pace(row["channel"])
                await self.sink.update(target[0], target[1], message)
                posted = target
            else:
                posted = None
                if row["status"] == "sending":  # interrupted mid-post: did Slack take it?
                    since = parse_iso(row["created_at"]).timestamp() - 60
                    posted = await self.sink.find_posted(row["channel"], oid, since, thread_ts)
                if posted is None:
                    await self.store.write(
                        partial(mark, outbox_id=oid, status="sending", attempts=row["attempts"] + 1)
                    )
                    await self._pace(row["channel"])
                    posted = await self.sink.post(
                        row["channel"], message, thread_ts=thread_ts, outbox_id=oid
                    )
            await self.store.write(
                partial(
                    mark,
                    outbox_id=oid,
                    status="sent",
                    sent_at=iso_utc(self.clock()),
                    slack_channel=posted[0],
                    slack_ts=posted[1],
                    last_error=None,
                )
            )
            self.delivered += 1
            if row["kind"] == "digest":
                await self._upload_chart(row, posted[1])
            log.info(
                "outbox id=%d %s channel=%s sent ts=%s %.0fms",
                oid,
                row["kind"],
                row["channel"],
                posted[1],
                (time.perf_counter() - started) * 1000,
            )
            return True
        except RetryLater as exc:
            delay = exc.delay if exc.delay is not None else backoff(row["attempts"] + 1)
            due = self.clock() + timedelta(seconds=delay)
            # A post that may have reached Slack stays `sending`: the next try looks for it first.
            status = "sending" if exc.ambiguous and row["kind"] not in EDITS else "pending"
            await self.store.write(
                partial(
                    mark,
                    outbox_id=oid,
                    status=status,
                    attempts=row["attempts"] + 1,
                    next_attempt_at=iso_utc(due),
                    last_error=exc.reason,
                )
            )
            log.warning(
                "outbox id=%d %s channel=%s retry in %.1fs: %s",
                oid,
                row["kind"],
                row["channel"],
                delay,
                exc.reason,
            )
            return False
        except Undeliverable as exc:
            await self.store.write(
                partial(mark, outbox_id=oid, status="failed", last_error=exc.reason)
            )
            log.error(
                "outbox id=%d %s channel=%s failed: %s",
                oid,
                row["kind"],
                row["channel"],
                exc.reason,
            )
            return True

    async def _upload_chart(self, row: dict[str, Any], ts: str) -> None:
        """Best effort: the digest's text stands on its own; a failed upload is logged only."""
        payload = json.loads(row["payload"] or "{}")
        if not payload.get("chart"):
            return
        try:
            await self._pace(row["channel"])
            await self.sink.upload(
                row["channel"],
                payload["filename"],
                base64.b64decode(payload["chart"]),
                payload["title"],
            )
        except (RetryLater, Undeliverable) as exc:
            log.warning(
                "outbox id=%d chart upload to %s failed: %s", row["id"], row["channel"], exc
            )

    def _prepare(
        self, db: Database, row: dict[str, Any]
    ) -> tuple[dict[str, Any], str | None, tuple[str, str] | None]:
        message = self.render(db, row)
        target = None
        if row["kind"] in EDITS:
            payload = json.loads(row["payload"])
            target = sent_message(db, payload["alert_id"])
        return message, parent_ts(db, row), target

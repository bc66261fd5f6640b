"""Shutdown never hangs on a worker woken at the moment it is cancelled.

On Python 3.11 `asyncio.wait_for(event.wait(), t)` drops a cancellation that arrives while the
event fires, so a worker loop built on it kept running after `task.cancel()` and `cxbot serve`
waited on it forever (a digest poking the outbox during shutdown hung CI for 90 minutes). The
app is started for real and stopped right as both workers are woken, with the wake-up a few
loop turns before the cancel, so the cancel lands in every phase of the worker's wait.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from cxbot.app import create_app
from cxbot.config import Settings
from cxbot.listener.keys import NEW_SIGNALS, OUTBOX


async def test_the_app_stops_when_its_workers_are_woken_as_it_stops(settings: Settings) -> None:
    for turns in range(4):
        app = create_app(settings)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await asyncio.sleep(0.2)  # both workers are waiting for work
        app[OUTBOX].poke()
        app[NEW_SIGNALS].set()
        for _ in range(turns):
            await asyncio.sleep(0)
        # A bound on a hang, not a timing claim: a clean stop takes about a second. Waited on
        # without cancelling it, so nothing in the app can swallow the bound.
        stopping = asyncio.create_task(runner.cleanup())
        done, _ = await asyncio.wait({stopping}, timeout=15)
        assert stopping in done, f"the app did not stop (woken {turns} turn(s) before the stop)"
        stopping.result()

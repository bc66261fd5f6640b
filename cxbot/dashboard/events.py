"""Live updates: one task per app notices changes and wakes every open event stream.

It reads `change_marker` (the newest signal and outbox ids and the enrichment backlog: three
index lookups) twice a second, and only while someone is watching, on the store's reader: a
new signal is one change and its alert, after enrichment, another, and both should reach the
page well within 2 s. Any
writer counts, this process or another (`cxbot ingest`). Streams wait on the hub, never poll
the database themselves, so a hundred open pages cost what one does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("cxbot.dashboard")

Marker = tuple[int, ...]


class Hub:
    def __init__(self, read: Callable[[], Awaitable[Marker]], interval: float = 0.5) -> None:
        self._read = read
        self.interval = interval
        self.version = 0
        self.watchers = 0
        self.closing = False
        self._marker: Marker | None = None
        self._tick = asyncio.Event()
        self._closed = asyncio.Event()

    def _wake(self) -> None:
        tick, self._tick = self._tick, asyncio.Event()
        tick.set()

    async def run(self) -> None:
        while not self.closing:
            if self.watchers:
                try:
                    marker = await self._read()
                except Exception:  # noqa: BLE001 - the next second tries again
                    log.warning("dashboard change check failed", exc_info=True)
                else:
                    # The first look counts as a change: whatever happened before it is news
                    # to a stream that connected meanwhile (an extra refresh costs little).
                    if marker != self._marker:
                        self.version += 1
                        self._wake()
                    self._marker = marker
            with contextlib.suppress(TimeoutError):  # close() ends the wait at once
                await asyncio.wait_for(self._closed.wait(), self.interval)

    async def wait(self, version: int, heartbeat_s: float) -> int:
        """The version after a change past `version`, or the same one after `heartbeat_s` (a
        heartbeat is due) or when the hub is closing."""
        if self.version != version or self.closing:
            return self.version
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._tick.wait(), heartbeat_s)
        return self.version

    def close(self) -> None:
        """App shutdown: every stream ends now, so none holds up `shutdown_timeout_s`."""
        self.closing = True
        self._closed.set()
        self._wake()


def sse(event: str | None, data: str = "", comment: str | None = None) -> bytes:
    """One Server-Sent Events message."""
    if comment is not None:
        return f": {comment}\n\n".encode()
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return (f"event: {event}\n" if event else "").encode() + lines.encode() + b"\n"

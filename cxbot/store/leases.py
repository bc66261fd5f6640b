"""Named leases, so that work done by one process at a time stays so with several replicas.

Who takes one: the enrichment worker ("enrich"), the outbox worker per channel
("outbox:#channel": one sender, in order, at Slack's pace), the digest scheduler ("digest").

On SQLite every lease is granted (one `serve` per database file is the deployment) except a
poll source's (`poll:NAME`): `cxbot poll` may run beside `serve`, so that lease is an
exclusive `flock` on a small file beside the database (`cxbot.db.lock-poll-NAME`), which the
kernel frees when its process ends, however it ends. On
PostgreSQL a lease is a session advisory lock on one connection of this process, used from
one thread of its own. The lock lives as long as that connection: when a replica dies
(SIGKILL, a lost host), PostgreSQL ends its session and the lease is free for the next replica
that asks: the take-over needs no timeout and no clock. A holder checks its connection each
time it asks again; a lost connection loses every lease, and the holder stops before its next
step (`hold` then answers False until it wins the lease back).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import fcntl
import logging
import os
import re
from pathlib import Path
from typing import Any

log = logging.getLogger("cxbot.store")


# Leases that other processes on the same SQLite file compete for (see the module's docstring).
FILE_LOCKED = ("poll:",)


class Leases:
    def __init__(self, url: str | None = None, path: Path | None = None) -> None:
        self.url = url
        self.path = path  # the SQLite file, whose neighbours hold the file locks
        self.shared = url is not None  # other processes may share this database
        self._files: dict[str, int] = {}
        self._held: set[str] = set()
        self._conn: Any = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        if url is not None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                1, thread_name_prefix="cxbot-leases"
            )

    async def hold(self, name: str) -> bool:
        """True when this process holds `name` now (taking it if free)."""
        if self._executor is None:
            if self.path is not None and name.startswith(FILE_LOCKED):
                return await asyncio.to_thread(self._flock, name)  # file I/O: off the loop
            return True
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._hold, name)

    def _flock(self, name: str) -> bool:
        if name in self._files:
            return True
        assert self.path is not None
        safe = re.sub(r"[^\w.-]", "-", name.replace(":", "-"))
        # An empty file, locked without waiting: a busy lock is a "no", never a wait.
        fd = os.open(f"{self.path}.lock-{safe}", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._files[name] = fd
        return True

    async def release(self, name: str) -> None:
        fd = self._files.pop(name, None)
        if fd is not None:
            await asyncio.to_thread(os.close, fd)  # closing the file frees its lock
        if self._executor is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._release, name)

    def _connection(self) -> Any:
        import psycopg

        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._held:
                log.warning("lease connection lost: released %s", ", ".join(sorted(self._held)))
            self._held.clear()
            assert self.url is not None
            self._conn = psycopg.connect(self.url, autocommit=True, application_name="cxbot-leases")
        return self._conn

    def _hold(self, name: str) -> bool:
        import psycopg

        try:
            conn = self._connection()
            if name in self._held:
                conn.execute("SELECT 1")  # still connected: still ours
                return True
            got = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [name]).fetchone()
        except psycopg.Error as exc:
            log.warning("lease %r not taken: %s", name, type(exc).__name__)
            self._held.clear()
            return False
        if got and got[0]:
            self._held.add(name)
            return True
        return False

    def _release(self, name: str) -> None:
        import psycopg

        if name not in self._held:
            return
        self._held.discard(name)
        try:
            self._connection().execute("SELECT pg_advisory_unlock(hashtext(%s))", [name])
        except psycopg.Error:
            pass  # a lost connection released it already

    def close(self) -> None:
        for fd in self._files.values():
            os.close(fd)
        self._files.clear()
        if self._executor is None:
            return

        def _close() -> None:
            if self._conn is not None:
                self._conn.close()

        self._executor.submit(_close).result()
        self._executor.shutdown(wait=True)


# How often a worker on a shared database looks for work others stored (and for a lease a
# dead replica left): webhook-to-Slack latency on PostgreSQL is bounded by about two of these.
SHARED_POLL_SECONDS = 0.2
_UNSHARED = Leases()


def leases_of(store: Any) -> Leases:
    """The store's leases; a stand-in store without any (tests) holds everything."""
    found = getattr(store, "leases", None)
    return found if isinstance(found, Leases) else _UNSHARED

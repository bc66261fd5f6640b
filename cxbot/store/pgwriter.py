"""The writer and the readers on PostgreSQL, with the same promises as cxbot/store/writer.py.

Writes: one thread per process with its own connection takes every queued job, runs each in
its own savepoint inside one transaction and commits once (group commit), so a webhook's
future resolves only after the commit that holds its rows. Several replicas each have their
own writer; PostgreSQL's row locks and `ON CONFLICT` keep them apart. A job that meets a
deadlock or a serialization failure (two replicas' batches touching the same rollup rows in
opposite orders) is run again; a lost connection fails the batch as "unavailable" (503, so
the provider retries) and the next batch reconnects.

Reads: a psycopg_pool of connections used from a small thread pool, never the event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from cxbot.errors import ServiceUnavailable
from cxbot.store.groupcommit import GroupCommit, Outcome, _groups, _Job, _settle_on_loops
from cxbot.store.pg import PgDatabase, connect_pg, migrate_pg

T = TypeVar("T")
log = logging.getLogger("cxbot.store")
RETRIES = 5


def _retryable(exc: BaseException) -> bool:
    from psycopg import errors

    return isinstance(exc, errors.DeadlockDetected | errors.SerializationFailure)


class PgWriter(GroupCommit):
    """`Writer` on a PostgreSQL URL: the same queue, batching and futures."""

    def __init__(self, url: str, *, path: Path | None = None, **options: Any) -> None:
        super().__init__(path or Path("postgresql"), **options)
        self.url = url
        self.readers = 4

    def _open(self) -> Any:
        db = connect_pg(self.url, application_name="cxbot-writer")
        migrate_pg(db)
        if self.setup is not None:
            with db.atomic():
                self.setup(db)  # type: ignore[arg-type]  # the engine-neutral handle
        return db

    def reader(self) -> PgReader:
        return PgReader(self.url, self.readers)

    def _run_batch(self, db: Any, batch: list[_Job]) -> None:
        from psycopg import Error as PgError

        live = [job for job in batch if job.claim()]
        for attempt in range(RETRIES):
            outcomes: list[Outcome] = []
            try:
                if db.raw.closed or db.raw.broken:
                    db.raw = connect_pg(self.url, application_name="cxbot-writer").raw
                with db.atomic():
                    for group in _groups(live):
                        if group[0].many:
                            outcomes += self._run_many(db, group)
                        else:
                            outcomes.append(_run_one(db, group[0]))
            except PgError as exc:
                if _retryable(exc) and attempt < RETRIES - 1:
                    continue
                log.error("commit failed, %d job(s) refused: %s", len(live), exc)
                failure = ServiceUnavailable(f"storage unavailable: {type(exc).__name__}")
                _settle_on_loops([(job, None, failure) for job in live])
                return
            self.commits += 1
            self.jobs += len(batch)
            _settle_on_loops(outcomes)
            return

    def _run_many(self, db: Any, group: list[_Job]) -> list[Outcome]:
        if len(group) > 1:
            try:
                with db.atomic():
                    results = group[0].fn(db, [job.item for job in group])
            except Exception as exc:  # noqa: BLE001 - each item is retried alone below
                _raise_if_fatal(db, exc)
            else:
                return [(job, r, None) for job, r in zip(group, results, strict=True)]
        return [_run_one(db, job) for job in group]


def _raise_if_fatal(db: Any, exc: BaseException) -> None:
    """A lost connection ends the batch; anything else fails the job alone."""
    if db.raw.broken or db.raw.closed:
        raise exc


def _run_one(db: Any, job: _Job) -> Outcome:
    """One job in its own savepoint; a deadlock met by this job alone is retried."""
    for attempt in range(RETRIES):
        try:
            with db.atomic():
                return job, job.run(db), None
        except Exception as exc:
            _raise_if_fatal(db, exc)
            if _retryable(exc) and attempt < RETRIES - 1:
                continue
            return job, None, exc
    raise AssertionError("unreachable")


class PgReader:
    """Reads from a connection pool, on a few threads of their own (never the event loop)."""

    def __init__(self, url: str, size: int = 4) -> None:
        self.url = url
        self._executor = concurrent.futures.ThreadPoolExecutor(
            size, thread_name_prefix="cxbot-read"
        )
        self._size = size
        self._pool: Any = None
        self._lock = threading.Lock()

    def _get_pool(self) -> Any:
        with self._lock:
            if self._pool is None:
                from psycopg_pool import ConnectionPool

                self._pool = ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=self._size,
                    kwargs={"autocommit": True, "application_name": "cxbot-reader"},
                    open=False,
                )
                self._pool.open(wait=True, timeout=30)
            return self._pool

    def _call(self, fn: Callable[[Any], T]) -> T:
        with self._get_pool().connection() as conn:
            return fn(PgDatabase(conn))

    async def read(self, fn: Callable[[Any], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, fn)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

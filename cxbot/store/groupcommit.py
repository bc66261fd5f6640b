"""Group commit, engine-neutral: the queue of `fn(db)` jobs, the one writer thread that takes
them in batches, and the futures each caller waits on (cxbot/store/writer.py says why, and
holds the SQLite engine; cxbot/store/pgwriter.py holds PostgreSQL's)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

from cxbot.errors import ServiceUnavailable

T = TypeVar("T")
Item = TypeVar("Item")


@dataclass
class _Job:
    fn: Callable[..., Any]
    # A thread's job has a concurrent future; an event loop's job has an asyncio future, settled
    # with one loop wake-up per batch instead of one per job.
    future: concurrent.futures.Future[Any] | None = None
    afuture: asyncio.Future[Any] | None = None
    item: Any = None
    many: bool = False  # fn(db, [item, ...]) -> [result, ...], run with its neighbours

    def run(self, db: Database) -> Any:
        return self.fn(db, [self.item])[0] if self.many else self.fn(db)

    def claim(self) -> bool:
        """False if the caller gave up waiting (cancelled) before the job ran."""
        if self.future is not None:
            return self.future.set_running_or_notify_cancel()
        return self.afuture is not None and not self.afuture.cancelled()

    def settle(self, result: Any, error: BaseException | None) -> None:
        """From the writer thread; asyncio futures are settled later, by `_settle_on_loops`."""
        assert self.future is not None
        if error is not None:
            self.future.set_exception(error)
        else:
            self.future.set_result(result)


Outcome = tuple[_Job, Any, BaseException | None]


def _settle_on_loops(outcomes: list[Outcome]) -> None:
    """Settle each job's future: thread jobs here, loop jobs in one callback per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Outcome]] = {}
    for job, result, error in outcomes:
        if job.afuture is not None:
            by_loop.setdefault(job.afuture.get_loop(), []).append((job, result, error))
        else:
            job.settle(result, error)
    for loop, settled in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle_here, settled)
        except RuntimeError:  # that loop is closed: nobody is waiting any more
            pass


def _settle_here(outcomes: list[Outcome]) -> None:
    for job, result, error in outcomes:
        future = job.afuture
        if future is None or future.done():  # cancelled meanwhile
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


_STOP = object()


class GroupCommit:
    """The one thread that writes. `submit` from any thread; `write` from the event loop.

    An engine supplies `_open` (connect and migrate, on this thread), `_run_batch` and `reader`."""

    def __init__(
        self,
        path: Path,
        *,
        synchronous: str = "full",
        batch_max: int = 512,
        setup: Callable[[Database], object] | None = None,
    ) -> None:
        self.path = path
        self.synchronous = synchronous
        self.batch_max = batch_max
        self.setup = setup  # runs once after the migrations, on this thread
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._ready = concurrent.futures.Future[None]()
        self.commits = 0  # group commits made (benchmarks report jobs per commit)
        self.jobs = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="cxbot-writer", daemon=True)
        self._thread.start()
        self._ready.result()  # re-raises a failure to open or migrate

    def submit(self, fn: Callable[[Database], T]) -> concurrent.futures.Future[T]:
        job = _Job(fn, future=concurrent.futures.Future())
        self._put(job)
        assert job.future is not None
        return job.future

    def submit_many(
        self, fn: Callable[[Database, list[Item]], list[T]], item: Item
    ) -> concurrent.futures.Future[T]:
        """Queue `item` for `fn`, which takes a list of items and returns a result for each."""
        job = _Job(fn, future=concurrent.futures.Future(), item=item, many=True)
        self._put(job)
        assert job.future is not None
        return job.future

    def _put(self, job: _Job) -> None:
        if self._thread is None or not self._thread.is_alive():
            error = ServiceUnavailable("the database writer is not running")
            if job.afuture is not None:
                job.afuture.set_exception(error)
            else:
                job.settle(None, error)
        else:
            self._queue.put(job)

    async def write(self, fn: Callable[[Database], T]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._put(_Job(fn, afuture=future))
        return await future

    async def write_many(self, fn: Callable[[Database, list[Item]], list[T]], item: Item) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._put(_Job(fn, afuture=future, item=item, many=True))
        return await future

    def close(self) -> None:
        """Finish every queued job, then stop (SIGTERM drains through here)."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()

    def _run(self) -> None:
        try:
            db = self._open()
        except BaseException as exc:  # noqa: BLE001 - handed to the thread that started us
            self._ready.set_exception(exc)
            return
        self._ready.set_result(None)
        try:
            while True:
                first = self._queue.get()
                if first is _STOP:
                    return
                batch = [first]
                stop = False
                while len(batch) < self.batch_max:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stop = True
                        break
                    batch.append(item)
                self._run_batch(db, batch)
                if stop:
                    return
        finally:
            db.conn.close()

    def _open(self) -> Database:
        raise NotImplementedError

    def _run_batch(self, db: Database, batch: list[_Job]) -> None:
        raise NotImplementedError


def _groups(jobs: list[_Job]) -> list[list[_Job]]:
    """Consecutive `many` jobs with the same function run as one group; others alone."""
    groups: list[list[_Job]] = []
    for job in jobs:
        if groups and job.many and groups[-1][0].many and groups[-1][0].fn is job.fn:
            groups[-1].append(job)
        else:
            groups.append([job])
    return groups

"""Privacy requests run from the command line: the store opened (and migrated), one job for
the request, the database's own cleanup after an erasure. `cxbot/cli.py` prints the results."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

from sqlite_utils import Database

from cxbot.config import Settings
from cxbot.privacy import records
from cxbot.store.retention import checkpoint
from cxbot.store.writer import Store, writer_for

T = TypeVar("T")


def _on_store(settings: Settings, fn: Callable[[Database], T], *, write: bool) -> T:
    store = Store(writer_for(settings.db_path, settings.file.database, settings.tz))
    store.open()
    try:
        return asyncio.run(store.write(fn) if write else store.read(fn))
    finally:
        store.close()


def preview(settings: Settings, who: str) -> records.Subject:
    return _on_store(settings, partial(records.find_subject, who=who), write=False)


def erase(settings: Settings, who: str, actor: str) -> records.Erased:
    """Erase in one transaction; on SQLite the WAL is then checkpointed and truncated, so the
    old pages do not linger in it (secure_delete has zeroed them in the file)."""
    done = _on_store(
        settings, partial(records.erase, who=who, now=datetime.now(UTC), actor=actor), write=True
    )
    if not settings.file.database.url:
        checkpoint(settings.db_path)
    return done


def export(settings: Settings, who: str) -> dict[str, object]:
    return _on_store(settings, partial(records.export, who=who), write=False)

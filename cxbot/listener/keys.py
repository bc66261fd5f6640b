"""Typed keys of the aiohttp app's state (`web.AppKey`), in one place."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from aiohttp import web

from cxbot.config import Settings, Source
from cxbot.outbox.worker import OutboxWorker
from cxbot.store.writer import Store

SETTINGS = web.AppKey("settings", Settings)
SOURCES = web.AppKey("sources", Mapping[str, Source])
STORE = web.AppKey("store", Store)
BODY_LIMIT = web.AppKey("body_limit", int)
# Set when new signals are stored: wakes the enrichment worker (the database is the real queue).
NEW_SIGNALS = web.AppKey("new_signals", asyncio.Event)
OUTBOX = web.AppKey("outbox", OutboxWorker)
# One big batch validated at a time, in a thread: validation holds the GIL, so more threads
# would not go faster, only make the event loop wait longer for its turn.
BIG_PARSES = web.AppKey("big_parses", asyncio.Semaphore)

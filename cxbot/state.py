"""Typed keys of the aiohttp app's state (`web.AppKey`), in one place to avoid import cycles."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING

from aiohttp import web

from .sources.base import Credentials

if TYPE_CHECKING:
    from .config import Settings, Source
    from .store import Store

SETTINGS = web.AppKey["Settings"]("settings")
SOURCES = web.AppKey["Mapping[str, Source]"]("sources")
CREDENTIALS = web.AppKey[Mapping[str, Credentials]]("credentials")
STORE = web.AppKey["Store"]("store")
BODY_LIMIT = web.AppKey[int]("body_limit")
# Set when new signals are stored: wakes the enrichment worker (the database is the real queue).
NEW_SIGNALS = web.AppKey[asyncio.Event]("new_signals")

if TYPE_CHECKING:
    from .outbox import OutboxWorker

OUTBOX = web.AppKey["OutboxWorker"]("outbox")

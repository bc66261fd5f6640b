"""The app factory: one aiohttp app for webhooks, Slack and `/healthz`, workers in cleanup_ctx."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from .config import Settings
from .state import BODY_LIMIT, CREDENTIALS, NEW_SIGNALS, SETTINGS, SOURCES, STORE
from .store import Store
from .web import error_middleware, healthz
from .webhooks import all_credentials, handshake, receive


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    db = settings.file.database
    store = Store(settings.db_path, synchronous=db.synchronous, batch_max=db.batch_max)
    # Opening migrates: blocking work, so off the event loop.
    await asyncio.get_running_loop().run_in_executor(None, store.open)
    app[STORE] = store
    yield
    # Drain: every queued write commits before the process exits (SIGTERM path).
    await asyncio.get_running_loop().run_in_executor(None, store.close)


def create_app(settings: Settings) -> web.Application:
    server = settings.file.server
    # aiohttp's own limit is a backstop; webhooks.py enforces max_body_bytes with a clear 413.
    app = web.Application(middlewares=[error_middleware], client_max_size=server.max_body_bytes + 1)
    app[SETTINGS] = settings
    app[SOURCES] = settings.sources
    app[CREDENTIALS] = all_credentials(settings.sources, server.replay_window_seconds)
    app[BODY_LIMIT] = server.max_body_bytes
    app[NEW_SIGNALS] = asyncio.Event()
    app.cleanup_ctx.append(_store_ctx)
    app.router.add_post("/webhooks/{source}", receive)
    app.router.add_get("/webhooks/{source}", handshake)  # HEAD too (SurveyMonkey checks it)
    app.router.add_get("/healthz", healthz)
    return app

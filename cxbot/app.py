"""The app factory: one aiohttp app for webhooks, Slack and `/healthz`, workers in cleanup_ctx."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from functools import partial
from typing import Any

from aiohttp import web

from cxbot.config import Settings
from cxbot.cx.ask import slash_handler
from cxbot.dashboard.routes import add_dashboard
from cxbot.digest.job import digest_scheduler_ctx
from cxbot.enrich.worker import EnrichmentWorker
from cxbot.errors import ServiceUnavailable
from cxbot.listener.bodies import UPLOADS, UploadLimits
from cxbot.listener.housekeeping import housekeeping_ctx
from cxbot.listener.keys import (
    BIG_PARSES,
    BODY_LIMIT,
    NEW_SIGNALS,
    OUTBOX,
    SETTINGS,
    SOURCES,
    STORE,
)
from cxbot.listener.logsafe import quiet_malformed_requests
from cxbot.listener.middleware import error_middleware, expect_continue, healthz
from cxbot.listener.slack import build_bolt, events_route
from cxbot.listener.webhooks import handshake, receive
from cxbot.outbox.messages import build_message
from cxbot.outbox.worker import OutboxWorker
from cxbot.poll.schedule import poll_scheduler_ctx
from cxbot.replies.clients import can_reply, reply_sources
from cxbot.replies.deliver import ReplyDelivery
from cxbot.replies.http import ReplyHttp
from cxbot.slack.sinks import Sink, sink_for, slack_client
from cxbot.store.writer import Store, writer_for

log = logging.getLogger("cxbot")


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    store = Store(writer_for(settings.db_path, settings.file.database, settings.tz))
    # Opening migrates: blocking work, so off the event loop.
    await asyncio.get_running_loop().run_in_executor(None, store.open)
    app[STORE] = store
    yield
    # Drain: every queued write commits before the process exits (SIGTERM path).
    await asyncio.get_running_loop().run_in_executor(None, store.close)


@contextlib.asynccontextmanager
async def _task(coro: Coroutine[Any, Any, None], name: str) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(coro, name=name)
    try:
        yield task
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            # The task's own cancel ends here; a cancel of the task stopping it goes on.
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise


async def _workers_ctx(app: web.Application) -> AsyncIterator[None]:
    """Enrichment and outbox delivery; both resume from the database after a restart."""
    settings = app[SETTINGS]
    sink: Sink = sink_for(settings.slack_bot_token, settings.slack_api_url)
    slack = settings.file.slack
    # Replies to customers go out through the outbox too (kind `reply`, cxbot/replies/).
    replying, reply_http = reply_sources(settings), ReplyHttp()
    outbox = OutboxWorker(
        app[STORE],
        sink,
        timeout_seconds=slack.send_timeout_seconds,
        pace_seconds=slack.pace_seconds,
        render=partial(build_message, can_reply=partial(can_reply, replying)),
        handlers={"reply": ReplyDelivery(app[STORE], replying, reply_http)},
    )
    app[OUTBOX] = outbox
    # Starting the scorer's process pool writes to pipes and forks: off the event loop.
    enrichment = await asyncio.get_running_loop().run_in_executor(
        None,
        partial(
            EnrichmentWorker,
            settings.file.enrich,
            settings.base_dir,
            app[STORE],
            app[NEW_SIGNALS],
            policy=settings.alert_policy,
            on_alerts=outbox.poke,
        ),
    )
    async with _task(enrichment.run(), "enrichment"), _task(outbox.run(), "outbox"):
        yield
    # Waits for the scorer process (or thread) to stop: off the event loop.
    await asyncio.get_running_loop().run_in_executor(None, enrichment.close)
    await sink.close()
    await reply_http.close()


async def slack_not_configured(request: web.Request) -> web.Response:
    raise ServiceUnavailable(
        "Slack is not configured: set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN"
    )


def create_app(settings: Settings) -> web.Application:
    server = settings.file.server
    quiet_malformed_requests()
    # aiohttp's own limit is a backstop; cxbot/listener/webhooks.py enforces max_body_bytes with a clear 413.
    app = web.Application(middlewares=[error_middleware], client_max_size=server.max_body_bytes + 1)
    app[SETTINGS] = settings
    app[SOURCES] = settings.sources
    app[BODY_LIMIT] = server.max_body_bytes
    app[UPLOADS] = UploadLimits(server.max_body_bytes, server.body_timeout_s, server.max_uploads)
    app[NEW_SIGNALS] = asyncio.Event()
    app[BIG_PARSES] = asyncio.Semaphore(1)
    app.cleanup_ctx.append(_store_ctx)
    app.cleanup_ctx.append(_workers_ctx)
    app.cleanup_ctx.append(digest_scheduler_ctx)  # after the workers: it pokes the outbox
    app.cleanup_ctx.append(housekeeping_ctx)  # retention
    app.cleanup_ctx.append(poll_scheduler_ctx)  # sources without webhooks (stops first)
    app.router.add_post("/webhooks/{source}", receive, expect_handler=expect_continue)
    # HEAD too (SurveyMonkey checks it)
    app.router.add_get("/webhooks/{source}", handshake, expect_handler=expect_continue)
    app.router.add_get("/healthz", healthz, expect_handler=expect_continue)
    # Bolt needs both: with the secret alone every signed request would fail to build it (500).
    if settings.slack_signing_secret is not None and settings.slack_token is not None:
        app.router.add_post(
            "/slack/events", _slack_events_handler(app), expect_handler=expect_continue
        )
    else:
        app.router.add_post("/slack/events", slack_not_configured, expect_handler=expect_continue)
    add_dashboard(app)  # /dashboard, /dashboard/events, /api/dashboard
    return app


def _slack_events_handler(app: web.Application) -> Any:
    """Bolt is built lazily: it needs the store and the outbox, which exist once the app starts."""
    handler: Any = None

    async def route(request: web.Request) -> web.StreamResponse:
        nonlocal handler
        if handler is None:
            settings = app[SETTINGS]
            # Building Bolt imports and reads its modules (file I/O): off the event loop.
            bolt = await asyncio.get_running_loop().run_in_executor(
                None,
                partial(
                    build_bolt,
                    settings,
                    app[STORE],
                    app[OUTBOX].poke,
                    slack_client(settings.slack_bot_token, settings.slack_api_url),
                    on_command=slash_handler(
                        settings, app[STORE], app[OUTBOX].poke, app[OUTBOX].sink.upload
                    ),
                ),
            )
            assert settings.slack_signing_secret is not None
            handler = events_route(bolt, settings.slack_signing_secret.get_secret_value())
        result: web.StreamResponse = await handler(request)
        return result

    return route

"""HTTP edges shared by every route: the error middleware and `/healthz`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http import HttpVersion11

from cxbot.errors import HTTPError
from cxbot.listener.keys import SETTINGS, STORE
from cxbot.listener.logsafe import esc
from cxbot.poll.records import PollStatus, all_statuses
from cxbot.store.reads import unenriched_count

log = logging.getLogger("cxbot.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as JSON that says what is wrong; bad input is never a 500."""
    try:
        return await handler(request)
    except HTTPError as exc:
        retry = exc.details.get("retry_after")
        headers = {"Retry-After": str(retry)} if retry is not None else None
        return web.json_response(exc.payload(), status=exc.status, headers=headers)
    except web.HTTPException as exc:
        if exc.content_type == "application/json" or exc.status < 400:
            raise
        return web.json_response(
            {"error": exc.reason.lower().replace(" ", "_"), "message": exc.text or exc.reason},
            status=exc.status,
            headers={k: v for k, v in exc.headers.items() if k.lower() == "allow"},
        )
    except Exception:
        log.exception("unhandled error on %s %s", esc(request.method), esc(request.path))
        return web.json_response(
            {"error": "internal", "message": "internal error; the delivery was not stored"},
            status=500,
        )


async def healthz(request: web.Request) -> web.Response:
    try:
        backlog = await request.app[STORE].read(unenriched_count)
        polls = request.app[SETTINGS].polls
        statuses = await request.app[STORE].read(all_statuses) if polls else {}
    except Exception as exc:  # noqa: BLE001 - a health check reports, it does not raise
        return web.json_response({"ok": False, "database": f"unreachable: {exc}"}, status=503)
    body: dict[str, object] = {"ok": True, "database": "ok", "unenriched": backlog}
    if polls:  # each poll source's last run and last error
        body["polls"] = {n: statuses.get(n, PollStatus(n)).public() for n in polls}
    return web.json_response(body)


async def expect_continue(request: web.Request) -> None:
    """`Expect:` before any route handler (and outside the error middleware): aiohttp's own
    handler quotes the header into its 417, which fails on an undecodable byte (a 500)."""
    expect = request.headers.get("Expect", "")
    if request.version != HttpVersion11:
        return
    if expect.lower() == "100-continue":
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0  # the answer proper has not started
        return
    raise web.HTTPExpectationFailed(text=f"unknown Expect: {esc(expect, 60)!r}")

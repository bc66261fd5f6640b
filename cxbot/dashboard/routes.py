"""The dashboard's HTTP routes (`add_dashboard(app)`, one line in cxbot/app.py).

- `GET /dashboard?token=…` exchanges a sign-in link for a session cookie and redirects to the
  same URL without the token; `GET /dashboard?q=QUERY` is the page (the /cx summary grammar).
- `GET /api/dashboard?q=QUERY` the same figures as JSON (401 without a session).
- `GET /dashboard/events` Server-Sent Events: `change` when signals or alerts moved.
- `GET /dashboard/signals?q=…&only=…[&format=csv]` the signals behind a number;
  `GET /dashboard/signal/{id}` one signal and its customer's timeline across channels.

Without CXBOT_SECRET_KEY every route says how to turn the dashboard on, and shows no data.
Reads run on the store's reader (`store.read`). Tokens and cookies are never logged.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from functools import partial
from html import escape
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlite_utils import Database

from cxbot.cx.grammar import CommandError
from cxbot.cx.queries import customer_profile
from cxbot.dashboard import auth, page
from cxbot.dashboard.data import dashboard_data, parse_query, signal_json, window_of
from cxbot.dashboard.events import Hub, sse
from cxbot.dashboard.listcsv import csv_text
from cxbot.dashboard.script import SCRIPT
from cxbot.errors import BadRequest, NotFound, ServiceUnavailable, Unauthorized
from cxbot.listener.keys import SETTINGS, STORE
from cxbot.listener.logsafe import esc
from cxbot.store.reads import ONLY, change_marker, signal_customer, signal_list, signal_rows

log = logging.getLogger("cxbot.dashboard")

HUB = web.AppKey("dashboard_hub", Hub)
HEARTBEAT_S = 15.0
PAGE_ROWS = 100
CSV_ROWS = 10_000


def add_dashboard(app: web.Application) -> None:
    app.router.add_get("/dashboard", dashboard_route)
    app.router.add_get("/dashboard/events", events_route)
    app.router.add_get("/dashboard/signals", list_route)
    app.router.add_get("/dashboard/signal/{id}", timeline_route)
    app.router.add_get("/dashboard/static/dashboard.js", script_route)
    app.router.add_get("/api/dashboard", api_route)
    app.cleanup_ctx.append(_hub_ctx)
    app.on_shutdown.append(_close_streams)


async def _hub_ctx(app: web.Application) -> AsyncIterator[None]:
    hub = Hub(lambda: app[STORE].read(change_marker))
    app[HUB] = hub
    task = asyncio.create_task(hub.run(), name="dashboard-hub")
    yield
    # No cancel: closing ends the loop's wait at once, and a SIGTERM's cancellation of the
    # main task (web.run_app) stays that task's own.
    hub.close()
    await task


async def _close_streams(app: web.Application) -> None:
    if HUB in app:
        app[HUB].close()


def _now() -> datetime:
    return datetime.now(UTC)


def _key(request: web.Request) -> str | None:
    secret = request.app[SETTINGS].secret_key
    return secret.get_secret_value() if secret is not None else None


def _session(request: web.Request) -> auth.Session | None:
    key = _key(request)
    if key is None:
        return None
    return auth.read_session(key, request.cookies.get(auth.COOKIE), _now())


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(
        text=text,
        status=status,
        content_type="text/html",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def _https(request: web.Request) -> bool:
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.scheme == "https" or forwarded == "https"


def _sign_in(request: web.Request, key: str) -> web.StreamResponse:
    """Exchange the link's token for a session cookie; back to the same URL without it."""
    settings = request.app[SETTINGS]
    ok, user = auth.link_user(key, request.query.get("token"), _now())
    if not ok:
        log.info("dashboard sign-in refused (bad or expired link)")
        text = "<p>This sign-in link is invalid or has expired.</p>" + page.SIGN_IN
        return _html(page.message_page("Sign in", text), 401)
    admin = auth.is_admin(user, list(settings.file.slack.admins))
    cookie, session = auth.session_cookie(key, user, admin, _now())
    rest = {k: v for k, v in request.query.items() if k != "token"}
    target = "/dashboard" + ("?" + urlencode(rest) if rest else "")
    resp = web.Response(status=303, headers={"Location": target})
    resp.set_cookie(
        auth.COOKIE,
        cookie,
        max_age=int(timedelta(hours=auth.SESSION_HOURS).total_seconds()),
        path="/",
        httponly=True,
        samesite="Lax",
        secure=_https(request),
    )
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"  # the token must not leak onwards
    log.info("dashboard sign-in user=%s admin=%s", esc(user or "terminal"), session.admin)
    return resp


async def _read(request: web.Request, fn: Any) -> Any:
    return await request.app[STORE].read(fn)


async def dashboard_route(request: web.Request) -> web.StreamResponse:
    key = _key(request)
    q = request.query.get("q", "")
    if key is None:
        return _html(page.message_page("Dashboard off", page.OFF), 503)
    if "token" in request.query:
        return _sign_in(request, key)
    session = _session(request)
    if session is None:
        return _html(page.message_page("Sign in", page.SIGN_IN, q), 401)
    started = time.perf_counter()
    try:
        cmd = parse_query(q)
    except CommandError as exc:
        return _html(page.message_page("Not a dashboard query", _error(exc), q), 400)
    settings = request.app[SETTINGS]
    data = await _read(
        request,
        partial(
            dashboard_data,
            cmd=cmd,
            now=_now(),
            tz=settings.tz,
            admin=session.admin,
            slas=settings.file.sla,
        ),
    )
    log.info(
        "dashboard page user=%s q=%s %.0fms",
        esc(session.user or "terminal"),
        esc(q),
        (time.perf_counter() - started) * 1000,
    )
    return _html(page.dashboard_page(data, q))


def _error(exc: CommandError) -> str:
    return f'<p class="error">{escape(exc.message)}</p>'


def _api_session(request: web.Request) -> auth.Session:
    if _key(request) is None:
        raise ServiceUnavailable("the dashboard is off: set CXBOT_SECRET_KEY")
    session = _session(request)
    if session is None:
        raise Unauthorized("sign in with a link from `/cx dashboard` or `cxbot dashboard-link`")
    return session


async def api_route(request: web.Request) -> web.Response:
    session = _api_session(request)
    started = time.perf_counter()
    q = request.query.get("q", "")
    try:
        cmd = parse_query(q)
    except CommandError as exc:
        raise BadRequest(exc.message) from None
    settings = request.app[SETTINGS]
    data = await _read(
        request,
        partial(
            dashboard_data,
            cmd=cmd,
            now=_now(),
            tz=settings.tz,
            admin=session.admin,
            slas=settings.file.sla,
        ),
    )
    if request.query.get("html") == "1":
        data["html"] = page.main_html(data)
    log.info(
        "dashboard api user=%s q=%s %.0fms",
        esc(session.user or "terminal"),
        esc(q),
        (time.perf_counter() - started) * 1000,
    )
    return web.json_response(data, headers={"Cache-Control": "no-store"})


async def events_route(request: web.Request) -> web.StreamResponse:
    _api_session(request)
    hub = request.app[HUB]
    resp = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # nginx: pass each event on at once
        }
    )
    await resp.prepare(request)
    hub.watchers += 1
    version = hub.version
    try:
        await resp.write(b"retry: 2000\n\n" + sse(None, comment="connected"))
        while not hub.closing:
            now_version = await hub.wait(version, HEARTBEAT_S)
            if hub.closing:
                break
            if now_version != version:
                version = now_version
                await resp.write(sse("change", json.dumps({"version": version})))
            else:
                await resp.write(sse(None, comment="heartbeat"))
    except (ConnectionResetError, ConnectionError):
        pass  # the page went away
    finally:
        hub.watchers -= 1
    return resp


def _list_args(request: web.Request) -> tuple[str, str | None, int]:
    q = request.query.get("q", "")
    only = request.query.get("only") or None
    if only is not None and only not in ONLY:
        raise BadRequest(f"only= must be one of {', '.join(ONLY)}")
    raw = request.query.get("offset", "0")
    if not raw.isdigit() or int(raw) > 1_000_000:
        raise BadRequest("offset= must be a whole number up to 1000000")
    return q, only, int(raw)


async def list_route(request: web.Request) -> web.StreamResponse:
    session = _session(request)
    if session is None:
        return await dashboard_route(request)  # the off or sign-in page, no data
    q, only, offset = _list_args(request)
    try:
        cmd = parse_query(q)
    except CommandError as exc:
        return _html(page.message_page("Not a dashboard query", _error(exc), q), 400)
    window, _ = window_of(cmd, _now(), request.app[SETTINGS].tz)
    csv = request.query.get("format") == "csv"
    limit, offset = (CSV_ROWS, 0) if csv else (PAGE_ROWS + 1, offset)
    rows = await _read(
        request, partial(signal_list, start=window.start, end=window.end, filters=cmd.filters,
                         only=only, limit=limit, offset=offset)
    )  # fmt: skip
    items = [signal_json(r, session.admin) for r in rows]
    log.info("dashboard list user=%s q=%s only=%s rows=%d csv=%s",
             esc(session.user or "terminal"), esc(q), only, len(items), csv)  # fmt: skip
    if csv:
        return web.Response(
            text=csv_text(items),
            content_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="cxbot-signals.csv"'},
        )
    more = None
    if len(items) > PAGE_ROWS:
        items = items[:PAGE_ROWS]
        params = {"q": q, **({"only": only} if only else {}), "offset": str(offset + PAGE_ROWS)}
        more = "/dashboard/signals?" + urlencode(params)
    return _html(page.list_page(q, only, items, more))


def _timeline(db: Database, signal_id: int, admin: bool) -> tuple[Any, Any] | None:
    exists, customer = signal_customer(db, signal_id)
    if not exists:
        return None
    [row] = signal_rows(db, [signal_id])
    profile = None
    if customer is not None:
        found = customer_profile(db, customer, since=_now() - timedelta(days=365), recent=50)
        if found is not None:
            profile = dataclasses.asdict(found)
            profile["recent"] = [signal_json(r, admin) for r in found.recent]
            if not admin:
                profile["email"] = None  # emails are for admins ([slack] admins)
    return signal_json(row, admin), profile


async def timeline_route(request: web.Request) -> web.StreamResponse:
    session = _session(request)
    if session is None:
        return await dashboard_route(request)
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound("no such signal")
    found = await _read(request, partial(_timeline, signal_id=int(raw), admin=session.admin))
    if found is None:
        raise NotFound("no such signal")
    return _html(page.timeline_page(*found))


async def script_route(request: web.Request) -> web.Response:
    return web.Response(
        text=SCRIPT, content_type="text/javascript", headers={"Cache-Control": "no-cache"}
    )

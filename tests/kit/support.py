"""Test helpers shared by the test modules: the app on a loopback port, signing, Slack env.

Imported by name (`from support import …`): conftest.py puts tests/ on sys.path.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import socket
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from fakeslack import FakeSlack

from cxbot.app import create_app
from cxbot.config import Settings

WEB_SECRET = "test-web-secret"
SLACK_SECRET = "slack-signing-secret"

BASE_TOML = """
timezone = "Europe/Istanbul"
[enrich]
worker = "thread"
[database]
path = "{db}"
[sources.web]
type = "generic"
secret_env = "CXBOT_WEB_SECRET"
[sources.open]
type = "generic"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sign_generic(body: bytes, secret: str = WEB_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Server:
    url: str
    session: aiohttp.ClientSession
    settings: Settings
    app: web.Application

    async def post(
        self,
        path: str,
        body: bytes | str | Any,
        *,
        headers: Mapping[str, str] | None = None,
        sign: bool = False,
        content_type: str = "application/json",
    ) -> tuple[int, Any]:
        if not isinstance(body, bytes | str):
            body = json.dumps(body)
        raw = body.encode() if isinstance(body, str) else body
        hdrs = {"Content-Type": content_type, **(headers or {})}
        if sign:
            hdrs["X-Cxbot-Signature"] = sign_generic(raw)
        data = io.BytesIO(raw) if len(raw) > 1_000_000 else raw
        async with self.session.post(self.url + path, data=data, headers=hdrs) as resp:
            text = await resp.text()
            try:
                return resp.status, json.loads(text)
            except ValueError:
                return resp.status, text


async def start_server(settings: Settings) -> tuple[web.AppRunner, str, web.Application]:
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}", app


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Server]:
    """The real app on a loopback port with a client session; stopped afterwards."""
    runner, url, app = await start_server(settings)
    try:
        async with aiohttp.ClientSession() as session:
            yield Server(url, session, settings, app)
    finally:
        await runner.cleanup()


def slack_headers(body: str, secret: str = SLACK_SECRET, ts: int | None = None) -> dict[str, str]:
    """Headers Slack sends: v0 signature over `v0:{timestamp}:{body}`."""
    stamp = str(int(time.time()) if ts is None else ts)
    sig = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={sig}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def slack_env(fake: FakeSlack) -> dict[str, str]:
    return {
        "CXBOT_WEB_SECRET": WEB_SECRET,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SLACK_SECRET,
        "SLACK_API_URL": fake.base_url,
    }

"""The app on a loopback port, the generic source's signature, the Slack env and headers.

Test modules import these as `from tests.kit.support import …`; tests/conftest.py turns the
common ones into fixtures (`settings`, `make_settings`, `server`, `fake_slack`).
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from cxbot.app import create_app
from cxbot.config import Settings, load_settings
from tests.kit.fakeslack import FakeSlack
from tests.kit.providers import Hmac

# The `make_settings` / `slack_settings` fixtures: (extra TOML[, env]) -> Settings.
MakeSettings = Callable[..., Settings]

WEB_SECRET = "test-web-secret"
# The alert rule most flow tests need: a 1-2 star review alerts in #cx-alerts.
BAD_REVIEW_RULE = """
[[alerts]]
name = "bad-review"
channel = "#cx-alerts"
kinds = ["review"]
max_rating = 2
"""
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


def settings_from(path: Path, env: Mapping[str, str]) -> Settings:
    """`load_settings` for a test's set-up: the one place the `blockbuster` fixture lets a test
    read its config file on the event loop (tests/kit/blocking.py)."""
    return load_settings(path, dict(env))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The generic source's X-Cxbot-Signature: `sign_generic(body)`, or `sign_generic(body, secret)`.
sign_generic = Hmac(WEB_SECRET, prefix="sha256=", header="X-Cxbot-Signature")


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
    sig = Hmac(secret, prefix="v0=")(f"v0:{stamp}:{body}".encode())
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": sig,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def slack_env(fake: FakeSlack) -> dict[str, str]:
    return {
        "CXBOT_WEB_SECRET": WEB_SECRET,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SLACK_SECRET,
        "SLACK_API_URL": fake.base_url,
    }

"""Shared fixtures: config files in tmp_path, the real app on a loopback port, signing helpers."""

from __future__ import annotations

import hashlib
import io
import hmac
import json
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from cxbot.app import create_app
from cxbot.config import Settings, load_settings

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS))  # tests import their helpers (fakeslack) by plain name

WEB_SECRET = "test-web-secret"


def sign_generic(body: bytes, secret: str = WEB_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


BASE_TOML = """
timezone = "Europe/Istanbul"
[database]
path = "{db}"
[sources.web]
type = "generic"
secret_env = "CXBOT_WEB_SECRET"
[sources.open]
type = "generic"
"""


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    def write(extra: str = "", *, base: bool = True) -> Path:
        path = tmp_path / "cxbot.toml"
        text = (BASE_TOML.format(db=tmp_path / "cxbot.db") if base else "") + extra
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def env() -> dict[str, str]:
    return {"CXBOT_WEB_SECRET": WEB_SECRET}


@pytest.fixture
def settings(write_config: Callable[[str], Path], env: dict[str, str]) -> Settings:
    return load_settings(write_config(""), env)


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


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[Server]:
    runner, url, app = await start_server(settings)
    async with aiohttp.ClientSession() as session:
        yield Server(url, session, settings, app)
    await runner.cleanup()

"""Uploads that stall after their headers (issue 14, defect 5), through the real app: the body
read has a deadline, a bounded number are read at once, a hang-up is one INFO line."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from tests.kit.rawhttp import parse_answer, request_bytes, send_raw
from tests.kit.support import MakeSettings, Server, serving

pytestmark = pytest.mark.usefixtures("blockbuster")

LIMITS = "[server]\nbody_timeout_s = 1\nmax_uploads = 3\n"
REVIEW = json.dumps({"id": "s-1", "kind": "review", "text": "ok", "rating": 4}).encode()
HEADERS = [(b"Content-Type", b"application/json")]


@pytest.fixture
async def limited(make_settings: MakeSettings) -> AsyncIterator[Server]:
    async with serving(make_settings(LIMITS)) as server:
        yield server


@dataclass
class Stalled:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def answer(self) -> int:
        """The status the server answers with (it then closes the connection)."""
        raw = await asyncio.wait_for(self.reader.read(), 10)
        await self.close()
        return parse_answer(raw).status

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except ConnectionError:
            pass


async def stall(server: Server, path: bytes = b"/webhooks/open") -> Stalled:
    """Headers announcing 1000 bytes, then 10 of them, then nothing: the connection stays open."""
    port = int(server.url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request_bytes(b"POST", path, HEADERS, b'{"id": "x"', content_length=1000))
    await writer.drain()
    return Stalled(reader, writer)


async def test_a_stalled_upload_is_cut_off_with_408(limited: Server) -> None:
    started = time.monotonic()
    assert await (await stall(limited)).answer() == 408
    assert 0.9 < time.monotonic() - started < 5


async def test_stalled_slack_requests_are_cut_off_too(slack_settings: MakeSettings) -> None:
    async with serving(slack_settings(LIMITS)) as server:
        assert await (await stall(server, b"/slack/events")).answer() == 408


async def test_uploads_beyond_the_bound_get_503_and_health_stays_quick(limited: Server) -> None:
    stalled = [await stall(limited) for _ in range(3)]
    await asyncio.sleep(0.1)
    busy = await send_raw(limited.url, request_bytes(b"POST", b"/webhooks/open", HEADERS, REVIEW))
    assert busy.status == 503, busy.body
    assert busy.headers["retry-after"] == "1"
    started = time.monotonic()
    health = await send_raw(limited.url, request_bytes(b"GET", b"/healthz", []))
    assert health.status == 200 and time.monotonic() - started < 0.5
    # The stalled ones time out and free their places.
    assert [await one.answer() for one in stalled] == [408, 408, 408]
    ok = await send_raw(limited.url, request_bytes(b"POST", b"/webhooks/open", HEADERS, REVIEW))
    assert ok.status == 200, ok.body


async def test_a_hang_up_mid_body_is_one_info_line(
    limited: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await (await stall(limited)).close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(  # noqa: ASYNC110 - polls the log
        "hung up" in r.getMessage() for r in caplog.records
    ):
        await asyncio.sleep(0.05)
    hung = [r for r in caplog.records if "hung up" in r.getMessage()]
    assert [(r.levelno, r.exc_info) for r in hung] == [(logging.INFO, None)]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert all(r.exc_info is None for r in caplog.records)

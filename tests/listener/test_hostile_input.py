"""Requests an attacker would send, through the real app on a loopback port (issue 14, defects
2, 3, 6, 7, 10, 11): each answer is a 4xx or a clean 200, never a 500, and nothing half-stored."""

from __future__ import annotations

import gzip
import json
import logging
import sqlite3
from typing import Any

import pytest

from tests.kit.rawhttp import request_bytes, send_raw
from tests.kit.support import Server, sign_generic

pytestmark = pytest.mark.usefixtures("blockbuster")

REVIEW: dict[str, Any] = {"id": "r-1", "kind": "review", "text": "Checkout failed", "rating": 2}


def query(server: Server, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(server.settings.db_path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def signed(body: bytes, *extra: tuple[bytes, bytes]) -> list[tuple[bytes, bytes]]:
    return [
        (b"Content-Type", b"application/json"),
        (b"X-Cxbot-Signature", sign_generic(body).encode()),
        *extra,
    ]


async def test_a_non_utf8_byte_in_any_header_is_not_a_500(server: Server) -> None:
    body = json.dumps(REVIEW).encode()
    ok = await send_raw(
        server.url,
        request_bytes(b"POST", b"/webhooks/web", signed(body, (b"X-Note", b"caf\xe9")), body),
    )
    assert ok.status == 200, ok.body
    (headers,) = query(server, "SELECT headers FROM events")[0]
    assert json.loads(headers)["x-note"] == "caf\ufffd"  # kept, as text that can be stored

    bad_sig = [(b"Content-Type", b"application/json"), (b"X-Cxbot-Signature", b"sha256=\xe9\xff")]
    refused = await send_raw(server.url, request_bytes(b"POST", b"/webhooks/web", bad_sig, body))
    assert refused.status == 401, refused.body
    assert query(server, "SELECT count(*) FROM events") == [(1,)]


async def test_a_non_utf8_token_header_is_a_401(make_settings: Any) -> None:
    from tests.kit.support import serving

    settings = make_settings(
        '[sources.tp]\ntype = "trustpilot"\ntoken_env = "TP"\n',
        {"CXBOT_WEB_SECRET": "x", "TP": "tok"},
    )
    async with serving(settings) as server:
        hdrs = [(b"Content-Type", b"application/json"), (b"X-Cxbot-Token", b"t\xf6k")]
        answer = await send_raw(server.url, request_bytes(b"POST", b"/webhooks/tp", hdrs, b"{}"))
    assert answer.status == 401, answer.body


async def test_a_lone_surrogate_in_metadata_is_stored_replaced(server: Server) -> None:
    body = (
        b'{"id": "m-1", "kind": "review", "text": "ok", "metadata": {"k": "\\udc00", "\\ud800": 1}}'
    )
    status, answer = await server.post("/webhooks/open", body)
    assert status == 200, answer
    (metadata,) = query(server, "SELECT metadata FROM signals")[0]
    assert json.loads(metadata) == {"k": "\ufffd", "\ufffd": 1}


async def test_request_values_in_the_log_are_escaped(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    forged = b"/webhooks/x%0a2026-12-01%2000:00:00,000%20ERROR%20forged%00end"
    answer = await send_raw(
        server.url, request_bytes(b"POST", forged, [(b"Content-Type", b"application/json")], b"{}")
    )
    assert answer.status == 404
    lines = [r.getMessage() for r in caplog.records]
    assert any("source=" in line and "forged" in line for line in lines), lines
    for line in lines:
        assert "\n" not in line and "\x00" not in line and "\r" not in line, line
    assert any("x\\n2026-12-01" in line and "\\x00end" in line for line in lines), lines


async def test_gzip_that_is_not_gzip_is_a_400(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    hdrs = [(b"Content-Type", b"application/json"), (b"Content-Encoding", b"gzip")]
    answer = await send_raw(
        server.url, request_bytes(b"POST", b"/webhooks/open", hdrs, b"this is not gzip")
    )
    assert answer.status == 400, answer.body
    assert answer.json()["error"] == "bad_request"
    # Real gzip still works.
    body = gzip.compress(json.dumps(REVIEW).encode())
    ok = await send_raw(server.url, request_bytes(b"POST", b"/webhooks/open", hdrs, body))
    assert ok.status == 200, ok.body
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_booleans_are_not_ids(server: Server) -> None:
    status, answer = await server.post("/webhooks/open", {**REVIEW, "id": True})
    assert status == 400, answer
    assert "id" in answer["message"]
    status, answer = await server.post("/webhooks/open", {**REVIEW, "id": 1, "thread_key": False})
    assert status == 400, answer
    assert query(server, "SELECT count(*) FROM signals") == [(0,)]


@pytest.mark.parametrize(
    "created_at", ["0999-12-31T00:00:00Z", "1969-07-20T20:17:00Z", "3026-01-01T00:00:00Z"]
)
async def test_created_at_outside_the_window_is_refused(server: Server, created_at: str) -> None:
    status, answer = await server.post("/webhooks/open", {**REVIEW, "created_at": created_at})
    assert status == 400, answer
    assert "created_at" in answer["message"]


async def test_stored_times_have_one_fixed_form(server: Server) -> None:
    status, _ = await server.post(
        "/webhooks/open", {**REVIEW, "created_at": "2001-02-03T04:05:06+02:00"}
    )
    assert status == 200
    created, received = query(server, "SELECT created_at, received_at FROM signals")[0]
    assert created == "2001-02-03T02:05:06.000000Z"
    assert len(received) == len(created) and received.endswith("Z")


def test_iso_utc_pads_the_year() -> None:
    from datetime import UTC, datetime

    from cxbot.models import iso_utc

    assert iso_utc(datetime(5, 1, 2, tzinfo=UTC)) == "0005-01-02T00:00:00.000000Z"


@pytest.mark.parametrize(
    "raw",
    [
        request_bytes(b"GET", b"/webhooks/web\xe9", []),
        request_bytes(b"POST", b"/webhooks/open", [(b"Host", b"a"), (b"X-\xff", b"v")], b"{}"),
        b"POST /webhooks/open HTTP/1.1\r\nContent-Length: x\r\n\r\n",
    ],
)
async def test_a_request_the_parser_refuses_is_one_info_line(
    server: Server, caplog: pytest.LogCaptureFixture, raw: bytes
) -> None:
    # aiohttp answers 400 itself, then logged an ERROR with a traceback quoting the raw bytes.
    caplog.set_level(logging.DEBUG)
    answer = await send_raw(server.url, raw)
    assert answer.status == 400
    parsed = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert [(r.levelname, r.exc_info) for r in parsed] == [("INFO", None)]
    assert parsed[0].getMessage().startswith("malformed request from 127.0.0.1: 400 ")
    assert "\n" not in parsed[0].getMessage() and "\\xe9" not in parsed[0].getMessage()


async def test_an_undecodable_expect_header_is_a_417_not_a_500(server: Server) -> None:
    hdrs = [(b"Content-Type", b"application/json"), (b"Expect", b"caf\xe9-continue")]
    answer = await send_raw(server.url, request_bytes(b"POST", b"/webhooks/open", hdrs, b"{}"))
    assert answer.status == 417, answer.body
    # 100-continue still works: the interim answer, then the real one.
    hdrs = [(b"Content-Type", b"application/json"), (b"Expect", b"100-continue")]
    body = json.dumps(REVIEW).encode()
    raw = await send_raw_all(server.url, request_bytes(b"POST", b"/webhooks/open", hdrs, body))
    assert raw.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 "), raw[:200]


async def send_raw_all(url: str, raw: bytes) -> bytes:
    import asyncio
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(raw)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


async def test_a_refused_body_that_is_not_gzip_leaves_one_line(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    # Refused (415) before the body is read: aiohttp then drains it, and the drain fails.
    caplog.set_level(logging.DEBUG)
    hdrs = [(b"Content-Type", b"text/plain"), (b"Content-Encoding", b"gzip")]
    answer = await send_raw(server.url, request_bytes(b"POST", b"/webhooks/open", hdrs, b"x" * 64))
    assert answer.status == 415
    assert all(r.exc_info is None for r in caplog.records)
    assert [r.levelname for r in caplog.records if r.levelno >= logging.WARNING] == []

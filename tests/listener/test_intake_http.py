"""The generic webhook through the real app on a loopback port, read back from the database:
the SQLite file, or PostgreSQL (the `engine` fixture runs each test on both)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest

from cxbot.config import Settings
from cxbot.store.pg import pg_sql
from tests.kit.postgres import Engine
from tests.kit.support import MakeSettings, Server, sign_generic, start_server

# The app runs in-process: a blocking call on its event loop fails the test (tests/kit/blocking.py).
pytestmark = pytest.mark.usefixtures("blockbuster")

REVIEW: dict[str, Any] = {
    "id": "abc-123",
    "kind": "review",
    "text": "Checkout kept failing — ödeme başarısız 😡",
    "rating": 2,
    "author": {"name": "Ana", "email": "ana@example.com", "handle": "@ana"},
    "url": "https://example.com/r/abc-123",
    "created_at": "2026-11-20T13:00:00+03:00",
    "channel": "app-store",
    "metadata": {"app_version": "4.2"},
}


@pytest.fixture
def settings(make_settings: MakeSettings, engine: Engine, env: dict[str, str]) -> Settings:
    return make_settings("", {**env, **engine.env()})


def rows(server: Server, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    url = server.settings.file.database.url
    if url is not None:  # the test's own check, with the driver directly
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(url, row_factory=dict_row) as pg:
            return list(pg.execute(pg_sql(sql), list(params)).fetchall())
    conn = sqlite3.connect(server.settings.db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


async def test_signed_signal_is_stored_before_the_answer(server: Server) -> None:
    status, body = await server.post("/webhooks/web", REVIEW, sign=True)
    assert status == 200
    assert body == {"accepted": 1, "duplicates": 0, "ids": [1]}
    stored = rows(server, "SELECT * FROM signals")
    assert len(stored) == 1
    row = stored[0]
    assert {
        k: row[k]
        for k in (
            "id",
            "source",
            "provider",
            "kind",
            "external_id",
            "author_name",
            "author_handle",
            "author_email",
            "text",
            "rating",
            "url",
            "channel",
            "created_at",
            "status",
            "metadata",
        )
    } == {
        "id": 1,
        "source": "web",
        "provider": "generic",
        "kind": "review",
        "external_id": "abc-123",
        "author_name": "Ana",
        "author_handle": "@ana",
        "author_email": "ana@example.com",
        "text": "Checkout kept failing — ödeme başarısız 😡",
        "rating": 2,
        "url": "https://example.com/r/abc-123",
        "channel": "app-store",
        "created_at": "2026-11-20T10:00:00.000000Z",
        "status": "new",
        "metadata": '{"app_version": "4.2"}',
    }
    events = rows(
        server, "SELECT source, provider, outcome, accepted, duplicates, body FROM events"
    )
    assert events == [
        {
            "source": "web",
            "provider": "generic",
            "outcome": "stored",
            "accepted": 1,
            "duplicates": 0,
            "body": json.dumps(REVIEW),
        }
    ]


async def test_retried_delivery_creates_nothing(server: Server) -> None:
    first = await server.post("/webhooks/web", REVIEW, sign=True)
    again = await server.post("/webhooks/web", REVIEW, sign=True)
    assert first == (200, {"accepted": 1, "duplicates": 0, "ids": [1]})
    assert again == (200, {"accepted": 0, "duplicates": 1, "ids": [1]})
    assert rows(server, "SELECT count(*) AS n FROM signals") == [{"n": 1}]
    # Both deliveries are kept raw, for replay and debugging.
    assert rows(server, "SELECT count(*) AS n FROM events") == [{"n": 2}]


async def test_batch_with_a_bad_item_keeps_the_good_ones(server: Server) -> None:
    batch = [
        {"id": 1, "kind": "review", "text": "fine"},
        {"id": 2, "kind": "review", "rating": 9},
        {"id": 12345678901234567890123, "kind": "survey", "score": 3, "score_type": "nps"},
        {"id": 1, "kind": "review", "text": "fine"},
    ]
    status, body = await server.post("/webhooks/web", batch, sign=True)
    assert status == 200
    assert body == {
        "accepted": 2,
        "duplicates": 1,
        "ids": [1, 2, 1],
        "rejected": [{"index": 1, "message": "rating: Input should be less than or equal to 5"}],
    }
    assert rows(server, "SELECT external_id FROM signals ORDER BY id") == [
        {"external_id": "1"},
        {"external_id": "12345678901234567890123"},
    ]


BAD_BODIES = [
    (
        b'{"id": "x", "kind": "review", "text": ',
        400,
        "malformed JSON: Expecting value at line 1 column 39",
    ),
    (b'{"id": "x", "kind": "review"}', 400, "a signal needs text, a rating or a score"),
    (
        b'{"id": "x", "kind": "gossip", "text": "hi"}',
        400,
        "kind: Input should be 'review', 'ticket', 'message', 'mention' or 'survey'",
    ),
    (b'{"id": "x", "kind": "review", "text": 5}', 400, "text: Input should be a valid string"),
    (
        b'{"id": "x", "kind": "review", "text": "hi", "rating": "five"}',
        400,
        "rating: Input should be a valid integer, unable to parse string as an integer",
    ),
    (b'{"id": "x", "kind": "review", "text": "hi", "created_at": "yesterday"}', 400, None),
    (
        b'{"id": "x", "kind": "survey", "score": 11, "score_type": "nps"}',
        400,
        "nps score must be between 0 and 10",
    ),
    (
        b'{"id": "x", "kind": "review", "text": "hi", "surprise": 1}',
        400,
        "surprise: Extra inputs are not permitted",
    ),
    (b'{"kind": "review", "text": "hi"}', 400, "id: Field required"),
    (b'"just a string"', 400, "body must be a signal object or an array of signal objects"),
    (b"[]", 400, "empty array: nothing to store"),
    (b'{"id": "x", "kind": "review", "text": "caf\xe9"}', 400, "body is not valid UTF-8 (byte 42)"),
    (b"[" * 5000 + b"]" * 5000, 400, None),
]


@pytest.mark.parametrize(("body", "status", "message"), BAD_BODIES)
async def test_bad_bodies_get_a_400_that_says_what_is_wrong(
    server: Server, body: bytes, status: int, message: str | None
) -> None:
    got_status, got = await server.post("/webhooks/web", body, sign=True)
    assert got_status == status
    assert got["error"] == "bad_request"
    if message is not None:
        assert message in got["message"]
    assert rows(server, "SELECT count(*) AS n FROM signals") == [{"n": 0}]
    assert rows(server, "SELECT count(*) AS n FROM events") == [{"n": 0}]


async def test_signature_checks(server: Server) -> None:
    raw = json.dumps(REVIEW).encode()
    missing = await server.post("/webhooks/web", raw)
    wrong = await server.post(
        "/webhooks/web", raw, headers={"X-Cxbot-Signature": "sha256=" + "0" * 64}
    )
    tampered = await server.post(
        "/webhooks/web",
        raw.replace(b"Ana", b"Bob"),
        headers={"X-Cxbot-Signature": sign_generic(raw)},
    )
    assert missing == (
        401,
        {"error": "unauthorized", "message": "missing X-Cxbot-Signature header"},
    )
    assert wrong == (401, {"error": "unauthorized", "message": "signature does not match the body"})
    assert tampered[0] == 401
    assert rows(server, "SELECT count(*) AS n FROM events") == [{"n": 0}]
    # An unsigned source accepts the same body without a signature.
    assert (await server.post("/webhooks/open", raw))[0] == 200


async def test_other_refusals(server: Server) -> None:
    raw = json.dumps(REVIEW).encode()
    unknown = await server.post("/webhooks/nowhere", raw, sign=True)
    form = await server.post(
        "/webhooks/web", raw, sign=True, content_type="application/x-www-form-urlencoded"
    )
    too_big = await server.post("/webhooks/web", b" " * (1_048_576 + 1), sign=True)
    assert unknown == (
        404,
        {
            "error": "not_found",
            "message": "unknown source 'nowhere': add [sources.nowhere] to the config",
        },
    )
    assert form[0] == 415 and "application/json" in form[1]["message"]
    assert too_big[0] == 413 and too_big[1]["error"] == "payload_too_large"
    async with server.session.get(server.url + "/webhooks/web") as resp:
        assert resp.status == 405
        assert (await resp.json())["error"] == "method_not_allowed"
    async with server.session.get(server.url + "/nothing-here") as resp:
        assert resp.status == 404
        assert (await resp.json())["error"] == "not_found"
    assert rows(server, "SELECT count(*) AS n FROM signals") == [{"n": 0}]


async def test_healthz(server: Server) -> None:
    async with server.session.get(server.url + "/healthz") as resp:
        assert resp.status == 200
        assert (await resp.json())["ok"] is True


async def test_restart_keeps_data(server: Server) -> None:
    await server.post("/webhooks/web", REVIEW, sign=True)
    await server.app.shutdown()
    await server.app.cleanup()
    runner, url, _ = await start_server(server.settings)
    try:
        async with server.session.post(
            url + "/webhooks/web",
            json=REVIEW,
            headers={"X-Cxbot-Signature": sign_generic(json.dumps(REVIEW).encode())},
        ) as resp:
            assert resp.status == 200
            assert await resp.json() == {"accepted": 0, "duplicates": 1, "ids": [1]}
    finally:
        await runner.cleanup()

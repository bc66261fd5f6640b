"""What `events` keeps of a delivery (issue 14, defects 1 and 4), through the real app: a test
send signed with Zendesk's public secret and a flood of identical posts keep small records."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from typing import Any

import pytest

from cxbot.config import Settings
from tests.kit import providers as kit
from tests.kit.support import MakeSettings, serving

pytestmark = pytest.mark.usefixtures("blockbuster")

# Zendesk documents this secret: anyone can sign a "test send" with it.
ZENDESK_PUBLIC_TEST_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
ZD_TOML = '[sources.zd]\ntype = "zendesk"\nsecret_env = "ZD"\n'


def events(settings: Settings) -> list[dict[str, Any]]:
    conn = sqlite3.connect(settings.db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM events ORDER BY id")]
    finally:
        conn.close()


async def test_a_flood_of_test_sends_stores_no_bodies(make_settings: MakeSettings) -> None:
    settings = make_settings(ZD_TOML, {"CXBOT_WEB_SECRET": "w", "ZD": "our-secret"})
    # A valid JSON object padded to ~200 kB, so the answer is "test send", not a 400.
    body = json.dumps(
        {"type": "zen:event-type:ticket.comment_added", "pad": "x" * 200_000}
    ).encode()
    async with serving(settings) as server:
        for _ in range(10):
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            sig = kit.Hmac(ZENDESK_PUBLIC_TEST_SECRET, encoding="base64")(stamp.encode() + body)
            status, answer = await server.post(
                "/webhooks/zd",
                body,
                headers={
                    "X-Zendesk-Webhook-Signature": sig,
                    "X-Zendesk-Webhook-Signature-Timestamp": stamp,
                },
            )
            assert status == 200 and answer.get("ping") is True, answer
    rows = events(settings)
    assert len(rows) == 10
    digest = hashlib.sha256(body).hexdigest()
    assert {
        (r["outcome"], r["body"], r["body_sha256"], r["body_bytes"], r["headers"]) for r in rows
    } == {("ping", "", digest, len(body), "{}")}


async def test_identical_posts_keep_one_body(make_settings: MakeSettings) -> None:
    settings = make_settings()
    review = {"id": "dup-1", "kind": "review", "text": "Still broken", "rating": 1}
    async with serving(settings) as server:
        for _ in range(20):
            status, _ = await server.post("/webhooks/open", review)
            assert status == 200
        # A batch with one new and one old signal keeps its body: it brought something new.
        status, answer = await server.post("/webhooks/open", [review, {**review, "id": "dup-2"}])
        assert answer["accepted"] == 1 and answer["duplicates"] == 1
    rows = events(settings)
    first, dups, mixed = rows[0], rows[1:20], rows[20]
    assert (first["outcome"], json.loads(first["body"])) == ("stored", review)
    assert {(r["outcome"], r["body"], r["duplicate_of"]) for r in dups} == {
        ("duplicate", "", first["id"])
    }
    assert mixed["outcome"] == "stored" and mixed["body"] and mixed["duplicate_of"] is None

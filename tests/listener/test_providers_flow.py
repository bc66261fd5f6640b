"""One provider of each family through the running server, signed the provider's own way:
help desk (Zendesk, Intercom ping), survey (Typeform), review (Trustpilot, shared token),
social (Meta with its GET handshake, X with its CRC)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.kit import providers as kit
from tests.kit.support import MakeSettings, Server, serving

# The app runs in-process: a blocking call on its event loop fails the test (tests/kit/blocking.py).
pytestmark = pytest.mark.usefixtures("blockbuster")

SECRETS = {
    "ZD": "zendesk-secret",
    "IC": "intercom-secret",
    "TF": "typeform-secret",
    "TP": "tp-token",
    "META": "meta-app-secret",
    "META_VERIFY": "meta-verify",
    "X": "x-consumer-secret",
}
CONFIG = """
[sources.zendesk]
type = "zendesk"
secret_env = "ZD"
[sources.intercom]
type = "intercom"
secret_env = "IC"
[sources.typeform]
type = "typeform"
secret_env = "TF"
[sources.trustpilot]
type = "trustpilot"
token_env = "TP"
[sources.meta]
type = "meta"
secret_env = "META"
verify_token_env = "META_VERIFY"
[sources.x]
type = "x"
secret_env = "X"
"""


@pytest.fixture
async def providers(make_settings: MakeSettings) -> AsyncIterator[Server]:
    async with serving(make_settings(CONFIG, {"CXBOT_WEB_SECRET": "w", **SECRETS})) as server:
        yield server


raw = kit.raw
sign_zendesk = kit.Hmac(SECRETS["ZD"], encoding="base64")  # over timestamp + body
sign_intercom = kit.Hmac(SECRETS["IC"], "sha1", prefix="sha1=")
sign_typeform = kit.Hmac(SECRETS["TF"], encoding="base64", prefix="sha256=")
sign_meta = kit.Hmac(SECRETS["META"], prefix="sha256=")
sign_x = kit.Hmac(SECRETS["X"], encoding="base64", prefix="sha256=")  # also the CRC answer


def stored(server: Server, source: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(server.settings.db_path)
    try:
        return conn.execute(
            "SELECT kind, external_id, text IS NOT NULL, score_type FROM signals WHERE source = ? ORDER BY id",
            [source],
        ).fetchall()
    finally:
        conn.close()


async def test_zendesk_signed_with_timestamp(providers: Server) -> None:
    body = raw("zendesk", "event_comment_added.json")
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    headers = {
        "X-Zendesk-Webhook-Signature": sign_zendesk(stamp.encode() + body),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }
    first = await providers.post("/webhooks/zendesk", body, headers=headers)
    again = await providers.post("/webhooks/zendesk", body, headers=headers)
    tampered = await providers.post(
        "/webhooks/zendesk", body.replace(b"}", b" }", 1), headers=headers
    )
    assert first[0] == 200 and first[1]["accepted"] == 1
    assert again[0] == 200 and again[1]["duplicates"] == 1
    assert tampered[0] == 401
    [(kind, _, has_text, _)] = stored(providers, "zendesk")
    assert (kind, has_text) == ("ticket", 1)


async def test_intercom_ping_stores_no_signal(providers: Server) -> None:
    body = raw("intercom", "ping.json")
    sig = sign_intercom(body)
    status, answer = await providers.post(
        "/webhooks/intercom", body, headers={"X-Hub-Signature": sig}
    )
    assert (status, answer["accepted"], answer.get("ping")) == (200, 0, True)
    assert stored(providers, "intercom") == []


async def test_typeform_nps_answer(providers: Server) -> None:
    body = raw("typeform", "form_response_nps.json")
    sig = sign_typeform(body)
    status, answer = await providers.post(
        "/webhooks/typeform", body, headers={"Typeform-Signature": sig}
    )
    assert status == 200 and answer["accepted"] >= 1
    assert any(score_type == "nps" for *_, score_type in stored(providers, "typeform"))


async def test_trustpilot_token_in_url_or_header(providers: Server) -> None:
    body = raw("trustpilot", "batch_mixed.json")
    no_token = await providers.post("/webhooks/trustpilot", body)
    wrong = await providers.post("/webhooks/trustpilot?token=nope", body)
    in_url = await providers.post(f"/webhooks/trustpilot?token={SECRETS['TP']}", body)
    in_header = await providers.post(
        "/webhooks/trustpilot", body, headers={"X-Cxbot-Token": SECRETS["TP"]}
    )
    assert (no_token[0], wrong[0]) == (401, 401)
    assert in_url[0] == 200 and in_url[1]["accepted"] >= 1
    assert in_header[0] == 200 and in_header[1]["accepted"] == 0  # the same reviews again
    assert all(kind == "review" for kind, *_ in stored(providers, "trustpilot"))
    conn = sqlite3.connect(providers.settings.db_path)
    headers = conn.execute("SELECT headers FROM events WHERE source = 'trustpilot'").fetchall()
    conn.close()
    assert all(SECRETS["TP"] not in h for (h,) in headers)  # the token is never stored


async def test_meta_handshake_and_signed_comment(providers: Server) -> None:
    q = {
        "hub.mode": "subscribe",
        "hub.verify_token": SECRETS["META_VERIFY"],
        "hub.challenge": "1158201444",
    }
    async with providers.session.get(providers.url + "/webhooks/meta", params=q) as resp:
        assert (resp.status, await resp.text()) == (200, "1158201444")
    async with providers.session.get(
        providers.url + "/webhooks/meta", params={**q, "hub.verify_token": "x"}
    ) as resp:
        assert resp.status == 401
    body = raw("meta", "page_feed_comment.json")
    sig = sign_meta(body)
    status, answer = await providers.post(
        "/webhooks/meta", body, headers={"X-Hub-Signature-256": sig}
    )
    assert status == 200 and answer["accepted"] == 1
    assert (
        await providers.post("/webhooks/meta", body, headers={"X-Hub-Signature-256": "sha256=00"})
    )[0] == 401


async def test_x_crc_and_mention(providers: Server) -> None:
    async with providers.session.get(
        providers.url + "/webhooks/x", params={"crc_token": "abc"}
    ) as resp:
        got = json.loads(await resp.text())
    expected = sign_x(b"abc")
    assert got == {"response_token": expected}
    body = raw("x", "tweet_create_events.json")
    sig = sign_x(body)
    status, answer = await providers.post(
        "/webhooks/x", body, headers={"X-Twitter-Webhooks-Signature": sig}
    )
    assert status == 200 and answer["accepted"] >= 1
    assert all(kind == "mention" for kind, *_ in stored(providers, "x"))

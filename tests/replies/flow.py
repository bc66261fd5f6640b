"""What the reply flow tests share: signed Slack interactivity (block_actions, view_submission)
as Slack sends them, a Zendesk delivery signed now, and database reads on either engine."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import sqlite3
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tests.kit.fakeslack import FakeSlack, Json
from tests.kit.postgres import Engine
from tests.kit.support import Server, slack_headers

ZD_SECRET = "zd-webhook-secret"
TICKETS = """
[[alerts]]
name = "tickets"
channel = "#cx-alerts"
kinds = ["ticket"]
"""


def zendesk_toml(api_url: str, *, with_keys: bool = True) -> str:
    keys = (
        f'api_email_env = "ZD_EMAIL"\napi_token_env = "ZD_TOKEN"\napi_url = "{api_url}"\n'
        if with_keys
        else ""
    )
    return f'[sources.zd]\ntype = "zendesk"\nsecret_env = "ZD_SECRET"\nsubdomain = "acme"\n{keys}'


ZD_ENV = {"ZD_SECRET": ZD_SECRET, "ZD_EMAIL": "agent@acme.example", "ZD_TOKEN": "zd-api-token"}


def comment_event(ticket: str, comment: str, text: str) -> dict[str, Any]:
    """A `ticket.comment_added` event (our own data, the shape Zendesk documents)."""
    return {
        "account_id": 1234,
        "detail": {"id": ticket, "subject": "Parcel never came", "status": "OPEN",
                   "requester_id": "501", "via": {"channel": "web"},
                   "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-01T09:00:00Z"},
        "event": {"comment": {"id": comment, "body": text, "is_public": True,
                              "author": {"id": "501", "is_staff": False, "name": "Nora Vale"}}},
        "id": f"evt-{comment}",
        "subject": f"zen:ticket:{ticket}",
        "time": "2026-12-01T09:00:00Z",
        "type": "zen:event-type:ticket.comment_added",
        "zendesk_event_version": "2022-11-06",
    }  # fmt: skip


async def post_zendesk(server: Server, event: dict[str, Any]) -> int:
    body = json.dumps(event).encode()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = hmac.new(ZD_SECRET.encode(), stamp.encode() + body, hashlib.sha256).digest()
    headers = {
        "X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }
    status, _ = await server.post("/webhooks/zd", body, headers=headers)
    return status


async def interact(server: Server, payload: Json) -> tuple[int, str]:
    body = "payload=" + urllib.parse.quote(json.dumps(payload))
    async with server.session.post(
        server.url + "/slack/events", data=body, headers=slack_headers(body)
    ) as resp:
        return resp.status, await resp.text()


async def click_reply(server: Server, fake: FakeSlack, message: Json, signal_id: int) -> int:
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": "U111", "name": "ann"},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": "C0001"},
        "channel": {"id": "C0001", "name": "cx-alerts"},
        "message": {"ts": message["ts"], "text": message["text"]},
        "response_url": fake.response_url("reply"),
        "actions": [{"type": "button", "action_id": "cx_reply", "block_id": "b",
                     "value": str(signal_id), "action_ts": "1.0"}],
    }  # fmt: skip
    status, _ = await interact(server, payload)
    return status


async def send(server: Server, view: Json, text: str | None) -> tuple[int, Any]:
    """The modal's *Send*: a view_submission with the typed text."""
    payload = {
        "type": "view_submission",
        "team": {"id": "T1"},
        "user": {"id": "U111", "name": "ann"},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "13345224609.738474920.2",
        "view": {
            "id": view["id"],
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"],
            "state": {"values": {"reply": {"text": {"type": "plain_text_input", "value": text}}}},
        },
    }
    status, body = await interact(server, payload)
    return status, (json.loads(body) if body.strip() else None)


def reply_button(message: Json) -> Json | None:
    for block in message.get("blocks") or []:
        if block.get("type") == "actions":
            for el in block["elements"]:
                if el.get("action_id") == "cx_reply":
                    return dict(el)
    return None


def rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    """A read on its own short connection (the test polls; nothing is left open)."""
    if engine.url is None:
        conn = sqlite3.connect(engine.path)
        try:
            return [tuple(r) for r in conn.execute(sql).fetchall()]
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(engine.url, autocommit=True) as pg:
        return [tuple(r) for r in pg.execute(sql).fetchall()]


async def until(check: Callable[[], Any], limit: float = 20) -> Any:
    deadline = asyncio.get_running_loop().time() + limit
    while True:
        result = await asyncio.to_thread(check)
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not true after {limit}s")
        await asyncio.sleep(0.05)

"""Intercom: an admin's public reply in the conversation — `POST /conversations/{id}/reply`
with `{"message_type": "comment", "type": "admin", "admin_id", "body"}`, bearer token,
`Intercom-Version: 2.14`. The answer is the conversation whose `conversation_parts` holds the
new part: its `id` is the reply id. The customer sees it in the Messenger (or by e-mail).

Keys: `api_token_env`, `admin_id` (the teammate the reply is sent as), `api_url` (default
`https://api.intercom.io`; EU and AU workspaces use their own host). The conversation id is the
signal's thread key; Intercom tickets (topic `ticket.*`) are not conversations: no reply.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from cxbot.replies.base import (
    Auth,
    Client,
    ReplyRequest,
    base_url,
    bearer,
    json_body,
    metadata,
    text_option,
)

API_URL = "https://api.intercom.io"
VERSION = "2.14"


def configured(options: Any) -> bool:
    return bool(text_option(options, "api_token") and text_option(options, "admin_id"))


def target(signal: Mapping[str, Any]) -> str | None:
    if str(metadata(signal).get("topic") or "").startswith("ticket."):
        return None
    key = signal.get("thread_key")
    return str(key) if key else None


def auth(options: Any, now: float) -> Auth:
    return None


def as_html(text: str) -> str:
    """The body is HTML: each paragraph a <p>, the text escaped (a reply is never markup)."""
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def build(
    options: Any, signal: Mapping[str, Any], target: str, text: str, token: str | None
) -> ReplyRequest:
    return ReplyRequest(
        "POST",
        f"{base_url(options, API_URL)}/conversations/{quote(target, safe='')}/reply",
        {
            **bearer(text_option(options, "api_token")),
            "Intercom-Version": VERSION,
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
        {
            "message_type": "comment",
            "type": "admin",
            "admin_id": text_option(options, "admin_id"),
            "body": as_html(text),
        },
    )


def read(headers: Mapping[str, str], body: bytes) -> str | None:
    data = json_body(body)
    parts = data.get("conversation_parts") if isinstance(data, dict) else None
    items = parts.get("conversation_parts") if isinstance(parts, dict) else None
    if isinstance(items, list) and items and isinstance(items[-1], dict) and items[-1].get("id"):
        return str(items[-1]["id"])
    return None


CLIENT = Client(
    name="intercom",
    configured=configured,
    target=target,
    auth=auth,
    build=build,
    read=read,
    max_chars=10_000,
    shown_as="a reply in the Intercom conversation, from the admin set in admin_id",
)

"""Zendesk: a public comment on the ticket — `PUT /api/v2/tickets/{id}.json` with
`{"ticket": {"comment": {"body", "public": true}}}` (a reply is a ticket update; there is no
reply endpoint). Basic auth `{email}/token:{api token}`. The answer's `audit.events[]` holds
the new `Comment` event: its `id` is the reply id. The customer gets the comment by e-mail (or
in the channel the ticket came from) from the agent the token belongs to.

Keys: `subdomain` (the adapter's), `api_email_env`, `api_token_env`, `api_url` (tests and
proxies; default `https://{subdomain}.zendesk.com`). The ticket id is the signal's thread key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from cxbot.replies.base import (
    Auth,
    Client,
    ReplyRequest,
    basic,
    json_body,
    text_option,
    thread_target,
)


def configured(options: Any) -> bool:
    has_host = bool(text_option(options, "subdomain") or text_option(options, "api_url"))
    return has_host and bool(
        text_option(options, "api_email") and text_option(options, "api_token")
    )


def auth(options: Any, now: float) -> Auth:
    return None  # Basic auth with the API token: no token to fetch


def build(
    options: Any, signal: Mapping[str, Any], target: str, text: str, token: str | None
) -> ReplyRequest:
    base = (
        text_option(options, "api_url")
        or f"https://{text_option(options, 'subdomain')}.zendesk.com"
    )
    email, api_token = text_option(options, "api_email"), text_option(options, "api_token")
    return ReplyRequest(
        "PUT",
        f"{base.rstrip('/')}/api/v2/tickets/{quote(target, safe='')}.json",
        {
            "Authorization": basic(f"{email}/token", api_token or ""),
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
        {"ticket": {"comment": {"body": text, "public": True}}},
    )


def read(headers: Mapping[str, str], body: bytes) -> str | None:
    data = json_body(body)
    events = data.get("audit", {}).get("events") if isinstance(data, dict) else None
    for event in events if isinstance(events, list) else []:
        if isinstance(event, dict) and event.get("type") == "Comment" and event.get("id"):
            return str(event["id"])
    return None


CLIENT = Client(
    name="zendesk",
    configured=configured,
    target=thread_target,
    auth=auth,
    build=build,
    read=read,
    max_chars=10_000,
    shown_as="a public comment on the Zendesk ticket, e-mailed to the customer",
)

"""Help Scout: a reply thread on the conversation — `POST /v2/conversations/{id}/reply` with
`{"customer": {"id"}, "text"}` (and `user`, the Help Scout user it is sent as, when set),
bearer token. The answer is `201` with an empty body: the new thread's id is the `Resource-ID`
header. The customer gets it by e-mail, like any reply from the mailbox.

Keys: `app_id` and `app_secret_env` (an OAuth2 app: client-credentials tokens from
`token_url`, default `https://api.helpscout.net/v2/oauth2/token`, refreshed when they expire)
or `api_token_env` (a token you refresh yourself); `user_id`; `api_url` (default
`https://api.helpscout.net`). The conversation id is the signal's thread key, the customer's
id its `customer_id` metadata (conversation signals only: ratings carry none).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from cxbot.replies.base import Auth, Client, ReplyRequest, base_url, bearer, metadata, text_option
from cxbot.sources.polling import TokenRequest

API_URL = "https://api.helpscout.net"
TOKEN_URL = "https://api.helpscout.net/v2/oauth2/token"


def configured(options: Any) -> bool:
    app = text_option(options, "app_id") and text_option(options, "app_secret")
    return bool(app or text_option(options, "api_token"))


def target(signal: Mapping[str, Any]) -> str | None:
    key = signal.get("thread_key")
    return str(key) if key and metadata(signal).get("customer_id") else None


def auth(options: Any, now: float) -> Auth:
    if text_option(options, "api_token"):
        return None
    return TokenRequest(
        text_option(options, "token_url") or TOKEN_URL,
        {
            "grant_type": "client_credentials",
            "client_id": text_option(options, "app_id") or "",
            "client_secret": text_option(options, "app_secret") or "",
        },
    )


def build(
    options: Any, signal: Mapping[str, Any], target: str, text: str, token: str | None
) -> ReplyRequest:
    customer = str(metadata(signal)["customer_id"])
    body: dict[str, Any] = {
        "customer": {"id": int(customer) if customer.isdigit() else customer},
        "text": text,
    }
    if user := text_option(options, "user_id"):
        body["user"] = int(user) if user.isdigit() else user
    return ReplyRequest(
        "POST",
        f"{base_url(options, API_URL)}/v2/conversations/{quote(target, safe='')}/reply",
        {
            **bearer(token or text_option(options, "api_token")),
            "Content-Type": "application/json",
        },
        body,
    )


def read(headers: Mapping[str, str], body: bytes) -> str | None:
    found = {k.lower(): v for k, v in headers.items()}.get("resource-id")
    return found.strip() if found else None


CLIENT = Client(
    name="helpscout",
    configured=configured,
    target=target,
    auth=auth,
    build=build,
    read=read,
    max_chars=10_000,
    shown_as="a reply thread on the Help Scout conversation, e-mailed to the customer",
)

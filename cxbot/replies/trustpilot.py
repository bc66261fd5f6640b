"""Trustpilot: the company's public reply to a service review — `POST /v1/private/reviews/
{id}/reply` with `{"message", "authorBusinessUserId"}`, a business-user OAuth bearer token.
The answer is not documented: any 2xx is success (an `id` in it is kept when there is one).
The reply shows under the review on Trustpilot, and the reviewer is notified.

Keys: `api_key_env` and `api_secret_env` (client-credentials tokens from `token_url`, default
`https://api.trustpilot.com/v1/oauth/oauth-business-users-for-applications/accesstoken`; such
a token is tied to no user, so set `business_user_id`), or `api_token_env` (a business user's
token); `api_url` (default `https://api.trustpilot.com`). The review id is the thread key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from cxbot.replies.base import (
    Auth,
    Client,
    ReplyRequest,
    base_url,
    basic,
    bearer,
    json_body,
    text_option,
    thread_target,
)
from cxbot.sources.polling import TokenRequest

API_URL = "https://api.trustpilot.com"
TOKEN_URL = API_URL + "/v1/oauth/oauth-business-users-for-applications/accesstoken"


def configured(options: Any) -> bool:
    keys = text_option(options, "api_key") and text_option(options, "api_secret")
    return bool(keys or text_option(options, "api_token"))


def auth(options: Any, now: float) -> Auth:
    if text_option(options, "api_token"):
        return None
    key, secret = text_option(options, "api_key") or "", text_option(options, "api_secret") or ""
    return TokenRequest(
        text_option(options, "token_url") or TOKEN_URL,
        {"grant_type": "client_credentials"},
        {"Authorization": basic(key, secret)},
    )


def build(
    options: Any, signal: Mapping[str, Any], target: str, text: str, token: str | None
) -> ReplyRequest:
    body: dict[str, Any] = {"message": text}
    if user := text_option(options, "business_user_id"):
        body["authorBusinessUserId"] = user
    return ReplyRequest(
        "POST",
        f"{base_url(options, API_URL)}/v1/private/reviews/{quote(target, safe='')}/reply",
        {
            **bearer(token or text_option(options, "api_token")),
            "Content-Type": "application/json",
        },
        body,
    )


def read(headers: Mapping[str, str], body: bytes) -> str | None:
    data = json_body(body)
    if isinstance(data, dict):
        found = data.get("id") or (data.get("reply") or {}).get("id")
        if isinstance(found, str | int) and not isinstance(found, bool):
            return str(found)
    return None


CLIENT = Client(
    name="trustpilot",
    configured=configured,
    target=thread_target,
    auth=auth,
    build=build,
    read=read,
    max_chars=5000,
    shown_as="the company's public reply under the Trustpilot review",
)

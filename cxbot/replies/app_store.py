"""App Store Connect: the developer response to a customer review — `POST /v1/
customerReviewResponses` with `{"data": {"type": "customerReviewResponses", "attributes":
{"responseBody"}, "relationships": {"review": {"data": {"type": "customerReviews", "id"}}}}}`.
The bearer token is the poll source's own ES256 JWT (`cxbot.sources.app_store.mint`: one
minting for both). The answer is `201` with `data.id`, the response's id. A second response
to the same review replaces the first; Apple shows it on the App Store after a review, and the
customer is notified. The review id is the signal's external id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cxbot.replies.base import (
    Auth,
    Client,
    Minted,
    ReplyRequest,
    base_url,
    bearer,
    external_target,
    json_body,
)
from cxbot.sources import app_store


def configured(options: Any) -> bool:
    return getattr(options, "private_key", None) is not None


def auth(options: Any, now: float) -> Auth:
    token, expires = app_store.mint(options, now)
    return Minted(token, expires)


def build(
    options: Any, signal: Mapping[str, Any], target: str, text: str, token: str | None
) -> ReplyRequest:
    return ReplyRequest(
        "POST",
        f"{base_url(options, app_store.API_URL)}/v1/customerReviewResponses",
        {**bearer(token), "Content-Type": "application/json", "Accept": "application/json"},
        {
            "data": {
                "type": "customerReviewResponses",
                "attributes": {"responseBody": text},
                "relationships": {"review": {"data": {"type": "customerReviews", "id": target}}},
            }
        },
    )


def read(headers: Mapping[str, str], body: bytes) -> str | None:
    data = json_body(body)
    found = data.get("data", {}).get("id") if isinstance(data, dict) else None
    return str(found) if found else None


CLIENT = Client(
    name="app_store",
    configured=configured,
    target=external_target,
    auth=auth,
    build=build,
    read=read,
    max_chars=5970,  # Apple's limit on responseBody
    shown_as="the developer response under the App Store review (after Apple's check)",
)

"""Google Business Profile: the owner's reply to a review — `PUT /v4/accounts/{account}/
locations/{location}/reviews/{id}/reply` (`updateReply`) with `{"comment"}` (at most 4096
bytes), the poll source's service-account token (scope `business.manage`). The answer is the
`ReviewReply`; it has no id of its own, so the review's name is kept. Replying again replaces
it. The review's name (`accounts/…/reviews/…`) is the signal's external id; a bare review id
is placed under the source's account and location.
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
    bearer,
    external_target,
)
from cxbot.sources import google_business
from cxbot.sources.google_auth import token_request

MAX_BYTES = 4096


def configured(options: Any) -> bool:
    return getattr(options, "credentials", None) is not None


def auth(options: Any, now: float) -> Auth:
    return token_request(options, google_business.SCOPE, now)


def review_name(options: Any, target: str) -> str:
    if target.startswith("accounts/"):
        return "/".join(quote(part, safe="") for part in target.split("/"))
    return (
        f"accounts/{quote(str(options.account), safe='')}/locations/"
        f"{quote(str(options.location), safe='')}/reviews/{quote(target, safe='')}"
    )


def build(
    options: Any, signal: Mapping[str, Any], target: str, text: str, token: str | None
) -> ReplyRequest:
    return ReplyRequest(
        "PUT",
        f"{base_url(options, google_business.API_URL)}/v4/{review_name(options, target)}/reply",
        {**bearer(token), "Content-Type": "application/json"},
        {"comment": text},
    )


def read(headers: Mapping[str, str], body: bytes) -> str | None:
    return None  # no id of its own: the review's is kept (keeps_target)


CLIENT = Client(
    name="google_business",
    configured=configured,
    target=external_target,
    auth=auth,
    build=build,
    read=read,
    keeps_target=True,
    max_chars=MAX_BYTES,  # bytes, checked as UTF-8 (cxbot/replies/draft.py)
    shown_as="the owner's reply under the Google review",
)

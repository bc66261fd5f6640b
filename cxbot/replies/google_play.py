"""Google Play: the developer reply to a review — `POST /androidpublisher/v3/applications/
{package}/reviews/{id}:reply` with `{"replyText"}` (at most 350 characters), the poll source's
service-account token (scope `androidpublisher`, cxbot/sources/google_auth.py). The answer is
`{"result": {"replyText", "lastEdited"}}` with no id of its own: a review has one reply, so
the reply id kept is the review's. Replying again replaces it; the user is notified of the
first reply only. The review id is the signal's external id.
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
from cxbot.sources import google_play
from cxbot.sources.google_auth import token_request


def configured(options: Any) -> bool:
    return getattr(options, "credentials", None) is not None


def auth(options: Any, now: float) -> Auth:
    return token_request(options, google_play.SCOPE, now)


def build(
    options: Any, signal: Mapping[str, Any], target: str, text: str, token: str | None
) -> ReplyRequest:
    package = quote(str(options.package_name), safe="")
    return ReplyRequest(
        "POST",
        f"{base_url(options, google_play.API_URL)}/androidpublisher/v3/applications/{package}"
        f"/reviews/{quote(target, safe='')}:reply",
        {**bearer(token), "Content-Type": "application/json"},
        {"replyText": text},
    )


def read(headers: Mapping[str, str], body: bytes) -> str | None:
    return None  # no id of its own: the review's is kept (keeps_target)


CLIENT = Client(
    name="google_play",
    configured=configured,
    target=external_target,
    auth=auth,
    build=build,
    read=read,
    keeps_target=True,
    max_chars=350,  # Google's limit on replyText
    shown_as="the developer reply under the Google Play review",
)

"""Google Business Profile reviews of one location: `GET {api_url}/v4/accounts/{account}/
locations/{location}/reviews`, `orderBy=updateTime desc`, 50 a page, `nextPageToken` paging.

A review: `name` (the id), `starRating` as a word (`ONE`…`FIVE`; `STAR_RATING_UNSPECIFIED` has
no rating), `comment` (absent for a rating-only review), `reviewer.displayName`, `createTime`,
`updateTime`, `reviewReply`. A walk stops at the first review updated before the newest one
read before. Auth: the same service-account flow as Google Play, scope `business.manage`; the
service account must be a manager of the location (Business Profile → Business Profile
settings → Managers).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pydantic import Field, SecretStr, field_validator

from cxbot.models import Author, Signal
from cxbot.sources.fields import decode_json, parse_time
from cxbot.sources.google_auth import GoogleOptions, service_account, token_request
from cxbot.sources.polling import (
    Page,
    PageRequest,
    Poller,
    PollError,
    Query,
    TokenRequest,
    build,
)

API_URL = "https://mybusiness.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/business.manage"
STARS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5}
PAGE_SIZE = "50"  # the API's largest page


class Options(GoogleOptions):
    account: str = Field(pattern=r"^[0-9A-Za-z_-]+$")
    location: str = Field(pattern=r"^[0-9A-Za-z_-]+$")

    @field_validator("credentials")
    @classmethod
    def _key_file(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None:
            service_account(v)
        return v


def request(cursor: str | None, query: Query) -> PageRequest:
    options: Options = query.options
    base = (options.api_url or API_URL).rstrip("/")
    params = {"pageSize": PAGE_SIZE, "orderBy": "updateTime desc"}
    if cursor is not None:
        params["pageToken"] = cursor
    path = f"accounts/{quote(options.account)}/locations/{quote(options.location)}/reviews"
    return PageRequest(f"{base}/v4/{path}", params)


def _signal(item: Any) -> Signal | None:
    if not isinstance(item, dict):
        return None
    found = item.get("reviewer")
    reviewer: dict[str, Any] = found if isinstance(found, dict) else {}
    metadata: dict[str, Any] = {"replied": isinstance(item.get("reviewReply"), dict)}
    if item.get("updateTime"):
        metadata["updated_at"] = item["updateTime"]
    return Signal.model_validate(
        {
            "external_id": item.get("name") or item.get("reviewId"),
            "kind": "review",
            "rating": STARS.get(str(item.get("starRating"))),
            "text": item.get("comment"),
            "author": Author(
                name=None if reviewer.get("isAnonymous") else reviewer.get("displayName")
            ),
            "url": item.get("reviewReplyUrl"),  # newer answers carry where to reply
            "created_at": parse_time(item.get("createTime"), "createTime"),
            "channel": "google-business",
            "metadata": metadata,
        }
    )


def read(body: bytes, cursor: str | None, query: Query) -> Page:
    data = decode_json(body)
    if not isinstance(data, dict):
        raise PollError("the answer is not a JSON object")
    items = data.get("reviews") or []
    if not isinstance(items, list):
        raise PollError("`reviews` is not a list")
    signals, skipped = build(items, _signal)
    # Sorted by update time: the walk ends at a review updated before the last walk's newest.
    updated = [parse_time(i.get("updateTime"), "updateTime") for i in items if isinstance(i, dict)]
    done = query.since is not None and any(u is not None and u < query.since for u in updated)
    token = data.get("nextPageToken")
    following = None if done or not token else str(token)
    kept = [s for s in signals if not _older(s, query)]
    return Page(kept, following, skipped)


def _older(signal: Signal, query: Query) -> bool:
    """Updated before what the last walk read (an edit since counts as new to read)."""
    updated = parse_time(signal.metadata.get("updated_at"), "updateTime") or signal.created_at
    return bool(query.since and updated and updated < query.since)


def _token(options: Any, now: float) -> TokenRequest:
    return token_request(options, SCOPE, now)


POLLER = Poller(
    name="google_business", options=Options, request=request, read=read, token_request=_token
)

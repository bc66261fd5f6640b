"""Google Play reviews: Android Publisher `reviews.list` for one app (`package_name`).

`GET {api_url}/androidpublisher/v3/applications/{package}/reviews?maxResults=100`, the most
recently created or modified first, paged by `tokenPagination.nextPageToken` (the cursor).
Google returns only reviews with text, from production, created or modified **within the last
week**: poll at least daily (the default 15 minutes is well within the quota of 200 reads an
hour), or reviews are lost. `comments[0].userComment` is the review: `text` (title and body
joined by a tab), `starRating`, `lastModified` (`{seconds: "…", nanos}`), and where given
`reviewerLanguage`, `device`, `androidOsVersion`, `appVersionName`/`Code`, `deviceMetadata`.
Auth: a service account's OAuth token, scope `androidpublisher` (cxbot/sources/google_auth.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from pydantic import Field, SecretStr, field_validator

from cxbot.models import EARLIEST_CREATED, Author, Signal
from cxbot.sources.fields import decode_json
from cxbot.sources.google_auth import GoogleOptions, service_account, token_request
from cxbot.sources.polling import (
    Page,
    PageRequest,
    Poller,
    PollError,
    Query,
    TokenRequest,
    build,
    not_older,
    reached,
)

API_URL = "https://androidpublisher.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/androidpublisher"
PAGE_SIZE = "100"  # the API's largest page


class Options(GoogleOptions):
    package_name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$")

    @field_validator("credentials")
    @classmethod
    def _key_file(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None:
            service_account(v)
        return v


def request(cursor: str | None, query: Query) -> PageRequest:
    options: Options = query.options
    base = (options.api_url or API_URL).rstrip("/")
    params = {"maxResults": PAGE_SIZE}
    if cursor is not None:
        params["token"] = cursor
    return PageRequest(
        f"{base}/androidpublisher/v3/applications/{quote(options.package_name)}/reviews", params
    )


def _time(value: Any) -> datetime | None:
    """A protobuf Timestamp (`seconds` is text); one before 2000 (the docs' own example has
    1974) is not believed: the review is stored with the time it was first seen."""
    if not isinstance(value, dict):
        return None
    try:
        when = datetime.fromtimestamp(int(value.get("seconds", "")), UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return when if when >= EARLIEST_CREATED else None


_EXTRA = {"reviewerLanguage": "language", "device": "device", "androidOsVersion": "android_os",
          "appVersionName": "app_version", "appVersionCode": "app_version_code",
          "thumbsUpCount": "thumbs_up", "thumbsDownCount": "thumbs_down"}  # fmt: skip


def _signal(item: Any, package: str) -> Signal | None:
    if not isinstance(item, dict):
        return None
    found = item.get("comments")
    comments: list[Any] = found if isinstance(found, list) else []
    user = next((c["userComment"] for c in comments if isinstance(c, dict)
                 and isinstance(c.get("userComment"), dict)), None)  # fmt: skip
    if user is None:
        return None
    title, tab, body = str(user.get("text") or "").partition("\t")
    metadata: dict[str, Any] = {v: user[k] for k, v in _EXTRA.items() if user.get(k) is not None}
    device = user.get("deviceMetadata")
    if isinstance(device, dict):
        metadata["device_model"] = " ".join(
            str(device[k]) for k in ("manufacturer", "productName") if device.get(k)
        )
    replied = any(isinstance(c, dict) and "developerComment" in c for c in comments)
    metadata["replied"] = replied
    review_id = item.get("reviewId")
    return Signal.model_validate(
        {
            "external_id": review_id,
            "kind": "review",
            "rating": user.get("starRating"),
            "title": title if tab else None,
            "text": body if tab else title,
            "author": Author(name=item.get("authorName")),
            "url": f"https://play.google.com/store/apps/details?id={quote(package)}&reviewId={quote(str(review_id))}",
            "created_at": _time(user.get("lastModified")),
            "channel": "google-play",
            "metadata": metadata,
        }
    )


def read(body: bytes, cursor: str | None, query: Query) -> Page:
    options: Options = query.options
    data = decode_json(body)
    if not isinstance(data, dict):
        raise PollError("the answer is not a JSON object")
    items = data.get("reviews") or []
    if not isinstance(items, list):
        raise PollError("`reviews` is not a list")
    signals, skipped = build(items, lambda item: _signal(item, options.package_name))
    paging = data.get("tokenPagination")
    token = paging.get("nextPageToken") if isinstance(paging, dict) else None
    following = None if reached(signals, query.since) or not token else str(token)
    return Page(not_older(signals, query.since), following, skipped)


def _token(options: Any, now: float) -> TokenRequest:
    return token_request(options, SCOPE, now)


POLLER = Poller(
    name="google_play", options=Options, request=request, read=read, token_request=_token
)

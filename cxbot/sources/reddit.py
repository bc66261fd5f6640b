"""Reddit brand mentions: posts matching `query` from `search.json`, newest first, app-only OAuth.

`GET {api_url}/r/{a+b}/search.json?q=…&restrict_sr=1&sort=new&type=link&limit=100&raw_json=1`
(or `/search.json` across Reddit when `subreddits` is empty), paged by the listing's `after`
(the cursor). `raw_json=1`: otherwise the text comes HTML-escaped. A post is a `t3` child: its
`name` (`t3_…`) is the id, `title` and `selftext` the words, `created_utc` epoch seconds.
Token: `POST {token_url}` with HTTP Basic `client_id:client_secret`,
`grant_type=client_credentials`; the answer's `expires_in` is read, not assumed.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from pydantic import Field, SecretStr, field_validator

from cxbot.models import Author, Signal
from cxbot.sources.fields import decode_json
from cxbot.sources.polling import (
    Page,
    PageRequest,
    Poller,
    PollError,
    PollOptions,
    Query,
    TokenRequest,
    build,
    not_older,
    reached,
)

API_URL = "https://oauth.reddit.com"
TOKEN_URL = "https://www.reddit.com/api/v1/access_token"


class Options(PollOptions):
    query: str = Field(min_length=1, max_length=512)
    subreddits: list[str] = Field(default_factory=list)
    client_id_env: str
    client_secret_env: str
    client_id: SecretStr | None = None  # the variables' values, filled in by the config loader
    client_secret: SecretStr | None = None
    token_url: str = TOKEN_URL

    @field_validator("subreddits")
    @classmethod
    def _names(cls, v: list[str]) -> list[str]:
        names = [s.removeprefix("r/").removeprefix("/r/") for s in v]
        bad = [s for s in names if not s.replace("_", "").isalnum()]
        if bad:
            raise ValueError(f"not subreddit names: {bad!r}")
        return names


def request(cursor: str | None, query: Query) -> PageRequest:
    options: Options = query.options
    base = (options.api_url or API_URL).rstrip("/")
    params = {"q": options.query, "sort": "new", "type": "link", "limit": "100", "raw_json": "1"}
    if cursor is not None:
        params["after"] = cursor
    if options.subreddits:
        params["restrict_sr"] = "1"
        return PageRequest(f"{base}/r/{quote('+'.join(options.subreddits))}/search.json", params)
    return PageRequest(f"{base}/search.json", params)


def _when(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return None


def _signal(child: Any) -> Signal | None:
    if (
        not isinstance(child, dict)
        or child.get("kind") != "t3"
        or not isinstance(child.get("data"), dict)
    ):
        return None
    post: dict[str, Any] = child["data"]
    author = post.get("author")
    author = None if author in (None, "[deleted]") else str(author)
    permalink = post.get("permalink")
    metadata = {
        k: post[k] for k in ("subreddit", "score", "num_comments") if post.get(k) is not None
    }
    if post.get("edited"):
        metadata["edited"] = post["edited"]
    title = post.get("title")
    selftext = post.get("selftext")
    return Signal.model_validate(
        {
            "external_id": post.get("name") or post.get("id"),
            "kind": "mention",
            "title": title if selftext else None,
            "text": selftext or title,  # a link post's title is its words
            "author": Author(name=author, handle=f"u/{author}" if author else None),
            "url": f"https://www.reddit.com{permalink}" if isinstance(permalink, str) else None,
            "created_at": _when(post.get("created_utc")),
            "channel": "reddit",
            "metadata": metadata,
        }
    )


def read(body: bytes, cursor: str | None, query: Query) -> Page:
    data = decode_json(body)
    listing = data.get("data") if isinstance(data, dict) else None
    if not isinstance(listing, dict) or not isinstance(listing.get("children", []), list):
        raise PollError("the answer is not a Reddit listing")
    signals, skipped = build(listing.get("children") or [], _signal)
    after = listing.get("after")
    following = None if reached(signals, query.since) or not after else str(after)
    return Page(not_older(signals, query.since), following, skipped)


def token_request(options: Any, now: float) -> TokenRequest:
    opts: Options = options
    if opts.client_id is None or opts.client_secret is None:
        raise PollError(f"set {opts.client_id_env} and {opts.client_secret_env}")
    pair = f"{opts.client_id.get_secret_value()}:{opts.client_secret.get_secret_value()}"
    basic = base64.b64encode(pair.encode()).decode()
    return TokenRequest(
        opts.token_url, {"grant_type": "client_credentials"}, {"Authorization": f"Basic {basic}"}
    )


POLLER = Poller(
    name="reddit", options=Options, request=request, read=read, token_request=token_request
)

"""App Store customer reviews from Apple's public RSS feed (JSON): no credentials, any app.

`GET {api_url}/{country}/rss/customerreviews/page={n}/id={app_id}/sortby=mostrecent/json`,
50 reviews a page, pages 1-10 per storefront (the 500 newest), newest first. Every scalar is
wrapped as `{"label": "..."}` and numbers are strings. The feed's own paging links point at
the XML variant, so page URLs are built here. The cursor is `country:page`; a walk goes
through each country in turn and leaves a country at its last page, at an empty page, or at a
review older than the newest one read before. A review's date (`updated`) is missing from
some captures: such a review is stored with the time it was first seen.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator

from cxbot.models import Author, Signal
from cxbot.sources.fields import decode_json, parse_time
from cxbot.sources.polling import (
    Page,
    PageRequest,
    Poller,
    PollError,
    PollOptions,
    Query,
    build,
    label,
    not_older,
    reached,
)

API_URL = "https://itunes.apple.com"
LAST_PAGE = 10  # the feed serves no page beyond the tenth
_PAGE = re.compile(r"/page=(\d+)/")


class Options(PollOptions):
    app_id: str = Field(min_length=1, pattern=r"^\d+$")
    countries: list[str] = Field(default_factory=lambda: ["us"], min_length=1)

    @field_validator("countries")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if not re.fullmatch(r"[A-Za-z]{2}", c)]
        if bad:
            raise ValueError(f"countries are 2-letter storefront codes, not {bad!r}")
        return [c.lower() for c in v]


def _position(cursor: str | None, options: Options) -> tuple[str, int]:
    if cursor is None:
        return options.countries[0], 1
    country, _, page = cursor.partition(":")
    if country not in options.countries or not page.isdigit():
        return options.countries[0], 1  # the countries changed since: start again
    return country, int(page)


def request(cursor: str | None, query: Query) -> PageRequest:
    options: Options = query.options
    country, page = _position(cursor, options)
    base = (options.api_url or API_URL).rstrip("/")
    return PageRequest(
        f"{base}/{country}/rss/customerreviews/page={page}/id={options.app_id}/sortby=mostrecent/json"
    )


def _entries(feed: dict[str, Any]) -> list[Any]:
    entries = feed.get("entry")
    if entries is None:
        return []
    return entries if isinstance(entries, list) else [entries]  # one review: one object


def _last_page(feed: dict[str, Any]) -> int:
    links = feed.get("link")
    for link in links if isinstance(links, list) else []:
        attrs = link.get("attributes") if isinstance(link, dict) else None
        if isinstance(attrs, dict) and attrs.get("rel") == "last":
            found = _PAGE.search(str(attrs.get("href", "")))
            if found:
                return min(int(found.group(1)), LAST_PAGE)
    return LAST_PAGE


def _signal(entry: Any, country: str) -> Signal | None:
    if not isinstance(entry, dict) or label(entry.get("im:rating")) is None:
        return None  # old feeds began with an entry about the app itself
    found = entry.get("author")
    author: dict[str, Any] = found if isinstance(found, dict) else {}
    link = entry.get("link")
    attrs = link.get("attributes") if isinstance(link, dict) else None
    metadata: dict[str, Any] = {"country": country}
    for key, name in (("im:version", "app_version"), ("im:voteSum", "vote_sum"),
                      ("im:voteCount", "vote_count")):  # fmt: skip
        value = label(entry.get(key))
        if value is not None:
            metadata[name] = value
    return Signal.model_validate(
        {
            "external_id": label(entry.get("id")),
            "kind": "review",
            "rating": int(label(entry.get("im:rating")) or ""),
            "title": label(entry.get("title")),
            "text": label(entry.get("content")),
            "author": Author(name=label(author.get("name")), handle=label(author.get("uri"))),
            "url": attrs.get("href") if isinstance(attrs, dict) else None,
            "created_at": parse_time(label(entry.get("updated")), "entry.updated"),
            "channel": "app-store",
            "metadata": metadata,
        }
    )


def read(body: bytes, cursor: str | None, query: Query) -> Page:
    options: Options = query.options
    country, page = _position(cursor, options)
    data = decode_json(body)
    feed = data.get("feed") if isinstance(data, dict) else None
    if not isinstance(feed, dict):
        raise PollError("the answer has no `feed` object")
    entries = _entries(feed)
    signals, skipped = build(entries, lambda e: _signal(e, country))
    more = entries and page < _last_page(feed) and not reached(signals, query.since)
    if more:
        following: str | None = f"{country}:{page + 1}"
    else:
        rest = options.countries[options.countries.index(country) + 1 :]
        following = f"{rest[0]}:1" if rest else None
    return Page(not_older(signals, query.since), following, skipped)


POLLER = Poller(name="app_store_rss", options=Options, request=request, read=read)

"""The public App Store feed: our own feed pages in the recorded shape (labels, numbers as
text, a single review as one object, paging links to the XML variant), read page by page."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from cxbot.errors import ConfigError
from cxbot.poll.config import resolve_poll
from cxbot.sources.app_store_rss import POLLER, Options
from cxbot.sources.polling import PollError, Query
from tests.kit.fakereviews import rss_entry


def options(**extra: Any) -> Options:
    raw = {"type": "app_store_rss", "app_id": "1404176564", "countries": ["us", "TR"], **extra}
    return resolve_poll("test: sources.feed", "feed", raw, {}).options  # type: ignore[return-value]


def feed(entries: list[dict[str, Any]] | dict[str, Any] | None, last: int = 2) -> bytes:
    body: dict[str, Any] = {
        "link": [{"attributes": {"rel": "last", "href": f"https://itunes.apple.com/us/rss/customerreviews/page={last}/id=1404176564/sortby=mostrecent/xml?urlDesc=/customerreviews/id=1404176564/json"}}],
    }  # fmt: skip
    if entries is not None:
        body["entry"] = entries
    return json.dumps({"feed": body}).encode()


def test_pages_are_built_per_country_not_followed() -> None:
    query = Query(options(api_url="http://127.0.0.1:1/"))
    assert POLLER.request(None, query).url == (
        "http://127.0.0.1:1/us/rss/customerreviews/page=1/id=1404176564/sortby=mostrecent/json"
    )
    assert "/tr/rss/customerreviews/page=3/" in POLLER.request("tr:3", query).url
    assert "/us/rss/customerreviews/page=1/" in POLLER.request("xx:3", query).url  # country gone


def test_a_page_maps_to_signals_and_walks_on() -> None:
    query = Query(options())
    entries = [
        rss_entry(2, 1, updated="2026-11-20T10:00:00-07:00", version="3.4.1"),
        {"author": {"name": {"label": "app"}}, "id": {"label": "1"}},  # an app entry: no rating
        rss_entry(1, 4),  # the JSON feed may carry no date
    ]
    page = POLLER.read(feed(entries), None, query)
    assert page.next == "us:2"
    first, second = page.signals
    assert (first.external_id, first.rating, first.title, first.text) == (
        "7000000002", 1, "Title 2", "Feed review 2",
    )  # fmt: skip
    assert first.created_at == datetime(2026, 11, 20, 17, tzinfo=UTC)
    assert first.metadata == {
        "country": "us",
        "app_version": "3.4.1",
        "vote_sum": "0",
        "vote_count": "0",
    }
    assert first.author.name == "nick2" and first.url and first.channel == "app-store"
    assert second.created_at is None  # stored with the time first seen
    # The last page of a country goes on to the next country; the last country ends the walk.
    assert POLLER.read(feed([rss_entry(3, 5)]), "us:2", query).next == "tr:1"
    single = POLLER.read(feed(rss_entry(4, 2), last=1), "tr:1", query)  # one review: an object
    assert [s.external_id for s in single.signals] == ["7000000004"] and single.next is None
    assert POLLER.read(feed(None), "us:1", query).next == "tr:1"  # no reviews at all


def test_a_walk_stops_at_what_the_last_walk_read() -> None:
    since = datetime(2026, 11, 19, tzinfo=UTC)
    page = POLLER.read(
        feed(
            [
                rss_entry(9, 1, updated="2026-11-20T00:00:00Z"),
                rss_entry(8, 1, updated="2026-11-18T00:00:00Z"),
            ]
        ),
        None,
        Query(options(), since),
    )
    assert [s.external_id for s in page.signals] == ["7000000009"]
    assert page.next == "tr:1"  # this country is done; the next one is still read


def test_bad_items_are_skipped_and_a_bad_page_is_an_error() -> None:
    page = POLLER.read(feed([rss_entry(1, 9), rss_entry(2, 3)]), None, Query(options()))
    assert [s.rating for s in page.signals] == [3]
    assert page.skipped and "rating" in page.skipped[0]
    with pytest.raises(PollError, match="no `feed`"):
        POLLER.read(b'{"nope": 1}', None, Query(options()))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"app_id": "REALITY"}, "sources.feed.app_id: String should match pattern"),
        ({"countries": ["usa"]}, "2-letter storefront codes"),
        (
            {"interval": "soon"},
            "sources.feed.interval: interval 'soon' is not a duration such as \"15m\"",
        ),
        ({"interval": 0.5}, "at least one second"),
        ({"token": "x"}, "sources.feed.token: unknown key for this source type"),
        ({"api_url": "ftp://feeds"}, "sources.feed.api_url: must be an http:// or https:// URL"),
    ],
)
def test_config_errors_say_which_key(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match="^test: sources.feed") as caught:
        options(**extra)
    assert message in str(caught.value)


def test_intervals() -> None:
    from cxbot.poll.config import interval_seconds

    assert [interval_seconds(v) for v in ("15m", "1h", "30s", "2d", 45, "90")] == [
        900, 3600, 30, 172800, 45, 90,
    ]  # fmt: skip
    assert resolve_poll("t", "feed", {"type": "app_store_rss", "app_id": "1"}, {}).interval == 900

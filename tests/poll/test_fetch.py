"""The pollers' HTTP against the fake App Store Connect API: tokens minted, reused, renewed
when they expire or are refused, and 429 `Retry-After` obeyed."""

from __future__ import annotations

import time

import aiohttp
import pytest

from cxbot.poll.config import PollSource, resolve_poll
from cxbot.poll.fetch import Fetcher, FetchError, retry_after
from cxbot.sources.polling import Query
from tests.kit.fakereviews import Failure, FakeAppStoreConnect, new_p8_key
from tests.poll.conftest import five_reviews

pytestmark = pytest.mark.usefixtures("blockbuster")


def source_for(fake: FakeAppStoreConnect, pem: str) -> PollSource:
    raw = {"type": "app_store", "app_id": fake.app_id, "key_id": fake.key_id,
           "issuer_id": fake.issuer, "private_key_env": "ASC_KEY", "api_url": fake.api_url}  # fmt: skip
    return resolve_poll("test: sources.ios", "ios", raw, {"ASC_KEY": pem})


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def test_a_token_is_reused_then_renewed_when_it_expires() -> None:
    pem, public = new_p8_key()
    clock = Clock()
    async with FakeAppStoreConnect(public, clock=clock) as fake, aiohttp.ClientSession() as s:
        fake.reviews = five_reviews()
        source = source_for(fake, pem)
        fetcher = Fetcher(s, clock=clock)
        first = source.poller.request(None, Query(source.options))
        await fetcher.get(source, first)
        clock.now += 60
        await fetcher.get(source, first)
        assert len(set(fake.tokens)) == 1  # reused while valid
        clock.now += 15 * 60  # past the first token's expiry, by both clocks
        await fetcher.get(source, first)
        assert len(fake.tokens) == 3 and len(set(fake.tokens)) == 2
        assert fake.rejected == 0  # renewed before the provider had to refuse it


async def test_a_refused_token_is_minted_again_once() -> None:
    pem, public = new_p8_key()
    async with FakeAppStoreConnect(public) as fake, aiohttp.ClientSession() as s:
        fake.reviews = five_reviews()
        source = source_for(fake, pem)
        fetcher = Fetcher(s)
        fake.refuse_next_token = True
        body = await fetcher.get(source, source.poller.request(None, Query(source.options)))
        assert b"customerReviews" in body
        assert fake.rejected == 1 and len(fake.tokens) == 1


async def test_a_wrong_key_fails_the_run_with_apples_reason() -> None:
    pem, _ = new_p8_key()
    _, other_public = new_p8_key()
    async with FakeAppStoreConnect(other_public) as fake, aiohttp.ClientSession() as s:
        source = source_for(fake, pem)
        with pytest.raises(FetchError, match="HTTP 401 NOT_AUTHORIZED: Authentication credentials"):
            await Fetcher(s).get(source, source.poller.request(None, Query(source.options)))
        assert fake.rejected == 2  # the token, then one fresh one


async def test_429_waits_for_retry_after_then_succeeds() -> None:
    pem, public = new_p8_key()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async with FakeAppStoreConnect(public) as fake, aiohttp.ClientSession() as s:
        fake.reviews = five_reviews()
        fake.fail_next = [
            Failure(
                429,
                {"Retry-After": "7"},
                {"errors": [{"status": "429", "code": "RATE_LIMIT_EXCEEDED"}]},
            ),
            Failure(503),
        ]
        source = source_for(fake, pem)
        body = await Fetcher(s, sleep=sleep).get(
            source, source.poller.request(None, Query(source.options))
        )
        assert b"customerReviews" in body
        assert waits == [7.0, 2.0]  # Retry-After as given; then backoff (second attempt: 2 s)
        assert len(fake.requests) == 3


async def test_a_retry_after_beyond_the_limit_ends_the_run() -> None:
    pem, public = new_p8_key()
    async with FakeAppStoreConnect(public) as fake, aiohttp.ClientSession() as s:
        fake.fail_next = [Failure(429, {"Retry-After": "3600"})]
        source = source_for(fake, pem)
        with pytest.raises(FetchError, match=r"HTTP 429.*retry after 3600s"):
            await Fetcher(s, max_wait=300).get(
                source, source.poller.request(None, Query(source.options))
            )
        assert len(fake.requests) == 1


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after("120", 0) == 120
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412420) == 60
    assert retry_after("soon", 0) is None and retry_after(None, 0) is None

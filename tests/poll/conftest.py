"""Shared by the poll tests: an App Store Connect key, its fake API, and settings for both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric import ec

from tests.kit.fakereviews import FakeAppStoreConnect, asc_review, new_p8_key
from tests.kit.support import BAD_REVIEW_RULE


@pytest.fixture(scope="session")
def p8_key() -> tuple[str, ec.EllipticCurvePublicKey]:
    return new_p8_key()


@pytest_asyncio.fixture
async def asc(p8_key: tuple[str, ec.EllipticCurvePublicKey]) -> AsyncIterator[FakeAppStoreConnect]:
    async with FakeAppStoreConnect(p8_key[1]) as fake:
        yield fake


def five_reviews() -> list[dict[str, Any]]:
    """Newest first, as the API sorts with `-createdDate`: three pages of two."""
    return [
        asc_review(5, 1, "2026-11-20T08:10:34-08:00", territory="TUR"),
        asc_review(4, 5, "2026-11-19T08:10:34-08:00"),
        asc_review(3, 2, "2026-11-18T08:10:34-08:00"),
        asc_review(2, 4, "2026-11-17T23:59:00+03:00", territory="TUR"),
        asc_review(1, 1, "2026-11-16T08:10:34-08:00"),
    ]


def asc_toml(fake: FakeAppStoreConnect, name: str = "ios", interval: str = "1s") -> str:
    return f"""
[sources.{name}]
type = "app_store"
app_id = "{fake.app_id}"
key_id = "{fake.key_id}"
issuer_id = "{fake.issuer}"
private_key_env = "ASC_KEY"
api_url = "{fake.api_url}"
interval = "{interval}"
"""


ALERTS = BAD_REVIEW_RULE


async def until(check: Callable[[], Any], limit: float = 30) -> Any:
    """`check` (sync or async) until truthy; a generous bound, never a timing assertion."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"not true after {limit}s")
        await asyncio.sleep(0.05)

"""The whole flow on each engine: the real app on a loopback port (DATABASE_URL selects
PostgreSQL), signed webhooks in, stored once, enriched, alerted once through the fake Slack,
and `/cx` answering from the same database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from cxbot.config import Settings
from cxbot.cx.ask import answer
from cxbot.listener.keys import STORE
from tests.kit.fakeslack import FakeSlack
from tests.kit.postgres import Engine
from tests.kit.support import BAD_REVIEW_RULE, MakeSettings, serving, slack_env

pytestmark = pytest.mark.usefixtures("blockbuster")

ALERTS = BAD_REVIEW_RULE


def review(n: int, rating: int = 1) -> dict[str, Any]:
    return {
        "id": f"r{n}",
        "kind": "review",
        "rating": rating,
        "text": f"Order {n} never arrived, refund please",
        "author": {"name": f"Customer {n}", "email": f"c{n}@example.com"},
    }


def engine_settings(make_settings: MakeSettings, engine: Engine, env: dict[str, str]) -> Settings:
    return make_settings(ALERTS, {**env, **engine.env()})


async def rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    """The test's own read, off the loop (a connection per call, closed by the fixture)."""

    def read() -> list[tuple[Any, ...]]:
        return [tuple(r) for r in engine.connect().execute(sql).fetchall()]

    return await asyncio.to_thread(read)


async def until(check: Callable[[], Any], limit: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not true after {limit}s")
        await asyncio.sleep(0.05)


async def test_webhook_to_slack_once_and_cx_answers(
    engine: Engine, make_settings: MakeSettings, fake_slack: FakeSlack
) -> None:
    settings = engine_settings(make_settings, engine, slack_env(fake_slack))
    async with serving(settings) as server:
        status, body = await server.post(
            "/webhooks/web", [review(1), review(2), review(3, rating=5)], sign=True
        )
        assert status == 200 and (body["accepted"], body["duplicates"]) == (3, 0)
        # The provider retries one delivery, and a batch repeats an id: duplicates, no new rows.
        status, again = await server.post("/webhooks/web", [review(2), review(2)], sign=True)
        assert status == 200 and (again["accepted"], again["duplicates"]) == (0, 2)
        assert again["ids"] == [body["ids"][1]] * 2

        async def enriched() -> bool:
            found = await rows(engine, "SELECT count(*) FROM signals WHERE enriched_at IS NOT NULL")
            return found[0][0] == 3

        await until(enriched)

        async def sent() -> bool:
            found = await rows(engine, "SELECT status FROM outbox ORDER BY id")
            return found == [("sent",), ("sent",)]

        await until(sent)
        assert len(fake_slack.messages["C0001"]) == 2  # the two bad reviews, once each
        assert fake_slack.violations == []
        assert await rows(
            engine, "SELECT count(*), sum(accepted), sum(duplicates) FROM events"
        ) == [(2, 3, 2)]
        assert await rows(engine, "SELECT email, signal_count FROM customers ORDER BY email") == [
            ("c1@example.com", 1),
            ("c2@example.com", 1),
            ("c3@example.com", 1),
        ]
        store = server.app[STORE]
        summary = await answer(settings, store, "summary last 7 days", None, terminal=True)
        lines = summary.plain.splitlines()
        assert "Volume  3 signals  ·  n/a vs previous" in lines
        assert "Rating  2.33★ (n=3)  ·  n/a vs previous" in lines
        assert "Sentiment mix  67% negative · 0% neutral · 33% positive · 0% unscored" in lines
        found = await answer(settings, store, "search refund", None, terminal=True)
        assert "Order 3" in found.plain and "Order 1" in found.plain

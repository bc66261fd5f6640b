"""Three `serve` replicas on one PostgreSQL database, in-process, each the real app on its own
loopback port, all posting to one fake Slack. Deliveries land on any replica (retries on
another one): each signal is stored once, enriched once, and its alert posted once, in order
per channel and at the channel's pace across all replicas; when a replica stops, the others
take its work over."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest

from cxbot.config import Settings
from tests.kit.fakeslack import FakeSlack
from tests.kit.postgres import Engine
from tests.kit.support import MakeSettings, Server, serving, slack_env

pytestmark = pytest.mark.usefixtures("blockbuster")

PACE = 0.3
CONFIG = f"""
[slack]
pace_seconds = {PACE}

[[alerts]]
name = "bad-review"
channel = "#cx-alerts"
kinds = ["review"]
max_rating = 2
max_per_window = 1000
"""


def review(n: int) -> dict[str, Any]:
    return {"id": f"r{n}", "kind": "review", "rating": 1, "text": f"Order {n} never arrived",
            "author": {"email": f"c{n % 4}@example.com"}}  # fmt: skip


async def query(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    def read() -> list[tuple[Any, ...]]:
        return [tuple(r) for r in engine.connect().execute(sql).fetchall()]

    return await asyncio.to_thread(read)


async def until(check: Callable[[], Any], limit: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not true after {limit}s")
        await asyncio.sleep(0.05)


def outbox_ids(fake: FakeSlack) -> list[int]:
    out = []
    for m in fake.messages["C0001"]:
        meta = m["metadata"]
        meta = json.loads(meta) if isinstance(meta, str) else meta
        out.append(int(meta["event_payload"]["outbox_id"]))
    return out


async def test_three_replicas_store_enrich_and_alert_each_signal_once(
    pg_engine: Engine, make_settings: MakeSettings, fake_slack: FakeSlack
) -> None:
    settings: Settings = make_settings(CONFIG, {**slack_env(fake_slack), **pg_engine.env()})
    rnd = random.Random(5)
    async with AsyncExitStack() as others:
        first = AsyncExitStack()
        replicas: list[Server] = [await first.enter_async_context(serving(settings))]
        replicas += [await others.enter_async_context(serving(settings)) for _ in range(2)]
        first_ids: dict[int, int] = {}

        async def deliver(n: int, to: Server) -> None:
            status, body = await to.post("/webhooks/web", [review(n)], sign=True)
            assert status == 200, body
            first_ids.setdefault(n, body["ids"][0])
            assert body["ids"] == [first_ids[n]]  # a retry on another replica: the same id

        # Concurrent deliveries to random replicas, each retried once on another replica.
        await asyncio.gather(*(deliver(n, rnd.choice(replicas)) for n in range(12)))
        await asyncio.gather(*(deliver(n, rnd.choice(replicas)) for n in range(12)))
        await fake_slack.wait_for(lambda: len(fake_slack.messages["C0001"]) >= 12, timeout=30)

        # The first replica stops (its leases go with its connection); the others carry on.
        await first.aclose()
        await asyncio.gather(*(deliver(n, rnd.choice(replicas[1:])) for n in range(12, 18)))
        await fake_slack.wait_for(lambda: len(fake_slack.messages["C0001"]) >= 18, timeout=30)

        async def all_sent() -> bool:
            return await query(pg_engine, "SELECT count(*) FROM outbox WHERE status <> 'sent'") == [
                (0,)
            ]

        await until(all_sent)
        await asyncio.sleep(3 * PACE)  # room for a duplicate post, were one coming
    assert fake_slack.violations == []
    ids = outbox_ids(fake_slack)
    assert len(ids) == 18 and ids == sorted(set(ids))  # once each, in the channel's order
    stamps = [float(m["ts"]) for m in fake_slack.messages["C0001"]]
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    # The channel's pace held across replicas. Stamps are taken where the fake Slack receives,
    # so each gap carries the loopback's jitter on a loaded machine: no gap near zero (two
    # replicas posting at once), and the run as a whole no faster than the pace.
    assert min(gaps) >= PACE * 0.5, gaps
    assert stamps[-1] - stamps[0] >= (len(stamps) - 1) * PACE * 0.95, gaps
    assert await query(pg_engine, "SELECT count(*), count(enriched_at) FROM signals") == [(18, 18)]
    assert await query(pg_engine, "SELECT count(*), count(DISTINCT signal_id) FROM outbox") == [
        (18, 18)
    ]
    assert await query(pg_engine, "SELECT sum(signal_count) FROM customers") == [(18,)]
    assert await query(pg_engine, "SELECT sum(n) FROM daily_rollup WHERE topic = ''") == [(18,)]

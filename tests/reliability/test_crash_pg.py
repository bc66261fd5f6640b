"""The crash test with three `cxbot serve` replicas on one PostgreSQL database: signed webhooks
go to any replica (a load balancer's choice; a client retries on another one), and replicas
are SIGKILLed at random moments and started again. Every delivery that got a 200 must be
stored once, enriched once, and have its alert delivered once to the fake Slack server."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import aiohttp

from tests.kit.fakeslack import FakeSlack
from tests.kit.postgres import Engine
from tests.kit.support import sign_generic
from tests.reliability.test_crash import Process, alive, body

N = 200
REPLICAS = 3


class Replica(Process):
    def __init__(self, tmp: Path, fake: FakeSlack, url: str) -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        super().__init__(tmp, fake)
        self.env["DATABASE_URL"] = url


async def deliver(
    session: aiohttp.ClientSession, replicas: list[Replica], i: int, acked: dict[int, int],
    rng: random.Random,
) -> None:  # fmt: skip
    """Post until answered 200, each attempt to a random replica, as a load balancer would."""
    raw = body(i)
    headers = {"Content-Type": "application/json", "X-Cxbot-Signature": sign_generic(raw)}
    for _ in range(2 if i % 7 == 0 else 1):  # every 7th is retried after success
        while True:
            target = rng.choice(replicas)
            try:
                async with session.post(
                    target.url + "/webhooks/web",
                    data=raw,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=5),
                ) as resp:
                    if resp.status == 200:
                        acked[i] = acked.get(i, 0) + 1
                        break
                    assert resp.status in (503,), await resp.text()
            except (TimeoutError, aiohttp.ClientError):
                pass
            await asyncio.sleep(0.05)


async def test_three_replicas_sigkilled_mid_load_lose_and_duplicate_nothing(
    tmp_path: Path, fake_slack: FakeSlack, pg_engine: Engine
) -> None:
    assert pg_engine.url is not None
    rng = random.Random(15)
    replicas = [Replica(tmp_path / f"r{i}", fake_slack, pg_engine.url) for i in range(REPLICAS)]
    acked: dict[int, int] = {}

    def query(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in pg_engine.connect().execute(sql).fetchall()]

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(r.start(session) for r in replicas))
        try:
            sem = asyncio.Semaphore(6)

            async def one(i: int) -> None:
                async with sem:
                    await deliver(session, replicas, i, acked, rng)

            load = asyncio.gather(*(one(i) for i in range(N)))
            marks = sorted(rng.sample(range(N // 10, N - N // 10), 5))
            for mark in marks:
                while len(acked) < mark and not load.done():  # noqa: ASYNC110 - polls the load's progress
                    await asyncio.sleep(0.005)
                await asyncio.sleep(rng.uniform(0, 0.05))
                victim = rng.choice(replicas)
                victim.kill()  # SIGKILL: no cleanup, no drain; its leases die with its session
                await victim.start(session)
            await load
            for _ in range(600):
                sent = (await asyncio.to_thread(query, "SELECT count(*) FROM outbox"
                                                " WHERE status = 'sent'"))[0][0]  # fmt: skip
                if sent >= N:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # room for a duplicate post, were one coming
        finally:
            for r in replicas:
                r.stop()

    assert sum(r.kills for r in replicas) == 5
    assert sorted(acked) == list(range(N))
    assert query("SELECT count(*), count(DISTINCT external_id) FROM signals") == [(N, N)]
    assert query("SELECT count(*) FROM signals WHERE enriched_at IS NULL") == [(0,)]
    assert query("SELECT kind, status, count(*) FROM outbox GROUP BY 1, 2") == [
        ("alert", "sent", N)
    ]
    # Enriched once: each customer's profile counts each of its signals once.
    assert query("SELECT sum(signal_count) FROM customers") == [(N,)]
    assert query("SELECT sum(n) FROM daily_rollup WHERE topic = ''") == [(N,)]
    outbox_ids = [m["metadata"]["event_payload"]["outbox_id"] for m in fake_slack.messages["C0001"]]
    assert len(outbox_ids) == len(set(outbox_ids)) == N  # each alert exactly once
    assert fake_slack.violations == []
    orphans = [pid for r in replicas for pid in r.orphans]
    for _ in range(100):
        if not any(alive(pid) for pid in orphans):
            break
        await asyncio.sleep(0.05)
    assert [pid for pid in orphans if alive(pid)] == []

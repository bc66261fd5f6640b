"""`[retention] signals_days` at a fixed clock, on both engines: signals older than the
window go with their owed messages and their orphaned profiles, newer ones and their owners
stay, and the rollup equals a recomputation from what remains."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cxbot.config import RetentionConfig
from cxbot.listener.housekeeping import prune_signals_once
from cxbot.store.rollup import rebuild_rollup
from cxbot.store.writer import Store
from tests.kit.postgres import Engine
from tests.kit.support import WEB_SECRET, MakeSettings, serving
from tests.privacy.test_erase import rollup_now, rows

pytestmark = pytest.mark.usefixtures("blockbuster")

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def signal(n: int, days_ago: int, email: str) -> dict[str, Any]:
    return {"id": f"s{n}", "kind": "review", "rating": 1, "text": f"Parcel {n} is late",
            "created_at": (NOW - timedelta(days=days_ago)).isoformat(),
            "author": {"email": email}}  # fmt: skip


SIGNALS = [
    signal(1, 400, "old.only@example.com"),
    signal(2, 100, "old.only@example.com"),
    signal(3, 95, "both@example.com"),
    signal(4, 5, "both@example.com"),
    signal(5, 1, "new.only@example.com"),
]


async def test_signals_past_their_days_go_and_the_rollup_stays_exact(
    engine: Engine, make_settings: MakeSettings
) -> None:
    settings = make_settings("", engine.env() | {"CXBOT_WEB_SECRET": WEB_SECRET})
    async with serving(settings) as server:
        assert (await server.post("/webhooks/web", SIGNALS, sign=True))[0] == 200

        async def enriched() -> bool:
            found = await asyncio.to_thread(
                rows, engine, "SELECT count(*) FROM signals WHERE enriched_at IS NULL"
            )
            return found == [(0,)]

        for _ in range(200):
            if await enriched():
                break
            await asyncio.sleep(0.05)
    store = Store(engine.writer())
    await asyncio.to_thread(store.open)
    try:
        config = RetentionConfig(signals_days=90)
        deleted = await prune_signals_once(store, config, NOW, step=2)  # several steps
        assert deleted == 3
        assert await prune_signals_once(store, config, NOW) == 0  # idempotent
        assert await prune_signals_once(store, RetentionConfig(), NOW) == 0  # 0 = keep
    finally:
        await asyncio.to_thread(store.close)

    def check() -> None:
        assert rows(engine, "SELECT external_id FROM signals ORDER BY external_id") == [
            ("s4",),
            ("s5",),
        ]
        emails = rows(engine, "SELECT email FROM customers ORDER BY email")
        assert emails == [("both@example.com",), ("new.only@example.com",)]
        before = rollup_now(engine)
        rebuild_rollup(engine.connect())
        assert rollup_now(engine) == before

    await asyncio.to_thread(check)


async def test_db_vacuum_gives_space_back(engine: Engine, make_settings: MakeSettings) -> None:
    from tests.privacy.test_erase import cli

    settings = make_settings("", engine.env() | {"CXBOT_WEB_SECRET": WEB_SECRET})
    config = settings.db_path.parent / "cxbot.toml"
    big = [signal(n, 1, "p1@example.com") | {"text": f"{n} " + "x" * 3000} for n in range(150)]
    async with serving(settings) as server:
        assert (await server.post("/webhooks/web", big, sign=True))[0] == 200
    done = await asyncio.to_thread(
        cli, config, engine, "customer", "erase", "p1@example.com", "--yes"
    )
    assert done.returncode == 0, done.stderr
    vacuum = await asyncio.to_thread(cli, config, engine, "db", "vacuum")
    assert vacuum.returncode == 0, vacuum.stderr
    if engine.url is not None:
        assert "autovacuum" in vacuum.stdout
        return
    before, after = (int(w) for w in vacuum.stdout.split() if w.isdigit())
    assert after < before, vacuum.stdout  # the erased 450 kB are given back

"""`/cx sources` (here through `cxbot ask sources`, the same answer): every configured source,
webhook or polled, what arrived in the last 7 days, and a poll source's last run and error —
after a real `serve` polled a fake App Store Connect API and failed to reach a dead one."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from cxbot.cx.sources import every
from tests.kit.fakereviews import FakeAppStoreConnect, new_p8_key
from tests.kit.postgres import Engine
from tests.kit.support import WEB_SECRET, MakeSettings, serving
from tests.poll.conftest import asc_toml, five_reviews, until

pytestmark = pytest.mark.usefixtures("blockbuster")


def ask(config: Path, env: dict[str, str]) -> str:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("CXBOT", "SLACK", "DATABASE"))}
    done = subprocess.run(
        [sys.executable, "-m", "cxbot", "ask", "sources"],
        env={**keep, **env, "CXBOT_CONFIG": str(config)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_sources_lists_each_source_with_its_poll_state(
    engine: Engine,
    make_settings: MakeSettings,
    asc: FakeAppStoreConnect,
    p8_key: tuple[str, ec.EllipticCurvePublicKey],
    tmp_path: Path,
) -> None:
    asc.reviews = five_reviews()
    # `play` signs with a key the fake API does not know: every run of it is refused (401).
    env = {**engine.env(), "ASC_KEY": p8_key[0], "OTHER_KEY": new_p8_key()[0],
           "CXBOT_WEB_SECRET": WEB_SECRET}  # fmt: skip
    bad = asc_toml(asc, "play", "1h").replace('"ASC_KEY"', '"OTHER_KEY"')
    settings = make_settings(asc_toml(asc, interval="1h") + bad, env)

    def polled() -> bool:
        found = engine.connect().execute("SELECT count(*) FROM poll_cursors").fetchone()
        return bool(found[0] == 2)

    async with serving(settings) as server:
        await until(lambda: asyncio.to_thread(polled))
        body = {"id": "w1", "kind": "message", "text": "Where is my parcel?"}
        assert (await server.post("/webhooks/web", [body], sign=True))[0] == 200
    shown = await asyncio.to_thread(ask, tmp_path / "cxbot.toml", env)
    lines = {line.split()[1]: line for line in shown.splitlines() if line.startswith("• ")}
    assert set(lines) == {"ios", "open", "play", "web"}  # `open`, `web`: the tests' base config
    # The fake's five reviews are dated 16-20 Nov 2026, before the last 7 days of today.
    assert "(app_store, polled every 1h) — 0 in 7d, newest 20 Nov" in lines["ios"]
    assert "ok, last run" in lines["ios"]
    assert "(app_store, polled every 1h) — 0 in 7d" in lines["play"]
    assert "⚠️ failing" in lines["play"] and "newest" not in lines["play"]
    assert "(generic, webhook) — 1 in 7d, newest" in lines["web"] and "last run" not in lines["web"]
    assert "1 poll source(s) failing" in shown


def test_intervals_read_as_written() -> None:
    assert [every(s) for s in (1, 90, 900, 3600, 5400, 86400)] == [
        "1s", "90s", "15m", "1h", "90m", "1d",
    ]  # fmt: skip

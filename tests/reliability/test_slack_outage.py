"""Slack outage: 500s, then `ratelimited` with Retry-After, then dropped connections, then
recovery. Every owed alert arrives exactly once, in order per channel (on both engines)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiohttp
import pytest

from cxbot.config import Settings
from tests.kit.fakeslack import FakeSlack
from tests.kit.postgres import Engine
from tests.kit.support import Server, settings_from, slack_env, start_server

# The app runs in-process: a blocking call on its event loop fails the test (tests/kit/blocking.py).
pytestmark = pytest.mark.usefixtures("blockbuster")

CONFIG = """
[database]
path = "{db}"
[slack]
pace_seconds = 0.05
[sources.web]
type = "generic"
secret_env = "CXBOT_WEB_SECRET"
[[alerts]]
name = "reviews"
channel = "#cx-alerts"
kinds = ["review"]
max_rating = 2
max_per_window = 100
[[alerts]]
name = "tickets"
channel = "#cx-weekly"
kinds = ["ticket"]
keywords = ["refund"]
max_per_window = 100
"""


def _states(settings: Settings) -> list[tuple[str, int]]:
    url = settings.file.database.url
    sql = "SELECT status, count(*) FROM outbox GROUP BY 1"
    if url is not None:  # the test's own check, with the driver directly
        import psycopg

        with psycopg.connect(url) as pg:
            return [(str(a), int(b)) for a, b in pg.execute(sql).fetchall()]
    conn = sqlite3.connect(settings.db_path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def test_outage_then_recovery(tmp_path: Path, fake_slack: FakeSlack, engine: Engine) -> None:
    cfg = tmp_path / "cxbot.toml"
    cfg.write_text(CONFIG.format(db=tmp_path / "o.db"))
    settings = settings_from(cfg, {**slack_env(fake_slack), **engine.env()})
    fake_slack.fail_next(1, "500", method="chat.postMessage")
    fake_slack.fail_next(1, "ratelimited", method="chat.postMessage")
    fake_slack.fail_next(1, "drop", method="chat.postMessage")
    runner, url, app = await start_server(settings)
    try:
        async with aiohttp.ClientSession() as session:
            server = Server(url, session, settings, app)
            for n in range(4):
                review = {"id": f"r{n}", "kind": "review", "rating": 1, "text": f"review {n}"}
                ticket = {"id": f"t{n}", "kind": "ticket", "text": f"ticket {n}: refund"}
                assert (await server.post("/webhooks/web", [review, ticket], sign=True))[0] == 200
            await fake_slack.wait_for(
                lambda: (
                    len(fake_slack.messages["C0001"]) == 4
                    and len(fake_slack.messages["C0002"]) == 4
                ),
                timeout=40,
            )
            for _ in range(100):  # the `sent` marks commit just after Slack answers
                states = _states(settings)
                if states == [("sent", 8)]:
                    break
                await asyncio.sleep(0.05)
            assert states == [("sent", 8)]
    finally:
        await runner.cleanup()
    reviews = [m["text"] for m in fake_slack.messages["C0001"]]
    tickets = [m["text"] for m in fake_slack.messages["C0002"]]
    assert [t.rsplit(" ", 1)[-1] for t in reviews] == ["0", "1", "2", "3"]
    assert [t.split(": ")[-2].rsplit(" ", 1)[-1] for t in tickets] == ["0", "1", "2", "3"]
    failures = sorted(c.failure for c in fake_slack.calls if c.failure)
    assert failures == ["500", "drop", "ratelimited"]
    assert fake_slack.violations == []

"""Crash mid-load: SIGKILL the server at random moments while signed webhooks (and provider
retries) keep coming. Every delivery that got a 200 must be stored once, enriched, and have its
alert delivered once to the fake Slack server."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

from tests.kit.fakeslack import FakeSlack
from tests.kit.support import WEB_SECRET, free_port, sign_generic

N = 200
HAS_PROC = Path("/proc/self/task").is_dir()  # Linux: child processes can be listed
CONFIG = """
[database]
path = "{db}"
[slack]
pace_seconds = 0
[sources.web]
type = "generic"
secret_env = "CXBOT_WEB_SECRET"
[[alerts]]
name = "bad"
channel = "#cx-alerts"
max_rating = 2
max_per_window = 1000
"""


class Process:
    """`cxbot serve` as a child process that the test can kill -9 and start again."""

    def __init__(self, tmp: Path, fake: FakeSlack) -> None:
        self.port = free_port()
        cfg = tmp / "cxbot.toml"
        cfg.write_text(CONFIG.format(db=tmp / "crash.db"))
        self.db = tmp / "crash.db"
        self.log = (tmp / "server.log").open("ab")
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("CXBOT", "SLACK"))},
            "CXBOT_CONFIG": str(cfg),
            "CXBOT_WEB_SECRET": WEB_SECRET,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "s",
            "SLACK_API_URL": fake.base_url,
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.kills = 0
        self.orphans: list[int] = []  # children of killed servers (the enrichment process)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spawn(self) -> None:
        cmd = [
            sys.executable,
            "-m",
            "cxbot",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=self.log, stderr=self.log)

    async def start(self, session: aiohttp.ClientSession) -> None:
        self.spawn()
        for _ in range(300):
            try:
                async with session.get(self.url + "/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
        raise AssertionError("server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.orphans += children(self.proc.pid)
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
        self.log.close()


def children(pid: int) -> list[int]:
    """Children of every thread of `pid` (the scorer is started from a helper thread)."""
    found: list[int] = []
    for path in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(c) for c in path.read_text().split()]
        except OSError:  # the thread ended meanwhile
            continue
    return found


def alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def body(i: int) -> bytes:
    return json.dumps(
        {
            "id": f"d-{i}",
            "kind": "review",
            "rating": 1,
            "text": f"Delivery {i} was late, refund please",
            "author": {"email": f"user{i % 13}@example.com"},
        }
    ).encode()


async def deliver(
    session: aiohttp.ClientSession, server: Process, i: int, acked: dict[int, int]
) -> None:
    """Post until answered 200, as providers retry; record how many 200s it got."""
    raw = body(i)
    headers = {"Content-Type": "application/json", "X-Cxbot-Signature": sign_generic(raw)}
    for _ in range(2 if i % 7 == 0 else 1):  # every 7th is retried after success, as providers do
        while True:
            try:
                async with session.post(
                    server.url + "/webhooks/web",
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


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def test_sigkill_mid_load_loses_and_duplicates_nothing(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    rng = random.Random(8)
    server = Process(tmp_path, fake_slack)
    acked: dict[int, int] = {}
    async with aiohttp.ClientSession() as session:
        await server.start(session)
        try:
            sem = asyncio.Semaphore(6)

            async def one(i: int) -> None:
                async with sem:
                    await deliver(session, server, i, acked)

            load = asyncio.gather(*(one(i) for i in range(N)))
            # Kill at random points of the load (some mid-request, mid-commit or mid-post).
            marks = sorted(rng.sample(range(N // 10, N - N // 10), 4))
            for mark in marks:
                while len(acked) < mark and not load.done():  # noqa: ASYNC110 - polls the load's progress
                    await asyncio.sleep(0.005)
                await asyncio.sleep(rng.uniform(0, 0.05))
                server.kill()  # SIGKILL: no cleanup, no drain
                await server.start(session)
            await load
            # Let the restarted process finish enrichment and alert delivery.
            for _ in range(400):
                sent = query(server.db, "SELECT count(*) FROM outbox WHERE status = 'sent'")[0][0]
                if sent >= N:
                    break
                await asyncio.sleep(0.05)
        finally:
            server.stop()

    assert server.kills == 4
    assert sorted(acked) == list(range(N))
    assert query(server.db, "SELECT count(*), count(DISTINCT external_id) FROM signals") == [(N, N)]
    assert query(server.db, "SELECT count(*) FROM signals WHERE enriched_at IS NULL") == [(0,)]
    assert query(server.db, "SELECT kind, status, count(*) FROM outbox GROUP BY 1, 2") == [
        ("alert", "sent", N)
    ]
    posted = [m for m in fake_slack.messages["C0001"]]
    outbox_ids = [m["metadata"]["event_payload"]["outbox_id"] for m in posted]
    assert len(outbox_ids) == len(set(outbox_ids)) == N  # each alert exactly once
    assert fake_slack.violations == []
    # The killed servers' enrichment processes noticed and exited: no orphan keeps its memory.
    if HAS_PROC:
        assert len(server.orphans) >= server.kills
        for _ in range(100):
            if not any(alive(pid) for pid in server.orphans):
                break
            await asyncio.sleep(0.05)
        assert [pid for pid in server.orphans if alive(pid)] == []

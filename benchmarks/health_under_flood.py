"""`/healthz` latency while a flood of invalid large batches is being refused (issue 14).

    python benchmarks/health_under_flood.py [--seconds 8] [--parallel 4] [--runs 3]

`cxbot serve` (a subprocess, SQLite in a temporary directory, one unsigned generic source).
Each run measures the health check first on the idle server (the reference), then while
--parallel clients post, back to back, batches of 1,000 items that validation refuses
(0.85 MB each: JSON parsed whole, every item rejected, nothing stored) and a probe asks
`/healthz` every 10 ms. Prints p50/p90/p99/max per run and the median over runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from ingest import free_port, wait_up  # this directory's ingest.py

CONFIG = """
[database]
path = "{db}"
[server]
max_uploads = 256
[sources.open]
type = "generic"
verify = false
"""


def invalid_batch(n: int) -> bytes:
    items = [{"id": f"f{n}-{i}", "kind": "nope", "text": "x" * 800} for i in range(1000)]
    return json.dumps(items).encode()


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


async def health(session: aiohttp.ClientSession, url: str) -> float:
    started = time.perf_counter()
    async with session.get(url + "/healthz") as r:
        await r.read()
        assert r.status == 200, r.status
    return time.perf_counter() - started


def one_run(seconds: float, parallel: int) -> tuple[list[float], list[float], int]:
    tmp = Path(tempfile.mkdtemp(prefix="cxbot-flood-"))
    config = tmp / "cxbot.toml"
    config.write_text(CONFIG.format(db=tmp / "cxbot.db"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CXBOT", "SLACK"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cxbot", "serve", "--config", str(config), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        return asyncio.run(measure(f"http://127.0.0.1:{port}", seconds, parallel))
    finally:
        proc.terminate()
        proc.wait(30)


async def measure(url: str, seconds: float, parallel: int) -> tuple[list[float], list[float], int]:
    bodies = [invalid_batch(n) for n in range(20)]
    idle: list[float] = []
    flood: list[float] = []
    refused = 0
    await wait_up(url)
    # A fresh connection per probe, as an orchestrator's health check makes.
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(200):
            idle.append(await health(session, url))
            await asyncio.sleep(0.01)
        end = time.monotonic() + seconds

        async def poster(k: int) -> None:
            nonlocal refused
            i = k
            while time.monotonic() < end:
                async with session.post(
                    url + "/webhooks/open",
                    data=bodies[i % len(bodies)],
                    headers={"Content-Type": "application/json"},
                ) as r:
                    await r.read()
                    refused += r.status == 400
                i += parallel

        async def probe() -> None:
            while time.monotonic() < end:
                flood.append(await health(session, url))
                await asyncio.sleep(0.01)

        await asyncio.gather(probe(), *(poster(k) for k in range(parallel)))
    return idle, flood, refused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    p99s: list[float] = []
    for run in range(1, args.runs + 1):
        idle, flood, refused = one_run(args.seconds, args.parallel)
        p99s.append(quantile(flood, 0.99))
        print(
            f"run {run}: idle p50 {quantile(idle, 0.5):.1f} p99 {quantile(idle, 0.99):.1f} ms |"
            f" flood ({refused} batches refused) n={len(flood)} p50 {quantile(flood, 0.5):.1f}"
            f" p90 {quantile(flood, 0.9):.1f} p99 {quantile(flood, 0.99):.1f}"
            f" max {quantile(flood, 1.0):.1f} ms"
        )
    print(f"median of the runs' health p99 under the flood: {statistics.median(p99s):.1f} ms")


if __name__ == "__main__":
    main()

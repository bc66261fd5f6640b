"""Durable webhook throughput: `cxbot serve` against bare aiohttp answering the same requests.

Both servers run as subprocesses on loopback; one client process drives each in turn with 1, 32
and 128 concurrent connections for a fixed time and prints requests/s, p50/p99 latency and the
ratio cxbot / bare. Every cxbot request is a distinct signed generic signal, so each one walks the
full durable path: signature, validation, raw event row, dedup, signal row, group commit (fsync).

    python benchmarks/ingest.py [--seconds 5] [--clients 1,32,128]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

SECRET = "bench-secret"
BARE_SERVER = r"""
import json, sys
from aiohttp import web
async def handle(request):
    body = await request.read()
    json.loads(body)
    return web.json_response({"accepted": 1, "duplicates": 0, "ids": [1]})
app = web.Application()
app.router.add_post("/webhooks/{source}", handle)
app.router.add_get("/healthz", lambda r: web.json_response({"ok": True}))
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def body_for(n: int, run: str) -> bytes:
    return json.dumps(
        {
            "id": f"{run}-{n}",
            "kind": "review",
            "rating": 1 + n % 5,
            "text": f"Order {n} arrived late and the box was damaged, I want a refund",
            "author": {"name": "Bench", "email": f"user{n % 5000}@example.com"},
            "created_at": "2026-11-20T10:00:00Z",
        }
    ).encode()


async def wait_up(url: str) -> None:
    async with aiohttp.ClientSession() as s:
        for _ in range(300):
            try:
                async with s.get(url + "/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


async def drive(url: str, clients: int, seconds: float, run: str) -> tuple[int, list[float], int]:
    counter = itertools.count()
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=clients)

    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                raw = body_for(next(counter), run)
                sig = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
                t0 = time.perf_counter()
                async with session.post(
                    url + "/webhooks/web",
                    data=raw,
                    headers={"Content-Type": "application/json", "X-Cxbot-Signature": sig},
                ) as resp:
                    await resp.read()
                    if resp.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(worker() for _ in range(clients)))
    return len(latencies), latencies, errors


def start(cmd: list[str], env: dict[str, str], cwd: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def measure(
    name: str, cmd: list[str], env: dict[str, str], cwd: str, clients: list[int], seconds: float
) -> dict[int, tuple[float, float, float, int]]:
    port = int(cmd[-1])
    proc = start(cmd, env, cwd)
    url = f"http://127.0.0.1:{port}"
    results = {}
    try:
        await wait_up(url)
        await drive(url, 8, 1.0, f"warm-{name}")
        for c in clients:
            n, lat, errors = await drive(url, c, seconds, f"{name}-{c}-{time.time_ns()}")
            lat.sort()
            results[c] = (
                n / seconds,
                statistics.median(lat) * 1000,
                lat[int(len(lat) * 0.99) - 1] * 1000,
                errors,
            )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", default="1,32,128")
    parser.add_argument("--synchronous", default="full", choices=["full", "normal"])
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "cxbot.toml"
        cfg.write_text(
            f'[database]\npath = "{tmp}/bench.db"\nsynchronous = "{args.synchronous}"\n'
            '[sources.web]\ntype = "generic"\nsecret_env = "BENCH_SECRET"\n'
        )
        env = {**os.environ, "BENCH_SECRET": SECRET, "CXBOT_CONFIG": str(cfg)}
        env.pop("SLACK_BOT_TOKEN", None)
        bare = await measure(
            "bare",
            [sys.executable, "-c", BARE_SERVER, str(free_port())],
            env,
            tmp,
            clients,
            args.seconds,
        )
        cx = await measure(
            "cxbot",
            [
                sys.executable,
                "-m",
                "cxbot",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(free_port()),
            ],
            env,
            tmp,
            clients,
            args.seconds,
        )
    print(
        f"# {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"synchronous={args.synchronous}, {args.seconds:g}s per point"
    )
    print(
        f"{'clients':>7} | {'bare req/s':>10} {'p50 ms':>7} {'p99 ms':>7} | {'cxbot req/s':>11} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} | {'ratio':>5}"
    )
    for c in clients:
        b, x = bare[c], cx[c]
        print(
            f"{c:>7} | {b[0]:>10.0f} {b[1]:>7.2f} {b[2]:>7.2f} | {x[0]:>11.0f} {x[1]:>7.2f} {x[2]:>7.2f} {x[3]:>6} | {x[0] / b[0]:>5.0%}"
        )


if __name__ == "__main__":
    asyncio.run(main())

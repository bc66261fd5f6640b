"""Durable webhook throughput: `cxbot serve` against references answering the same requests.

Three servers run in turn as subprocesses on loopback, driven by one client process:

- bare: aiohttp reading the body and parsing the JSON (the ceiling on this machine);
- minimal: bare plus the HMAC check and a minimal group-commit writer storing each body in a
  one-index table with fsync: the cost of durability alone, the design cxbot's writer follows;
- cxbot: `cxbot serve`, every request a distinct signed generic signal, so each walks the full
  path: signature, validation, raw event row, dedup, signal row with its indexes, full-text
  index and rollup, group commit (fsync); enrichment runs alongside, as in production.

Closed loop (1, 32, 128 connections each sending as fast as answered) gives requests/s, p50/p99
and the ratio to bare. In a closed loop latency is concurrency / throughput (Little's law), so
latency at 128 connections is also measured open loop: a fixed offered rate spread over 128
connections, each request timed from when it was due (a late start counts as waiting). After
each cxbot point, the enrichment backlog left and the time to clear it are reported, and the
next point starts only once it is clear.

With `--database-url postgresql://…` (an empty database: the runs add rows), cxbot is also
measured on PostgreSQL, with one replica and with two replicas on the same database, the
client spreading requests over them in turn as a load balancer would.

    python benchmarks/ingest.py [--seconds 5] [--clients 1,32,128] [--rates 200,500]
                                [--database-url postgresql://…]
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
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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

MINIMAL_SERVER = r"""
import asyncio, hashlib, hmac, json, queue, sqlite3, sys, threading
from aiohttp import web
SECRET = sys.argv[2].encode()
jobs = queue.SimpleQueue()
def writer():
    db = sqlite3.connect(sys.argv[3], isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL"); db.execute("PRAGMA synchronous = FULL")
    db.execute("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, key TEXT UNIQUE, body TEXT)")
    while True:
        batch = [jobs.get()]
        while True:
            try: batch.append(jobs.get_nowait())
            except queue.Empty: break
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT OR IGNORE INTO events (key, body) VALUES (?, ?)", [(k, b) for k, b, _, _ in batch])
        db.execute("COMMIT")
        for _, _, loop, fut in batch:
            loop.call_soon_threadsafe(fut.set_result, None)
threading.Thread(target=writer, daemon=True).start()
async def handle(request):
    body = await request.read()
    sig = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(sig, request.headers.get("X-Cxbot-Signature", "")):
        raise web.HTTPUnauthorized()
    data = json.loads(body)
    loop = asyncio.get_running_loop(); fut = loop.create_future()
    jobs.put((data["id"], body.decode(), loop, fut))
    await fut
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


async def post(session: aiohttp.ClientSession, urls: list[str], n: int, run: str) -> bool:
    url = urls[n % len(urls)]  # several replicas: each in turn, as a load balancer would
    raw = body_for(n, run)
    sig = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    async with session.post(
        url + "/webhooks/web",
        data=raw,
        headers={"Content-Type": "application/json", "X-Cxbot-Signature": sig},
    ) as resp:
        await resp.read()
        return resp.status == 200


async def drive(
    url: list[str], clients: int, seconds: float, run: str
) -> tuple[int, list[float], int]:
    """Closed loop: each connection sends its next request when the last is answered."""
    counter = itertools.count()
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=clients)

    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                if not await post(session, url, next(counter), run):
                    errors += 1
                latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(worker() for _ in range(clients)))
    return len(latencies), latencies, errors


async def drive_open(
    url: list[str], clients: int, rate: float, seconds: float, run: str
) -> tuple[int, list[float], int]:
    """Open loop: request k is due at start + k / rate, sent by whichever of `clients`
    connections is free; its latency runs from when it was due, so queueing counts."""
    total = int(rate * seconds)
    counter = itertools.count()
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter() + 0.05

        async def worker() -> None:
            nonlocal errors
            while (k := next(counter)) < total:
                due = start + k / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                if not await post(session, url, k, run):
                    errors += 1
                latencies.append(time.perf_counter() - due)

        await asyncio.gather(*(worker() for _ in range(clients)))
    return len(latencies), latencies, errors


def summary(
    n: int, seconds: float, lat: list[float], errors: int
) -> tuple[float, float, float, int]:
    lat.sort()
    return n / seconds, statistics.median(lat) * 1000, lat[int(len(lat) * 0.99) - 1] * 1000, errors


def start(cmd: list[str], env: dict[str, str], cwd: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


Figures = dict[str, tuple[float, float, float, int]]  # point -> req/s, p50 ms, p99 ms, errors
Backlogs = dict[str, tuple[int, float]]  # point -> signals pending when it ended, seconds to 0


async def measure(
    name: str,
    cmd: list[str],
    env: dict[str, str],
    cwd: str,
    clients: list[int],
    rates: list[float],
    seconds: float,
    db: Callable[[], int] | None = None,
    replicas: int = 1,
) -> tuple[Figures, Backlogs]:
    """Every point in turn; with `db` (cxbot: its count of unenriched signals), each starts
    only once enrichment has caught up with the previous one, so no point pays for another's
    backlog. `replicas` > 1 starts the command that many times, each on its own port."""
    procs, urls = [], []
    for i in range(replicas):
        port = int(cmd[3] if cmd[1] == "-c" else cmd[-1]) if i == 0 else free_port()
        run_cmd = cmd if i == 0 else [*cmd[:-1], str(port)]
        procs.append(start(run_cmd, env, cwd))
        urls.append(f"http://127.0.0.1:{port}")
    results: Figures = {}
    backlogs: Backlogs = {}
    points = [(f"closed {c}", c, None) for c in clients] + [
        (f"open {r:g}/s", 128, r) for r in rates
    ]
    try:
        for url in urls:
            await wait_up(url)
        await drive(urls, 8, 1.0, f"warm-{name}")
        if db is not None:
            await catch_up(db)
        for point, c, rate in points:
            run = f"{name}-{point}-{time.time_ns()}"
            if rate is None:
                n, lat, errors = await drive(urls, c, seconds, run)
            else:
                n, lat, errors = await drive_open(urls, c, rate, seconds, run)
            results[point] = summary(n, seconds, lat, errors)
            if db is not None:
                backlogs[point] = await catch_up(db)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=120)
    return results, backlogs


UNENRICHED = "SELECT count(*) FROM signals WHERE enriched_at IS NULL"


def sqlite_pending(db: Path) -> Callable[[], int]:
    def count() -> int:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return int(conn.execute(UNENRICHED).fetchone()[0])
        finally:
            conn.close()

    return count


def pg_pending(url: str) -> Callable[[], int]:
    def count() -> int:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            found = conn.execute(UNENRICHED).fetchone()
            return int(found[0]) if found else 0

    return count


async def catch_up(pending: Callable[[], int]) -> tuple[int, float]:
    """Signals not yet enriched now, and the seconds until there are none."""
    t0 = time.perf_counter()
    first = left = await asyncio.to_thread(pending)
    while left:
        await asyncio.sleep(0.05)
        left = await asyncio.to_thread(pending)
    return first, time.perf_counter() - t0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", default="1,32,128")
    parser.add_argument("--rates", default="200,500", help="open-loop rates at 128 connections")
    parser.add_argument("--synchronous", default="full", choices=["full", "normal"])
    parser.add_argument("--database-url", default=None, help="also measure PostgreSQL here")
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",") if c]
    rates = [float(r) for r in args.rates.split(",") if r]
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "cxbot.toml"
        db = Path(tmp) / "bench.db"
        cfg.write_text(
            f'[database]\npath = "{db}"\nsynchronous = "{args.synchronous}"\n'
            '[sources.web]\ntype = "generic"\nsecret_env = "BENCH_SECRET"\n'
        )
        env = {**os.environ, "BENCH_SECRET": SECRET, "CXBOT_CONFIG": str(cfg)}
        env.pop("SLACK_BOT_TOKEN", None)
        py = sys.executable
        bare, _ = await measure(
            "bare",
            [py, "-c", BARE_SERVER, str(free_port())],
            env,
            tmp,
            clients,
            rates,
            args.seconds,
        )
        minimal, _ = await measure(
            "minimal",
            [py, "-c", MINIMAL_SERVER, str(free_port()), SECRET, f"{tmp}/minimal.db"],
            env,
            tmp,
            clients,
            rates,
            args.seconds,
        )
        cx, backlogs = await measure(
            "cxbot",
            [py, "-m", "cxbot", "serve", "--host", "127.0.0.1", "--port", str(free_port())],
            env,
            tmp,
            clients,
            rates,
            args.seconds,
            sqlite_pending(db),
        )
        runs = {"bare": bare, "minimal": minimal, "cxbot": cx}
        lags = {"cxbot": backlogs}
        if args.database_url:
            pg_env = {**env, "DATABASE_URL": args.database_url}
            for replicas in (1, 2):
                name = f"pg x{replicas}"
                runs[name], lags[name] = await measure(
                    name,
                    [py, "-m", "cxbot", "serve", "--host", "127.0.0.1", "--port", str(free_port())],
                    pg_env,
                    tmp,
                    clients,
                    rates,
                    args.seconds,
                    pg_pending(args.database_url),
                    replicas=replicas,
                )
    print(
        f"# {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python"
        f" {platform.python_version()}, synchronous={args.synchronous}, {args.seconds:g}s per point"
    )
    head = " | ".join(f"{n + ' req/s':>13} {'p50':>6} {'p99':>6}" for n in runs)
    print(
        f"{'point':>12} | {head} | {'min/bare':>8} {'cx/bare':>7} {'errors':>6}"
        f" | {'unenriched':>10} {'caught up':>9}"
        + "".join(f" | {n + ' left':>11} {'lag':>6}" for n in lags if n != "cxbot")
    )
    for point in bare:
        cells = " | ".join(
            f"{r[point][0]:>13.0f} {r[point][1]:>6.1f} {r[point][2]:>6.1f}" for r in runs.values()
        )
        ratios = f"{minimal[point][0] / bare[point][0]:>8.0%} {cx[point][0] / bare[point][0]:>7.0%}"
        errors = sum(r[point][3] for r in runs.values())
        backlog, lag = backlogs[point]
        more = "".join(
            f" | {b[point][0]:>11} {b[point][1]:>5.1f}s" for n, b in lags.items() if n != "cxbot"
        )
        print(f"{point:>12} | {cells} | {ratios} {errors:>6} | {backlog:>10} {lag:>8.1f}s{more}")
    print(
        "unenriched: cxbot's signals stored but not yet enriched when the point ended;"
        " caught up: seconds until none were left"
    )


if __name__ == "__main__":
    asyncio.run(main())

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
                                [--database-url postgresql://…] [--client auto|wrk|python]
                                [--runs 3]

--client wrk (the default when `wrk` is installed; Debian's package) drives the closed-loop
points with `wrk -t1`, a C client that takes little CPU from the servers on a 2-core machine;
--client python uses aiohttp in this process. Open-loop points always use the Python client
(wrk keeps no schedule). --runs N repeats every server's points N times and prints medians.
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
import shutil
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


WRK_SCRIPT = r"""
-- Requests read from the file named after `--`: one "signature<TAB>body" line each, formatted
-- once in init so the run itself only hands out prepared strings.
local reqs, i = {}, 0
function init(args)
  for line in io.lines(args[1]) do
    local tab = line:find("\t", 1, true)
    reqs[#reqs + 1] = wrk.format("POST", "/webhooks/web",
      {["Content-Type"] = "application/json", ["X-Cxbot-Signature"] = line:sub(1, tab - 1)},
      line:sub(tab + 1))
  end
end
function request()
  i = i + 1
  return reqs[(i - 1) % #reqs + 1]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""
WRK_PER_SECOND = 16_000  # distinct requests prepared per second of a point: above bare aiohttp


async def drive_wrk(
    url: str, clients: int, seconds: float, run: str, tmp: str
) -> tuple[float, float, float, int]:
    """Closed loop with wrk (one thread: a C client that leaves the cores to the server).
    Every request is a distinct signed signal, as with the Python client; wrk reports its own
    percentiles. Returns (req/s, p50 ms, p99 ms, errors)."""
    script, data = Path(tmp) / "ingest.lua", Path(tmp) / f"{run}.tsv"
    script.write_text(WRK_SCRIPT)
    count = int(WRK_PER_SECOND * seconds)
    with data.open("w") as out:
        for n in range(count):
            raw = body_for(n, run)
            sig = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
            out.write(f"{sig}\t{raw.decode()}\n")
    proc = await asyncio.create_subprocess_exec(
        "wrk", "-t1", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "10s",
        "-s", str(script), url, "--", str(data),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out_bytes, err = await proc.communicate()
    data.unlink()
    line = next((x for x in out_bytes.decode().splitlines() if x.startswith('{"requests"')), None)
    if line is None:
        raise SystemExit(f"wrk gave no figures: {err.decode()[-300:]}")
    got = json.loads(line)
    if got["requests"] > count:
        print(f"warning: {run} sent {got['requests']} requests, {count} distinct: some repeated")
    rate = got["requests"] / (got["duration_us"] / 1e6)
    return rate, got["p50_us"] / 1000, got["p99_us"] / 1000, int(got["errors"])


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
    client: str = "python",
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
            if rate is None and client == "wrk" and len(urls) == 1:
                results[point] = await drive_wrk(urls[0], c, seconds, run, cwd)
            elif rate is None:
                n, lat, errors = await drive(urls, c, seconds, run)
                results[point] = summary(n, seconds, lat, errors)
            else:  # open loop: wrk keeps no schedule, so the Python client drives it
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


def median_figures(rounds: list[Figures]) -> Figures:
    """Per point, the median of each figure over the rounds (errors added up)."""
    return {
        point: (
            statistics.median(r[point][0] for r in rounds),
            statistics.median(r[point][1] for r in rounds),
            statistics.median(r[point][2] for r in rounds),
            sum(r[point][3] for r in rounds),
        )
        for point in rounds[0]
    }


async def one_round(
    args: argparse.Namespace, tmp: str, clients: list[int], rates: list[float]
) -> tuple[dict[str, Figures], dict[str, Backlogs]]:
    """bare, minimal and cxbot (and PostgreSQL with --database-url) in turn, on a fresh file."""
    cfg = Path(tmp) / "cxbot.toml"
    db = Path(tmp) / f"bench-{time.time_ns()}.db"
    cfg.write_text(
        f'[database]\npath = "{db}"\nsynchronous = "{args.synchronous}"\n'
        '[sources.web]\ntype = "generic"\nsecret_env = "BENCH_SECRET"\n'
    )
    env = {**os.environ, "BENCH_SECRET": SECRET, "CXBOT_CONFIG": str(cfg)}
    env.pop("SLACK_BOT_TOKEN", None)
    py = sys.executable
    common = {"cwd": tmp, "clients": clients, "rates": rates, "seconds": args.seconds}
    runs: dict[str, Figures] = {}
    lags: dict[str, Backlogs] = {}
    runs["bare"], _ = await measure(
        "bare", [py, "-c", BARE_SERVER, str(free_port())], env, client=args.client, **common
    )
    minimal = [py, "-c", MINIMAL_SERVER, str(free_port()), SECRET, f"{db}.minimal"]
    runs["minimal"], _ = await measure("minimal", minimal, env, client=args.client, **common)
    serve = [py, "-m", "cxbot", "serve", "--host", "127.0.0.1", "--port", str(free_port())]
    runs["cxbot"], lags["cxbot"] = await measure(
        "cxbot", serve, env, db=sqlite_pending(db), client=args.client, **common
    )
    if args.database_url:
        pg_env = {**env, "DATABASE_URL": args.database_url}
        for replicas in (1, 2):
            name = f"pg x{replicas}"
            serve = [py, "-m", "cxbot", "serve", "--host", "127.0.0.1", "--port", str(free_port())]
            runs[name], lags[name] = await measure(
                name,
                serve,
                pg_env,
                db=pg_pending(args.database_url),
                replicas=replicas,
                client=args.client,
                **common,
            )
    return runs, lags


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", default="1,32,128")
    parser.add_argument("--rates", default="200,500", help="open-loop rates at 128 connections")
    parser.add_argument("--synchronous", default="full", choices=["full", "normal"])
    parser.add_argument("--database-url", default=None, help="also measure PostgreSQL here")
    parser.add_argument(
        "--client",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="closed-loop load client (auto: wrk when installed)",
    )
    parser.add_argument("--runs", type=int, default=1, help="rounds; figures are their medians")
    args = parser.parse_args()
    if args.client == "auto":
        args.client = "wrk" if shutil.which("wrk") else "python"
    elif args.client == "wrk" and not shutil.which("wrk"):
        raise SystemExit("--client wrk: wrk is not installed (Debian: apt-get install wrk)")
    clients = [int(c) for c in args.clients.split(",") if c]
    rates = [float(r) for r in args.rates.split(",") if r]
    rounds: list[tuple[dict[str, Figures], dict[str, Backlogs]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            rounds.append(await one_round(args, tmp, clients, rates))
    runs = {name: median_figures([r[name] for r, _ in rounds]) for name in rounds[0][0]}
    lags = rounds[-1][1]  # the last round's backlog (not a figure that medians well)
    bare, minimal, cx, backlogs = runs["bare"], runs["minimal"], runs["cxbot"], lags["cxbot"]
    print(
        f"# {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python"
        f" {platform.python_version()}, synchronous={args.synchronous}, {args.seconds:g}s per"
        f" point, closed loop by {args.client}, median of {args.runs} round(s)"
    )
    head = " | ".join(f"{n + ' req/s':>13} {'p50':>6} {'p99':>6}" for n in runs)
    print(
        f"{'point':>12} | {head} | {'min/bare':>8} {'cx/bare':>7} {'cx/min':>6} {'errors':>6}"
        f" | {'unenriched':>10} {'caught up':>9}"
        + "".join(f" | {n + ' left':>11} {'lag':>6}" for n in lags if n != "cxbot")
    )
    for point in bare:
        cells = " | ".join(
            f"{r[point][0]:>13.0f} {r[point][1]:>6.1f} {r[point][2]:>6.1f}" for r in runs.values()
        )
        ratios = (
            f"{minimal[point][0] / bare[point][0]:>8.0%} {cx[point][0] / bare[point][0]:>7.0%}"
            f" {cx[point][0] / minimal[point][0]:>6.0%}"
        )
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

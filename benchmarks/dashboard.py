"""The dashboard on a big database: `GET /api/dashboard` p50/p95 beside `/cx summary` timed in
the same run, and the page's first paint in headless Chromium.

It builds (or reuses, `--keep`) the database benchmarks/queries.py builds — its generator, the
same N signals over two years — and adds open and closed alerts on negative signals so the
"needs attention" feed and the closed loop have rows to read. Then, for each query:
- `dashboard_data` called directly on a read-only connection (what the reader thread runs),
  beside `ask(db, "summary QUERY")`, the reference: the same rollup reads /cx makes;
- the JSON API end to end over HTTP through the real app on loopback (auth, the reader
  thread, JSON encoding), signed in with a session cookie;
- first paint of /dashboard in Chromium (Playwright's performance timing), when it is there.

    python benchmarks/dashboard.py --rows 1000000 --runs 20 --dir /tmp/dashbench [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.queries import NOW, generate, percentile  # noqa: E402
from cxbot.config import load_settings  # noqa: E402
from cxbot.cx.ask import ask  # noqa: E402
from cxbot.dashboard.data import dashboard_data, parse_query  # noqa: E402
from cxbot.dashboard.links import personal_link  # noqa: E402
from cxbot.store.writer import connect  # noqa: E402

# Periods as date ranges: the generated data ends at queries.NOW, the server's clock is now.
QUERIES = [
    "2026-11-13..2026-11-19",
    "2026-10-21..2026-11-19",
    "2026-10-21..2026-11-19 source:appstore",
    "2026-10-21..2026-11-19 topic:billing",
    "2026-10-21..2026-11-19 lang:tr",
    "2025-11-20..2026-11-19",
]
ALERTS = 5_000
KEY = "benchmark-secret-key-0123456789abcdef"


def add_alerts(path: Path, n: int = ALERTS) -> None:
    """Alert rows on the newest negative signals; a third acknowledged, a sixth resolved."""
    db = connect(path)
    if db.execute("SELECT count(*) FROM outbox WHERE kind = 'alert'").fetchone()[0]:
        db.conn.close()
        return
    ids = [
        r[0]
        for r in db.execute(
            "SELECT id FROM signals WHERE sentiment_label = 'negative' ORDER BY id DESC LIMIT ?",
            [n],
        )
    ]
    with db.atomic():
        for i, sid in enumerate(ids):
            at = db.execute("SELECT created_at FROM signals WHERE id = ?", [sid]).fetchone()[0]
            db.execute(
                "INSERT INTO outbox (kind, dedup_key, channel, signal_id, rule, rules, status,"
                " next_attempt_at, created_at, sent_at, slack_channel, slack_ts)"
                " VALUES ('alert', ?, '#cx-alerts', ?, 'bad', '[\"bad\"]', 'sent', ?, ?, ?,"
                " 'C0001', ?)",
                [f"alert:{sid}", sid, at, at, at, f"{1_700_000_000 + i}.000100"],
            )
            if i % 3 == 0:
                status = "resolved" if i % 6 == 0 else "acknowledged"
                db.execute(
                    "UPDATE signals SET status = ?, assignee = ?, acknowledged_at = ?,"
                    " status_at = ? WHERE id = ?",
                    [status, f"U{i % 7}", at, at, sid],
                )
    db.conn.close()


def direct(path: Path, tz: ZoneInfo, runs: int) -> list[tuple[str, float, float, float, float]]:
    db = connect(path, readonly=True)
    out = []
    for q in QUERIES:
        board: list[float] = []
        ref: list[float] = []
        for r in range(runs + 2):
            now = NOW - timedelta(minutes=7 * r)
            began = time.perf_counter()
            dashboard_data(db, parse_query(q), now, tz)
            mid = time.perf_counter()
            ask(db, "summary " + q, now=now, tz=tz)
            end = time.perf_counter()
            if r >= 2:
                board.append((mid - began) * 1000)
                ref.append((end - mid) * 1000)
        out.append((q, statistics.median(board), percentile(board, 0.95),
                    statistics.median(ref), percentile(ref, 0.95)))  # fmt: skip
    db.conn.close()
    return out


async def over_http(
    path: Path, tz: ZoneInfo, runs: int, workdir: Path
) -> tuple[list[tuple[str, float, float]], float | None]:
    from aiohttp import web

    from cxbot.app import create_app

    config = workdir / "bench.toml"
    config.write_text(
        f'timezone = "{tz.key}"\n[database]\npath = "{path}"\n[enrich]\nworker = "thread"\n'
        "[retention]\nevents_days = 0\n"
    )
    settings = load_settings(config, {"CXBOT_SECRET_KEY": KEY})
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    link = personal_link(settings, None, datetime.now(UTC))
    assert link is not None
    token_path = link[link.index("/dashboard") :]
    results = []
    paint = None
    try:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            async with session.get(url + token_path, allow_redirects=False) as resp:
                assert resp.status == 303
            for q in QUERIES:
                times = []
                for r in range(runs + 2):
                    began = time.perf_counter()
                    async with session.get(url + "/api/dashboard", params={"q": q}) as resp:
                        assert resp.status == 200, await resp.text()
                        await resp.read()
                    if r >= 2:
                        times.append((time.perf_counter() - began) * 1000)
                results.append((q, statistics.median(times), percentile(times, 0.95)))
        paint = await asyncio.get_running_loop().run_in_executor(
            None, first_paint, url + token_path + "&q=" + QUERIES[1].replace(" ", "+")
        )
    finally:
        await runner.cleanup()
    return results, paint


def first_paint(link: str) -> float | None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path(chromium).exists():
        return None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium)
        page = browser.new_page()
        page.goto(link)  # signs in, then the page itself
        page.reload()  # a warm load, as a person refreshing
        entries = page.evaluate(
            "performance.getEntriesByType('paint').map(e => [e.name, e.startTime])"
        )
        browser.close()
    found = dict(entries)
    return found.get("first-contentful-paint") or found.get("first-paint")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/dashbench"))
    parser.add_argument("--tz", default="Europe/Istanbul")
    parser.add_argument("--keep", action="store_true", help="reuse an existing DB of that size")
    args = parser.parse_args()
    tz = ZoneInfo(args.tz)
    args.dir.mkdir(parents=True, exist_ok=True)
    path = args.dir / f"signals-{args.rows}.db"
    if not (args.keep and path.exists()):
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        began = time.perf_counter()
        generate(path, args.rows, tz)
        print(f"{args.rows:,} signals generated in {time.perf_counter() - began:,.0f} s")
    add_alerts(path)
    print(f"{args.rows:,} signals, {ALERTS:,} alerts; timezone {tz.key}; {args.runs} runs each")
    print(f"{'query':<42} {'dashboard p50/p95 ms':>22} {'/cx summary p50/p95 ms':>24}")
    for q, b50, b95, r50, r95 in direct(path, tz, args.runs):
        print(f"{q:<42} {b50:>10.1f} {b95:>10.1f}  {r50:>11.1f} {r95:>11.1f}", flush=True)
    http, paint = asyncio.run(over_http(path, tz, args.runs, args.dir))
    print(f"\n{'GET /api/dashboard?q=':<42} {'p50 ms':>10} {'p95 ms':>10}")
    for q, p50, p95 in http:
        print(f"{q:<42} {p50:>10.1f} {p95:>10.1f}", flush=True)
    shown = "n/a (no chromium)" if paint is None else f"{paint:.0f} ms"
    print(f"\nfirst paint of /dashboard?q={QUERIES[1]} (warm): {shown}")
    print(json.dumps({"rows": args.rows, "http_p95_max_ms": max(p for _, _, p in http)}))


if __name__ == "__main__":
    main()

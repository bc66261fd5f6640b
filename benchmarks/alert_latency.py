"""Webhook-to-Slack latency under steady load: `cxbot serve` (a subprocess) with a minimal Slack
Web API stand-in on loopback. Each webhook is a 1-star review that an alert rule routes to one of
several channels; latency is from sending the webhook to the stand-in receiving chat.postMessage.

    python benchmarks/alert_latency.py [--rate 20] [--seconds 20] [--channels 10] [--pace 1.0]
                                       [--database-url postgresql://… [--replicas 2]]
                                       [--mixed] [--blas-threads N]

--mixed: every other review is Persian or Turkish (in turn), so half the traffic goes through the
multilingual encoder; --blas-threads sets [enrich] blas_threads (0 = numpy's default, every
core) to compare the scorer's BLAS cap with none.

With Slack's pace of one message per second per channel, a steady rate must stay below the
number of channels; --pace 0 measures the pipeline alone.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from ingest import free_port, wait_up  # this directory's ingest.py

SECRET = "bench"

# Review-length complaints written for this benchmark (the rule matches the lane keyword).
MIXED_TEXTS = (
    "never arrived and nobody answers my emails",
    "سفارشم بعد از دو هفته هنوز نرسیده و هیچ‌کس جواب تماس‌هام رو نمیده، واقعاً ناامید شدم",
    "the box was crushed and the charger is missing",
    "Siparişim iki haftadır gelmedi, müşteri hizmetleri de telefonlara hiç cevap vermiyor",
    "refund still not processed after a month",
    "پول رو دو بار از حسابم کم کردید و هنوز برنگردوندید، این چه وضعشه",
    "app logs me out every time I open it",
    "Ürün kırık geldi, iade talebim de bir haftadır bekliyor, çok kötü bir deneyim",
)


class Slack:
    """Answers what the outbox calls and notes when each alert arrived."""

    def __init__(self, channels: int) -> None:
        self.names = {f"cx-{i}": f"C{i:04d}" for i in range(channels)}
        self.arrived: dict[str, float] = {}
        self.ts = 1.0

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            args = await request.json()
        else:
            args = dict(await request.post())
        if method == "conversations.list":
            chans = [{"id": cid, "name": name} for name, cid in self.names.items()]
            return web.json_response(
                {"ok": True, "channels": chans, "response_metadata": {"next_cursor": ""}}
            )
        if method == "chat.postMessage":
            found = re.search(r"bench-(\d+)", json.dumps(args))
            if found:
                self.arrived.setdefault(found.group(1), time.perf_counter())
            self.ts += 1
            return web.json_response(
                {"ok": True, "channel": args["channel"], "ts": f"{time.time():.6f}"}
            )
        return web.json_response({"ok": True})


def spawn(cmd: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, **kwargs)  # type: ignore[call-overload]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=8.0, help="webhooks per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--channels", type=int, default=10)
    parser.add_argument("--pace", type=float, default=1.0, help="slack.pace_seconds")
    parser.add_argument("--database-url", default=None, help="PostgreSQL instead of SQLite")
    parser.add_argument("--replicas", type=int, default=1, help="serve processes (PostgreSQL)")
    parser.add_argument("--mixed", action="store_true", help="half the reviews Persian/Turkish")
    parser.add_argument("--blas-threads", type=int, default=None, help="[enrich] blas_threads")
    args = parser.parse_args()

    slack = Slack(args.channels)
    app = web.Application()
    app.router.add_route("*", "/api/{method}", slack.api)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    slack_url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/"

    rules = "".join(
        f'[[alerts]]\nname = "r{i}"\nchannel = "#cx-{i}"\nkeywords = ["lane{i}"]\nmax_per_window = 100000\n'
        for i in range(args.channels)
    )
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "cxbot.toml"
        cfg.write_text(
            f'[database]\npath = "{tmp}/lat.db"\n[slack]\npace_seconds = {args.pace}\n'
            f'[sources.web]\ntype = "generic"\nsecret_env = "S"\n{rules}'
            + (
                ""
                if args.blas_threads is None
                else f"[enrich]\nblas_threads = {args.blas_threads}\n"
            )
        )
        ports = [free_port() for _ in range(args.replicas if args.database_url else 1)]
        env = {
            **os.environ,
            "CXBOT_CONFIG": str(cfg),
            "S": SECRET,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": "x",
            "SLACK_API_URL": slack_url,
            **({"DATABASE_URL": args.database_url} if args.database_url else {}),
        }
        procs = [
            spawn(
                [sys.executable, "-m", "cxbot", "serve", "--host", "127.0.0.1", "--port", str(p)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for p in ports
        ]
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        sent: dict[str, float] = {}
        try:
            for url in urls:
                await wait_up(url)
            async with aiohttp.ClientSession() as session:

                async def post(n: int) -> None:
                    raw = json.dumps(
                        {
                            "id": f"bench-{n}",
                            "kind": "review",
                            "rating": 1,
                            "text": f"bench-{n} lane{n % args.channels} "
                            + (
                                MIXED_TEXTS[n % len(MIXED_TEXTS)] if args.mixed else "never arrived"
                            ),
                        }
                    ).encode()
                    sig = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
                    sent[str(n)] = time.perf_counter()
                    async with session.post(
                        urls[n % len(urls)] + "/webhooks/web",  # replicas in turn
                        data=raw,
                        headers={"Content-Type": "application/json", "X-Cxbot-Signature": sig},
                    ) as resp:
                        assert resp.status == 200, await resp.text()

                # Warm-up: the enrichment process and the Slack client start on first use.
                for n in range(10):
                    await post(10**6 + n)
                while len(slack.arrived) < 10:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
                slack.arrived.clear()
                total = int(args.rate * args.seconds)
                start = time.perf_counter()
                tasks = []

                for n in range(total):  # open loop: a steady rate whatever the answers do
                    delay = start + n / args.rate - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    tasks.append(asyncio.create_task(post(n)))
                await asyncio.gather(*tasks)
                deadline = time.perf_counter() + 60
                while len(slack.arrived) < total and time.perf_counter() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                proc.wait(timeout=60)
            await runner.cleanup()
    lat = sorted((slack.arrived[k] - sent[k]) * 1000 for k in slack.arrived if k in sent)
    print(
        f"# {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{args.rate:g} webhooks/s for {args.seconds:g}s over {args.channels} channels, pace {args.pace:g}s,"
        f" {'PostgreSQL x' + str(len(procs)) if args.database_url else 'SQLite'}"
        f"{'; mixed en/fa/tr' if args.mixed else ''}"
        f"{'' if args.blas_threads is None else f'; blas_threads {args.blas_threads}'}"
    )
    print(f"alerts received {len(lat)}/{total}")
    if lat:
        print(
            f"webhook -> chat.postMessage latency ms: p50 {statistics.median(lat):.0f}  "
            f"p90 {lat[int(len(lat) * 0.9) - 1]:.0f}  p99 {lat[max(0, int(len(lat) * 0.99) - 1)]:.0f}  max {lat[-1]:.0f}"
        )


if __name__ == "__main__":
    asyncio.run(main())

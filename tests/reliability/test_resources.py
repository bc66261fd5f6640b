"""Resources under attack, against a real `cxbot serve` (issue 14): uploads that stall after their
headers, a flood of large batches that are all invalid, then SIGTERM with the stalled uploads
still open. /healthz keeps answering, memory stays bounded, and the stop takes at most
`shutdown_timeout_s` + 2 s. The figures are printed (`pytest -s`); only generous bounds are
asserted, so a slow CI machine does not fail what is a measurement.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from tests.kit.liveserver import LiveServer, serve_env
from tests.kit.rawhttp import parse_answer, request_bytes

STALLED = 150  # below max_uploads: the flood still gets its turn
FLOOD = 120  # batches of 1,000 invalid signals, ~0.9 MB each
FLOOD_PARALLEL = 4
SHUTDOWN_S = 3.0
CONFIG = """
timezone = "UTC"
[database]
path = "{db}"
[enrich]
worker = "thread"
[server]
body_timeout_s = 60
max_uploads = 256
shutdown_timeout_s = {shutdown}
[sources.open]
type = "generic"
"""
HANG_S = 5.0  # no health check may take this long, however loaded the machine
RSS_MAX_KIB = 1_000_000  # about 1 GB: a leak of the stalled bodies or the batches would show


def invalid_batch(n: int) -> bytes:
    # Valid JSON, every item refused by validation (unknown kind): parsed in full, stored never.
    items = [{"id": f"f{n}-{i}", "kind": "nope", "text": "x" * 800} for i in range(1000)]
    return json.dumps(items).encode()


async def stall(port: int) -> asyncio.StreamWriter:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = [(b"Content-Type", b"application/json")]
    writer.write(
        request_bytes(b"POST", b"/webhooks/open", head, b'[{"id": "s', content_length=10**5)
    )
    await writer.drain()
    return writer


async def post(port: int, body: bytes) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            request_bytes(
                b"POST", b"/webhooks/open", [(b"Content-Type", b"application/json")], body
            )
        )
        await writer.drain()
        return parse_answer(await asyncio.wait_for(reader.read(), 120)).status
    finally:
        writer.close()


async def health(port: int) -> float:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request_bytes(b"GET", b"/healthz", []))
        await writer.drain()
        status = parse_answer(await asyncio.wait_for(reader.read(), HANG_S)).status
    finally:
        writer.close()
    assert status == 200
    return time.perf_counter() - started


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def test_stalled_uploads_a_flood_and_sigterm(tmp_path: Path) -> None:
    config = tmp_path / "cxbot.toml"
    config.write_text(CONFIG.format(db=tmp_path / "cxbot.db", shutdown=SHUTDOWN_S))
    server = LiveServer(config, serve_env({}), tmp_path / "serve.log")
    await asyncio.to_thread(server.start)
    port = server.port
    rss = [server.rss_kib()]
    stalled: list[asyncio.StreamWriter] = []
    try:
        stalled = list(await asyncio.gather(*(stall(port) for _ in range(STALLED))))
        bodies = [invalid_batch(n) for n in range(FLOOD)]
        latencies: list[float] = []
        statuses: list[int] = []
        flooding = True

        async def flood() -> None:
            nonlocal flooding
            queue = list(bodies)

            async def worker() -> None:
                while queue:
                    statuses.append(await post(port, queue.pop()))

            await asyncio.gather(*(worker() for _ in range(FLOOD_PARALLEL)))
            flooding = False

        async def probe() -> None:
            while flooding:
                latencies.append(await health(port))
                rss.append(server.rss_kib())
                await asyncio.sleep(0.01)

        started = time.monotonic()
        await asyncio.wait_for(asyncio.gather(flood(), probe()), 600)
        flood_s = time.monotonic() - started
        assert set(statuses) == {400}, statuses
        assert max(latencies) < HANG_S
        stop_s = await asyncio.to_thread(server.stop)  # the stalled uploads are still open
    finally:
        for w in stalled:
            w.close()
        if server.proc is not None and server.proc.poll() is None:
            server.proc.kill()
    print(
        f"\nresources: {STALLED} stalled uploads, {FLOOD} invalid 1,000-item batches"
        f" ({len(bodies[0]) / 1e6:.2f} MB each, {FLOOD_PARALLEL} at a time) in {flood_s:.1f} s;"
        f" /healthz n={len(latencies)} p50={sorted(latencies)[len(latencies) // 2] * 1000:.1f} ms"
        f" p99={p99(latencies) * 1000:.1f} ms max={max(latencies) * 1000:.1f} ms;"
        f" RSS start={rss[0] / 1024:.0f} MiB peak={max(rss) / 1024:.0f} MiB;"
        f" SIGTERM to exit {stop_s:.2f} s (shutdown_timeout_s={SHUTDOWN_S:g})"
    )
    assert max(rss) < RSS_MAX_KIB
    assert stop_s <= SHUTDOWN_S + 2
    log = server.log()
    assert "Traceback" not in log and " ERROR " not in log, log[-3000:]

"""Disk trouble: when the database cannot be written the listener answers 503 (providers retry)
rather than 200, stores nothing half-way, and recovers by itself once the disk is writable.

The database lives on a small tmpfs mounted for the test (root needed; skipped otherwise), which
we fill to simulate a full disk. (Remounting read-only is refused while the database is open for
writing, and root ignores file modes, so a full disk is the failure we can cause for real.)
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.kit.support import WEB_SECRET, Server, settings_from, start_server

# The app runs in-process: a blocking call on its event loop fails the test (tests/kit/blocking.py).
pytestmark = pytest.mark.usefixtures("blockbuster")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def signal_body(n: int) -> dict[str, object]:
    return {"id": f"s{n}", "kind": "ticket", "text": "Where is my parcel? " + "x" * 2000}


def count(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM signals").fetchone()[0])
    finally:
        conn.close()


@contextlib.asynccontextmanager
async def running(tmp_path: Path, db: Path):  # type: ignore[no-untyped-def]
    cfg = tmp_path / "cxbot.toml"
    cfg.write_text(
        f'[database]\npath = "{db}"\n[sources.web]\ntype = "generic"\nsecret_env = "S"\n'
    )
    settings = settings_from(cfg, {"S": WEB_SECRET})
    runner, url, app = await start_server(settings)
    async with aiohttp.ClientSession() as session:
        yield Server(url, session, settings, app)
    await runner.cleanup()


async def test_full_disk_is_503_then_recovers(tmp_path: Path, small_disk: Path) -> None:
    db = small_disk / "cx.db"
    async with running(tmp_path, db) as server:
        assert (await server.post("/webhooks/web", signal_body(0), sign=True))[0] == 200
        filler = small_disk / "filler"
        with filler.open("wb") as fh:  # take every free block
            with contextlib.suppress(OSError):
                while True:
                    fh.write(os.urandom(65536))
                    fh.flush()
        stored_before = count(db)
        statuses = []
        for n in range(1, 40):
            status, body = await server.post("/webhooks/web", signal_body(n), sign=True)
            statuses.append(status)
            if status == 503:
                assert body["error"] == "unavailable"
                break
        assert statuses[-1] == 503, statuses
        refused = n
        filler.unlink()
        # Writable again: the provider's retry of the refused delivery is stored.
        assert (await server.post("/webhooks/web", signal_body(refused), sign=True))[0] == 200
        assert count(db) == stored_before + len(statuses)

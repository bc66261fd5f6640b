"""Weekly digests end to end: the real app and its scheduler, the fake Slack, a fixed clock.

The clock the digest job reads is set through `DIGEST_CLOCK` before the app starts (and moved
by the test); APScheduler itself runs on real time, so a test fires the job by moving its next
run time to now, as the scheduler would at the configured hour.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from cxbot.app import create_app
from cxbot.config import Settings
from cxbot.digest.job import DIGEST_CLOCK, DIGESTS, JOB_ID, SCHEDULER, DigestRunner
from cxbot.store.pg import pg_sql
from cxbot.store.writer import Store, connect_for, migrate, writer_for
from tests.kit.digest_data import fill, utc
from tests.kit.fakeslack import FakeSlack, validate_message
from tests.kit.postgres import Engine
from tests.kit.support import BASE_TOML, MakeSettings, slack_env

# The app runs in-process: a blocking call on its event loop fails the test (tests/kit/blocking.py).
pytestmark = pytest.mark.usefixtures("blockbuster")

DIGEST = """
[digest]
schedule = "mon 09:00"
channels = ["#cx-weekly"]
grace_hours = 24
chart = true
"""
MONDAY_9 = utc(2026, 11, 23, 6)  # Mon 23 Nov 09:00 Istanbul: 2026-W47's digest is due


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def write_config(tmp_path: Path, engine: Engine) -> Callable[..., Path]:
    """The config files of this module name the `engine`'s database (both engines)."""

    def write(extra: str = "", *, base: bool = True) -> Path:
        path = tmp_path / "cxbot.toml"
        text = (BASE_TOML.format(db=tmp_path / "cxbot.db") if base else "") + extra
        if engine.url is not None:
            text = text.replace("[database]\n", f'[database]\nurl = "{engine.url}"\n', 1)
        path.write_text(text, encoding="utf-8")
        return path

    return write


def prepare(settings: Settings) -> None:
    db = connect_for(settings.db_path, settings.file.database)
    migrate(db)
    fill(db)
    db.conn.close()


def store_of(settings: Settings) -> Store:
    return Store(writer_for(settings.db_path, settings.file.database, settings.tz))


def rows(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    url = settings.file.database.url
    if url is not None:  # the test's own check, with the driver directly
        import psycopg

        with psycopg.connect(url) as pg:
            return [tuple(r) for r in pg.execute(pg_sql(sql)).fetchall()]
    conn = sqlite3.connect(settings.db_path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@asynccontextmanager
async def running(settings: Settings, clock: Clock) -> AsyncIterator[web.Application]:
    """The app started (store, workers, scheduler) without a listening socket."""
    app = create_app(settings)
    app[DIGEST_CLOCK] = clock
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        yield app
    finally:
        await runner.cleanup()


async def runs_done(app: web.Application, count: int = 1) -> None:
    """Wait until the digest job has finished `count` runs (the first is the start-up run)."""
    for _ in range(1000):
        if app[DIGESTS].runs >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the digest job did not finish {count} run(s)")


def posts(fake: FakeSlack) -> list[dict[str, Any]]:
    return [c.args for c in fake.calls if c.method == "chat.postMessage" and c.failure is None]


@pytest.fixture
def digest_settings(slack_settings: MakeSettings) -> Settings:
    settings = slack_settings(DIGEST)
    prepare(settings)
    return settings


async def test_scheduled_job_posts_the_digest_once(
    digest_settings: Settings, fake_slack: FakeSlack
) -> None:
    clock = Clock(utc(2026, 11, 22, 9))  # Sunday: W47 is not over; W46's send was 6 days ago
    async with running(digest_settings, clock) as app:
        await runs_done(app)
        assert rows(digest_settings, "SELECT period, channel, status FROM digests") == [
            ("2026-W46", "#cx-weekly", "skipped")
        ]
        job = app[SCHEDULER].get_job(JOB_ID)
        local = job.next_run_time.astimezone(digest_settings.tz)
        assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)
        # Monday 09:00: the scheduler fires the job.
        clock.now = MONDAY_9 + timedelta(seconds=2)
        job.modify(next_run_time=datetime.now(UTC))
        await runs_done(app, 2)
        await fake_slack.wait_for(lambda: fake_slack.messages["C0002"], timeout=20)
        [message] = fake_slack.messages["C0002"]
        assert message["text"].startswith("Weekly CX digest · 2026-W47\nNPS fell 43 points to 17")
        assert message["blocks"][0]["text"]["text"] == "Weekly CX digest · 2026-W47"
        assert fake_slack.violations == [] and validate_message(message) == []
        # A re-run (the job again, or by hand) finds the week recorded and writes nothing.
        again = await app[DIGESTS].run_due()
        assert [(o.period, o.new) for o in again] == [("2026-W47", False)]
        await asyncio.sleep(0.3)
    assert len(posts(fake_slack)) == 1
    [(kind, status, payload)] = rows(
        digest_settings, "SELECT kind, status, payload FROM outbox WHERE kind = 'digest'"
    )
    assert (kind, status) == ("digest", "sent")
    body = json.loads(payload)
    assert body["filename"] == "cx-digest-2026-W47-cx-weekly.png" and body["period"] == "2026-W47"
    if body["chart"] is not None:  # None only without matplotlib (an optional extra)
        assert base64.b64decode(body["chart"]).startswith(b"\x89PNG")
    [(text,)] = rows(digest_settings, "SELECT text FROM digests WHERE period = '2026-W47'")
    assert "Alerts raised 3" in text


async def test_restart_and_a_second_process_do_not_send_again(
    digest_settings: Settings, fake_slack: FakeSlack
) -> None:
    clock = Clock(MONDAY_9 + timedelta(minutes=1))
    async with running(digest_settings, clock) as app:
        await fake_slack.wait_for(lambda: fake_slack.messages["C0002"], timeout=20)
    clock.now = MONDAY_9 + timedelta(hours=1)
    async with running(digest_settings, clock) as app:  # a restart an hour later
        await runs_done(app)
        await asyncio.sleep(0.3)
    # Two processes deciding at the same moment: two stores (two writers) on one file.
    stores = [store_of(digest_settings) for _ in range(2)]
    for store in stores:
        await asyncio.to_thread(store.open)  # as the app does: off the event loop
    try:
        runners = [
            DigestRunner(s, digest_settings.file.digest, digest_settings.tz, clock=clock)
            for s in stores
        ]
        outcomes = await asyncio.gather(*(r.run_due() for r in runners))
    finally:
        for store in stores:
            await asyncio.to_thread(store.close)
    assert [o.new for found in outcomes for o in found] == [False, False]
    assert len(posts(fake_slack)) == 1
    assert rows(digest_settings, "SELECT count(*) FROM outbox WHERE kind = 'digest'") == [(1,)]


async def test_two_fresh_runners_write_one_digest(digest_settings: Settings) -> None:
    stores = [store_of(digest_settings) for _ in range(2)]
    for store in stores:
        await asyncio.to_thread(store.open)  # as the app does: starting the writer waits for it
    try:
        clock = Clock(MONDAY_9)
        runners = [
            DigestRunner(s, digest_settings.file.digest, digest_settings.tz, clock=clock)
            for s in stores
        ]
        outcomes = await asyncio.gather(*(r.run_due() for r in runners))
    finally:
        for store in stores:
            await asyncio.to_thread(store.close)
    assert sorted(o.new for found in outcomes for o in found) == [False, True]
    assert rows(digest_settings, "SELECT period, status FROM digests") == [("2026-W47", "queued")]
    assert rows(digest_settings, "SELECT dedup_key FROM outbox WHERE kind = 'digest'") == [
        ("digest:2026-W47:#cx-weekly",)
    ]


async def test_missed_digest_within_grace_is_sent_on_start_up_to_the_console(
    make_settings: MakeSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(DIGEST, {"CXBOT_WEB_SECRET": "x"})  # no Slack token
    prepare(settings)
    clock = Clock(MONDAY_9 + timedelta(hours=23))  # down all day, back within the 24 h grace
    async with running(settings, clock) as app:
        await runs_done(app)
        for _ in range(200):
            if rows(settings, "SELECT status FROM outbox WHERE kind = 'digest'") == [("sent",)]:
                break
            await asyncio.sleep(0.02)
    out = capsys.readouterr().out
    assert "Weekly CX digest · 2026-W47" in out and "NPS fell 43 points to 17 (n=12)." in out
    [(period, status)] = rows(settings, "SELECT period, status FROM digests")
    assert period == "2026-W47" and status in ("queued", "sent")  # "sent" once outbox syncs it


async def test_missed_digest_outside_grace_is_recorded_skipped(
    digest_settings: Settings, fake_slack: FakeSlack
) -> None:
    clock = Clock(MONDAY_9 + timedelta(hours=25))
    async with running(digest_settings, clock) as app:
        await runs_done(app)
    assert rows(digest_settings, "SELECT period, channel, status FROM digests") == [
        ("2026-W47", "#cx-weekly", "skipped")
    ]
    assert rows(digest_settings, "SELECT count(*) FROM outbox WHERE kind = 'digest'") == [(0,)]
    assert posts(fake_slack) == []


NO_GRACE = """
[digest]
schedule = "mon 09:00"
channels = ["#cx-weekly"]
grace_hours = 0
"""


async def test_a_send_due_before_the_install_is_not_a_missed_digest(
    make_settings: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(NO_GRACE, {"CXBOT_WEB_SECRET": "x"})
    prepare(settings)  # the database is created now: last Monday's send predates it
    now = datetime.now(UTC)
    with caplog.at_level("INFO", logger="cxbot.digest"):
        async with running(settings, Clock(now)) as app:
            await runs_done(app)
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
    assert "was due before this database was created: not sent" in caplog.text
    caplog.clear()
    with caplog.at_level("INFO", logger="cxbot.digest"):  # a week on, down through Monday
        async with running(settings, Clock(now + timedelta(days=8))) as app:
            await runs_done(app)
    assert [r.levelname for r in caplog.records if "missed by" in r.getMessage()] == ["WARNING"]


FILTERED = """
[digest]
channels = ["#cx-weekly", "#app-reviews"]

[[digest.filters]]
channel = "#app-reviews"
sources = ["appstore"]
title = "App reviews"
"""


async def test_each_channel_gets_its_own_filtered_digest(
    make_settings: MakeSettings,
) -> None:
    async with FakeSlack({"#cx-weekly": "C0002", "#app-reviews": "C0003"}) as fake:
        settings = make_settings(FILTERED, slack_env(fake))
        prepare(settings)
        async with running(settings, Clock(MONDAY_9)):
            await fake.wait_for(
                lambda: fake.messages["C0002"] and fake.messages["C0003"], timeout=20
            )
        everything, apps = fake.messages["C0002"][0]["text"], fake.messages["C0003"][0]["text"]
        assert "Volume  26 signals" in everything and "NPS  +17 (n=12)" in everything
        assert apps.startswith("Weekly CX digest · 2026-W47 · App reviews")
        assert "Volume  4 signals" in apps and "No data for NPS, CSAT, CES" in apps
        assert fake.violations == []


def cli_env(settings: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CXBOT", "SLACK"))}
    assert settings.path is not None
    return env | {"CXBOT_CONFIG": str(settings.path), "CXBOT_WEB_SECRET": "x"} | (extra or {})


async def cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    # asyncio's subprocess: the fake Slack answers from this event loop while the CLI runs.
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cxbot",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_cli_print_writes_the_digest_and_nothing_else(digest_settings: Settings) -> None:
    code, out, err = await cli(cli_env(digest_settings), "digest", "--print", "--week", "2026-W47")
    assert code == 0, err
    assert out.startswith("Weekly CX digest · 2026-W47\nNPS fell 43 points to 17 (n=12).\n")
    assert "Volume  26 signals  ·  +30% vs last week (20)" in out
    assert "Login loops <!channel> *now*" in out  # the terminal gets the words as written
    assert rows(digest_settings, "SELECT count(*) FROM digests") == [(0,)]
    assert rows(digest_settings, "SELECT count(*) FROM outbox WHERE kind = 'digest'") == [(0,)]
    code, _, err = await cli(cli_env(digest_settings), "digest", "--week", "2026-47")
    assert code == 2 and "YYYY-Www" in err
    code, out, err = await cli(
        cli_env(digest_settings), "digest", "--print", "--week", "2026-W47", "--channel", "#nope"
    )
    assert (code, out) == (2, "") and "'#nope' is not a digest channel" in err
    assert "[digest] channels are #cx-weekly" in err


async def test_cli_send_delivers_once(digest_settings: Settings, fake_slack: FakeSlack) -> None:
    env = cli_env(digest_settings, slack_env(fake_slack))
    code, out, err = await cli(env, "digest", "--send", "--week", "2026-W47")
    assert code == 0, err
    assert out.startswith("#cx-weekly 2026-W47: sent at 20")
    assert len(posts(fake_slack)) == 1 and fake_slack.violations == []
    code, out, err = await cli(env, "digest", "--send", "--week", "2026-W47")
    assert (code, out.split(" at ")[0]) == (0, "#cx-weekly 2026-W47: already sent"), err
    assert len(posts(fake_slack)) == 1
    assert rows(digest_settings, "SELECT status FROM digests") == [("sent",)]

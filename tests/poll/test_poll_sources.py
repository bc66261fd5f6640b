"""Several poll sources in one `serve`: a failing one reports its error in `/healthz` and the
others go on; the config refuses what cannot work, with the key named; `cxbot poll` runs now."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cxbot.config import load_settings
from cxbot.errors import ConfigError
from tests.kit.fakereviews import Failure, FakeAppStoreConnect, FakeReviewFeed, rss_entry
from tests.kit.support import MakeSettings, serving
from tests.poll.conftest import asc_toml, five_reviews, until


def feed_toml(fake: FakeReviewFeed, interval: str = "1s") -> str:
    return f"""
[sources.feed]
type = "app_store_rss"
app_id = "{fake.app_id}"
countries = ["us", "tr"]
api_url = "{fake.root}"
interval = "{interval}"
"""


def count(db: Path, sql: str) -> Any:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.mark.usefixtures("blockbuster")
async def test_a_failing_source_shows_its_error_and_the_others_go_on(
    make_settings: MakeSettings, asc: FakeAppStoreConnect, p8_key: Any, env: dict[str, str]
) -> None:
    forbidden = {"errors": [{"status": "403", "code": "FORBIDDEN_ERROR", "title": "This request is forbidden for security reasons", "detail": "x"}]}  # fmt: skip
    asc.fail_next = [Failure(403, body=forbidden)] * 100
    async with FakeReviewFeed(page_size=2) as fake_feed:
        fake_feed.entries = {
            "us": [rss_entry(n, 3, updated=f"2026-11-2{n}T10:00:00Z") for n in (3, 2, 1)],
            "tr": [rss_entry(9, 2)],
        }
        settings = make_settings(
            asc_toml(asc) + feed_toml(fake_feed), {**env, "ASC_KEY": p8_key[0]}
        )
        async with serving(settings) as server:

            async def health() -> dict[str, Any]:
                async with server.session.get(server.url + "/healthz") as resp:
                    assert resp.status == 200
                    body: dict[str, Any] = await resp.json()
                    return body

            async def both_ran() -> bool:
                polls = (await health())["polls"]
                return polls["ios"]["failures"] >= 2 and polls["feed"]["last_ok"] is not None

            await until(both_ran)
            polls = (await health())["polls"]
            assert polls["ios"]["last_error"].startswith("HTTP 403 FORBIDDEN_ERROR: This request")
            assert polls["ios"]["backfilled"] is False
            assert polls["feed"]["last_error"] is None and polls["feed"]["backfilled"] is True
    got = count(
        settings.db_path,
        "SELECT source, external_id, json_extract(metadata, '$.country') FROM signals ORDER BY id",
    )
    assert got == [
        ("feed", "7000000003", "us"), ("feed", "7000000002", "us"),
        ("feed", "7000000001", "us"), ("feed", "7000000009", "tr"),
    ]  # fmt: skip
    # us: pages 1 and 2 (its last), then tr: page 1, on the first walk.
    assert [p for p, _ in fake_feed.requests[:3]] == [
        "/us/rss/customerreviews/page=1/id=1404176564/sortby=mostrecent/json",
        "/us/rss/customerreviews/page=2/id=1404176564/sortby=mostrecent/json",
        "/tr/rss/customerreviews/page=1/id=1404176564/sortby=mostrecent/json",
    ]


def test_poll_sources_are_not_webhook_sources(make_settings: MakeSettings) -> None:
    settings = make_settings('[sources.feed]\ntype = "app_store_rss"\napp_id = "1"\n')
    assert "feed" in settings.polls and "feed" not in settings.sources


@pytest.mark.parametrize(
    ("extra", "env_", "message"),
    [
        ("", {}, "sources.ios.private_key_env: environment variable ASC_KEY is not set"),
        (
            "",
            {"ASC_KEY": "not a key"},
            "sources.ios.private_key: Value error, is not a PEM private key",
        ),
        ("", {"ASC_KEY": "RSA"}, "is not an App Store Connect key (ES256, P-256)"),
        ("bogus = 1\n", None, "sources.ios.bogus: unknown key for this source type"),
        ('[sources.x]\ntype = "app_store_rs"\n', None, "unknown source type 'app_store_rs'"),
    ],
)
def test_app_store_config_errors(
    write_config: Any, p8_key: Any, extra: str, env_: dict[str, str] | None, message: str
) -> None:
    if env_ and env_.get("ASC_KEY") == "RSA":
        env_ = {"ASC_KEY": rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()}  # fmt: skip
    env = {"ASC_KEY": p8_key[0]} if env_ is None else env_
    toml = '[sources.ios]\ntype = "app_store"\napp_id = "1"\nkey_id = "K"\nissuer_id = "I"\nprivate_key_env = "ASC_KEY"\n'
    with pytest.raises(ConfigError) as caught:
        load_settings(write_config(toml + extra, base=False), env)
    assert message.replace("Value error, ", "") in str(caught.value)
    assert "BEGIN" not in str(caught.value)  # never the key itself


async def test_cxbot_poll_backfills_now_and_is_idempotent(
    tmp_path: Path, asc: FakeAppStoreConnect, p8_key: Any
) -> None:
    asc.reviews = five_reviews()
    asc.fail_next = [Failure(429, {"Retry-After": "1"})]  # the first answer: slow down
    config = tmp_path / "cxbot.toml"
    config.write_text(
        f'[database]\npath = "{tmp_path / "cli.db"}"\n[enrich]\nworker = "thread"\n' + asc_toml(asc)
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CXBOT", "SLACK", "DATABASE"))}
    env["ASC_KEY"] = p8_key[0]

    async def cxbot(*args: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cxbot", *args, "--config", str(config), env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        return proc.returncode or 0, out.decode(), err.decode()

    code, out, err = await cxbot("poll")
    assert code == 0, err
    assert out.strip() == "ios: 5 new, 0 duplicate, 3 page(s) (backfill, no alerts)"
    assert "ios: 5 review(s) read, back to 2026-11-16" in err
    assert len(asc.requests) == 4  # the 429, then three pages
    code, out, _ = await cxbot("poll", "ios")
    assert code == 0 and out.strip() == "ios: 0 new, 3 duplicate, 2 page(s) (new reviews alert)"
    code, out, err = await cxbot("poll", "ios", "--since", "2026-11-17")
    assert code == 0 and out.strip() == "ios: 0 new, 4 duplicate, 3 page(s) (backfill, no alerts)"
    assert "poll back to 2026-11-17" in err  # the bar's label (stderr is not a terminal here)
    db = tmp_path / "cli.db"
    assert count(db, "SELECT count(*), count(enriched_at) FROM signals") == [(5, 5)]
    state = json.loads(count(db, "SELECT cursor FROM poll_cursors")[0][0])
    assert state["since"] == "2026-11-20T16:10:34.000000Z" and state["backfilled"] is True
    code, _, err = await cxbot("poll", "android")
    assert code == 2 and "unknown poll source 'android' (poll sources: ios)" in err


async def test_a_page_cursor_the_provider_refuses_restarts_the_walk(
    make_settings: MakeSettings, asc: FakeAppStoreConnect, p8_key: Any, env: dict[str, str]
) -> None:
    from cxbot.poll.schedule import poll_now
    from cxbot.store.writer import Store

    asc.reviews = five_reviews()
    settings = make_settings(asc_toml(asc, interval="1h"), {**env, "ASC_KEY": p8_key[0]})
    store = Store(settings.db_path)
    await asyncio.to_thread(store.open)
    try:
        asc.stale_cursors = {4}  # page 3's cursor is refused (an opaque cursor can expire)
        [(_, first)] = await poll_now(store, list(settings.polls.values()))
        assert (
            first is not None
            and first.error is not None
            and first.error.startswith("HTTP 400 PARAMETER_ERROR.INVALID")
        )
        assert first.accepted == 4 and not first.complete
        asked = len(asc.requests)
        [(_, second)] = await poll_now(store, list(settings.polls.values()))
        assert second is not None and second.complete and second.error is None
        assert asc.requests[asked][1].get("cursor") is None  # from the first page again
        assert (second.accepted, second.duplicates) == (1, 4)
    finally:
        await asyncio.to_thread(store.close)
    assert count(settings.db_path, "SELECT count(*), count(DISTINCT external_id) FROM signals") == [
        (5, 5)
    ]


@pytest.mark.usefixtures("blockbuster")
async def test_a_source_failing_n_times_in_a_row_is_reported_to_the_admins_once(
    make_settings: MakeSettings, asc: FakeAppStoreConnect, p8_key: Any, fake_slack: Any
) -> None:
    from tests.kit.support import slack_env

    asc.fail_next = [
        Failure(403, body={"errors": [{"code": "FORBIDDEN_ERROR", "title": "No access"}]})
    ] * 100
    toml = asc_toml(asc) + 'alert_after_failures = 2\n[slack]\nadmin_channel = "#cx-alerts"\n'
    settings = make_settings(toml, {**slack_env(fake_slack), "ASC_KEY": p8_key[0]})
    async with serving(settings) as server:

        async def failures() -> int:
            async with server.session.get(server.url + "/healthz") as resp:
                return int((await resp.json())["polls"]["ios"]["failures"])

        await until(lambda: len(fake_slack.messages.get("C0001", [])) == 1)
        await until(lambda: _at_least(failures(), 4))
    sent = fake_slack.messages["C0001"]
    assert len(sent) == 1 and fake_slack.violations == []
    assert "Source *ios* has failed 2 polls in a row" in json.dumps(sent[0])
    assert (
        "polls in a row: HTTP 403 FORBIDDEN" in sent[0]["text"] and "No access" in sent[0]["text"]
    )


async def _at_least(value: Any, n: int) -> bool:
    return bool(await value >= n)


async def test_cxbot_poll_skips_a_source_another_process_is_polling(
    tmp_path: Path, asc: FakeAppStoreConnect, p8_key: Any
) -> None:
    """SQLite: `cxbot poll` beside `serve` — the one polling a source holds a file lock
    beside the database for the run; the other skips the source instead of reading it twice."""
    from cxbot.store.leases import Leases

    asc.reviews = five_reviews()
    db = tmp_path / "cli.db"
    config = tmp_path / "cxbot.toml"
    config.write_text(f'[database]\npath = "{db}"\n[enrich]\nworker = "thread"\n' + asc_toml(asc))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CXBOT", "SLACK", "DATABASE"))}
    env["ASC_KEY"] = p8_key[0]

    def poll() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cxbot", "poll", "--config", str(config)],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    other = Leases(path=db)  # what `serve` holds while it polls `ios`
    assert await other.hold("poll:ios")
    try:
        done = await asyncio.to_thread(poll)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "ios: skipped (another process is polling it right now)"
        assert asc.requests == []
    finally:
        await other.release("poll:ios")
    done = await asyncio.to_thread(poll)
    assert done.stdout.strip() == "ios: 5 new, 0 duplicate, 3 page(s) (backfill, no alerts)"
    assert await other.hold("poll:ios")  # the CLI's lock went with its run
    other.close()

"""`cxbot customer erase|export` against data that came in through the real app, on both
engines: after an erase the customer's address, handle and words are nowhere in the database
(the SQLite file's bytes; every table's rows on PostgreSQL), the rollup equals a
recomputation, the posted Slack messages are edited to a neutral text, the other customer is
untouched, and the audit row holds no personal data."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cxbot.slack.blocks import REDACTED
from cxbot.store.retention import checkpoint
from cxbot.store.rollup import rebuild_rollup
from cxbot.store.rollup_sql import COLUMNS, KEYS, LANG_KEYS
from tests.kit.fakeslack import FakeSlack
from tests.kit.postgres import Engine
from tests.kit.support import BAD_REVIEW_RULE, MakeSettings, serving, slack_env

pytestmark = pytest.mark.usefixtures("blockbuster")

ALERTS = BAD_REVIEW_RULE
# What must vanish: customer A's address, handle and words (made-up, so nothing else has them).
SECRET_EMAIL = "zephyrine.quill@example.org"
SECRET_HANDLE = "zephyquill"
SECRET_WORDS = "Quillsworth parcel 4471 never arrived"


def review(n: str, rating: int, text: str, email: str, handle: str) -> dict[str, Any]:
    return {
        "id": n,
        "kind": "review",
        "rating": rating,
        "text": text,
        "author": {"name": "Zephyrine Q" if email == SECRET_EMAIL else "Other Person",
                   "email": email, "handle": handle},
    }  # fmt: skip


A1 = review("a1", 1, f"{SECRET_WORDS}, refund please", SECRET_EMAIL, SECRET_HANDLE)
A2 = review("a2", 2, "Still waiting for the Quillsworth refund", SECRET_EMAIL.upper(), "")
B1 = review("b1", 1, "My order was damaged", "other.person@example.com", "otherperson")


def cli(
    config: Path, engine: Engine, *args: str, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CXBOT", "SLACK", "DATABASE"))}
    return subprocess.run(
        [sys.executable, "-m", "cxbot", *args],
        env={
            **env,
            **engine.env(),
            "CXBOT_CONFIG": str(config),
            "CXBOT_WEB_SECRET": "x",
            **(extra or {}),
        },  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
    )


def rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in engine.connect().execute(sql).fetchall()]


async def until(check: Any, limit: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while not await asyncio.to_thread(check):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not true after {limit}s")
        await asyncio.sleep(0.05)


def rollup_now(engine: Engine) -> list[tuple[Any, ...]]:
    """The rollup's counts, rows that count nothing left out (a delete leaves a zeroed row;
    its min_id/max_id only ever widen, which keeps search ranges safe)."""
    counts = ", ".join(COLUMNS)
    found = rows(engine, f"SELECT {', '.join(KEYS)}, {counts} FROM daily_rollup") + rows(
        engine, f"SELECT {', '.join(LANG_KEYS)}, {counts} FROM daily_rollup_lang"
    )
    # Sums of floats after a subtraction keep rounding dust (1e-17): compared to 9 places.
    rounded = [tuple(round(v, 9) if isinstance(v, float) else v for v in r) for r in found]
    return sorted(r for r in rounded if any(r[-len(COLUMNS) :]))


def everything_stored(engine: Engine) -> bytes:
    """SQLite: the file's bytes after a checkpoint (no VACUUM: secure_delete and the FTS merge
    must already have overwritten the old rows). PostgreSQL: every row of every table."""
    if engine.url is None:
        checkpoint(engine.path)
        return engine.path.read_bytes()
    db = engine.connect()
    tables = [
        r[0]
        for r in db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    ]
    return "\n".join(
        str(r[0]) for t in tables for r in db.execute(f'SELECT t::text FROM "{t}" t').fetchall()
    ).encode()


def check_what_is_left(engine: Engine) -> None:
    assert rows(engine, "SELECT external_id FROM signals") == [("b1",)]
    assert rows(engine, "SELECT email FROM customers") == [("other.person@example.com",)]
    before = rollup_now(engine)
    rebuild_rollup(engine.connect())
    assert rollup_now(engine) == before  # kept exact by the delete triggers
    [(actor, action, detail)] = rows(engine, "SELECT actor, action, detail FROM audit")
    assert actor.startswith("cli:") and action == "erase"
    assert json.loads(detail)["signals"] == 2

    stored = everything_stored(engine)
    for secret in (SECRET_EMAIL, SECRET_HANDLE, "Quillsworth", "Zephyrine"):
        assert secret.encode() not in stored, secret
        assert secret.lower().encode() not in stored.lower(), secret
    assert b"other.person@example.com" in stored  # the other customer is still there


async def test_erase_leaves_nothing_of_the_customer_and_redacts_slack(
    engine: Engine, make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    settings = make_settings(ALERTS, {**slack_env(fake_slack), **engine.env()})
    config = tmp_path / "cxbot.toml"
    async with serving(settings) as server:
        for body in ([A1, B1], [A2], [A1]):  # the last one a provider's retry: a duplicate
            assert (await server.post("/webhooks/web", body, sign=True))[0] == 200

        def alerted() -> bool:
            return rows(engine, "SELECT count(*) FROM outbox WHERE status = 'sent'") == [(3,)]

        await until(alerted)
        posted = {m["ts"]: m["text"] for m in fake_slack.messages["C0001"]}
        assert len(posted) == 3

        exported = await asyncio.to_thread(cli, config, engine, "customer", "export", SECRET_HANDLE)
        assert exported.returncode == 0, exported.stderr
        data = json.loads(exported.stdout)
        assert [c["email"] for c in data["customers"]] == [SECRET_EMAIL]
        assert sorted(s["external_id"] for s in data["signals"]) == ["a1", "a2"]
        assert [m["kind"] for m in data["messages"]] == ["alert", "alert"]
        assert json.loads(json.dumps(data)) == data  # plain JSON, all of it

        asked = await asyncio.to_thread(cli, config, engine, "customer", "erase", SECRET_EMAIL)
        assert (
            asked.returncode == 1 and "Aborted" in asked.stderr
        )  # no --yes, no answer: nothing done
        assert await asyncio.to_thread(rows, engine, "SELECT count(*) FROM signals") == [(3,)]

        done = await asyncio.to_thread(
            cli, config, engine, "customer", "erase", SECRET_EMAIL, "--yes"
        )
        assert done.returncode == 0, done.stderr
        assert "1 profile(s), 2 signal(s): 2 from web" in done.stdout
        assert "erased 2 signal(s), 1 profile(s)" in done.stdout
        assert "2 Slack message(s) to redact" in done.stdout

        def redacted() -> bool:
            texts = [m["text"] for m in fake_slack.messages["C0001"]]
            return texts.count(REDACTED) == 2

        await until(redacted)  # `serve`'s outbox edits them
        assert fake_slack.violations == []
        kept = [m for m in fake_slack.messages["C0001"] if m["text"] != REDACTED]
        assert len(kept) == 1 and "damaged" in json.dumps(kept[0])

    await asyncio.to_thread(check_what_is_left, engine)
    again = await asyncio.to_thread(cli, config, engine, "customer", "erase", SECRET_EMAIL, "--yes")
    assert again.returncode == 0 and "nothing to erase" in again.stdout


async def test_unknown_identifiers_are_refused_clearly(
    engine: Engine, make_settings: MakeSettings, tmp_path: Path
) -> None:
    make_settings("", {"CXBOT_WEB_SECRET": "x", **engine.env()})
    done = await asyncio.to_thread(cli, tmp_path / "cxbot.toml", engine, "customer", "erase", "@@")
    assert (
        done.returncode == 2
        and "is not an e-mail address, a handle or a customer id" in done.stderr
    )
    done = await asyncio.to_thread(
        cli, tmp_path / "cxbot.toml", engine, "customer", "export", "nobody@example.com"
    )
    assert done.returncode == 0 and json.loads(done.stdout)["signals"] == []


DIGEST = """
[digest]
schedule = "mon 09:00"
channels = ["#cx-weekly"]
chart = false
"""
IN_W47 = "2026-11-18T10:00:00Z"  # a complete week, so `cxbot digest --send` takes it


async def test_erase_scrubs_the_digests_that_quoted_the_customer(
    engine: Engine, make_settings: MakeSettings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """The weekly digest quotes the most negative signals: after an erase, neither the posted
    digest, nor its outbox row, nor `digests.text` quotes the customer; other quotes stay."""
    settings = make_settings(ALERTS + DIGEST, {**slack_env(fake_slack), **engine.env()})
    config = tmp_path / "cxbot.toml"
    body = [{**s, "created_at": IN_W47} for s in (A1, A2, B1)]
    async with serving(settings) as server:
        assert (await server.post("/webhooks/web", body, sign=True))[0] == 200

        def alerted() -> bool:
            return rows(engine, "SELECT count(*) FROM outbox WHERE status = 'sent'") == [(3,)]

        await until(alerted)
        week = ("digest", "--send", "--week", "2026-W47")
        sent = await asyncio.to_thread(cli, config, engine, *week, extra=slack_env(fake_slack))
        assert sent.returncode == 0, sent.stderr

        def digest_text() -> str:
            return json.dumps([m for m in fake_slack.messages["C0002"] if "2026-W47" in m["text"]])

        await until(lambda: "Quillsworth" in digest_text())
        assert "damaged" in digest_text()
        before = len(fake_slack.updates)

        done = await asyncio.to_thread(
            cli, config, engine, "customer", "erase", SECRET_EMAIL, "--yes"
        )
        assert done.returncode == 0, done.stderr
        assert "1 digest(s) no longer quote them" in done.stdout
        assert "3 Slack message(s) to redact" in done.stdout  # two alerts and the digest

        await until(lambda: "Quillsworth" not in digest_text())
        shown = digest_text()
        assert REDACTED in shown and "damaged" in shown  # B's line is still quoted
        await until(lambda: len(fake_slack.updates) - before == 3)
        assert fake_slack.violations == []

    [(text,)] = await asyncio.to_thread(
        rows, engine, "SELECT text FROM digests WHERE period = '2026-W47'"
    )
    assert "Quillsworth" not in text and REDACTED in text and "damaged" in text
    await asyncio.to_thread(check_what_is_left, engine)

"""Edited reviews on each engine (Google Play: same `reviewId`, new `lastModified`): the signal
takes the new words and stars, keeps the previous version, is enriched again, and alerts only
for what the edit brings: a 5★ turned 1★ alerts, a typo fix of a 1★ does not."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.kit.fakereviews import FakeGoogle, new_service_account, play_review
from tests.kit.fakeslack import FakeSlack
from tests.kit.postgres import Engine
from tests.kit.support import MakeSettings, serving, slack_env
from tests.poll.conftest import ALERTS, until

pytestmark = pytest.mark.usefixtures("blockbuster")


async def rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    def read() -> list[tuple[Any, ...]]:
        return [tuple(r) for r in engine.connect().execute(sql).fetchall()]

    return await asyncio.to_thread(read)


async def test_an_edit_alerts_only_when_the_edit_matches_a_rule(
    engine: Engine, make_settings: MakeSettings, fake_slack: FakeSlack
) -> None:
    async with FakeGoogle(page_size=10) as fake:
        key_json, fake.public_key = new_service_account(fake.token_url)
        fake.play = [
            play_review(3, 1, 1764500000, text="Crashes evry time"),
            play_review(2, 5, 1764400000, text="Love it"),
            play_review(1, 1, 1764300000, text="Slow"),
        ]
        toml = f"""
[sources.android]
type = "google_play"
package_name = "com.example.shop"
credentials_env = "PLAY_KEY"
api_url = "{fake.root}"
token_url = "{fake.token_url}"
interval = "1s"
"""
        env = {**slack_env(fake_slack), **engine.env(), "PLAY_KEY": key_json}
        settings = make_settings(toml + ALERTS, env)

        async def enriched() -> list[tuple[Any, ...]]:
            return await rows(engine, "SELECT count(*) FROM signals WHERE enriched_at IS NOT NULL")

        async with serving(settings):
            await until(lambda: _is(enriched(), [(3,)]))
            assert await rows(engine, "SELECT count(*) FROM outbox") == [(0,)]  # the backfill
            # Both edited, newest first again: 5★ "Love it" → 1★; the 1★ gets a typo fixed.
            fake.play = [
                play_review(2, 1, 1764700000, text="Broke after the update, refund please"),
                play_review(3, 1, 1764600000, text="Crashes every time"),
                *fake.play[2:],
            ]
            await until(lambda: _is(rows(engine, "SELECT count(*) FROM signal_edits"), [(2,)]))
            await until(lambda: _is(enriched(), [(3,)]))
            await until(lambda: len(fake_slack.messages.get("C0001", [])) == 1)
            polled = len(fake.requests)
            await until(lambda: len(fake.requests) >= polled + 2)  # polled again: no second edit
        sent = fake_slack.messages["C0001"]
        assert len(sent) == 1 and "refund please" in json.dumps(sent[0])
        got = await rows(
            engine, "SELECT external_id, rating, text FROM signals ORDER BY external_id"
        )
        assert got == [
            ("gp:1", 1, "Slow"),
            ("gp:2", 1, "Broke after the update, refund please"),
            ("gp:3", 1, "Crashes every time"),
        ]
        history = await rows(
            engine,
            "SELECT s.external_id, e.rating, e.text, e.sentiment_label IS NOT NULL FROM signal_edits e"
            " JOIN signals s ON s.id = e.signal_id ORDER BY s.external_id",
        )
        assert history == [("gp:2", 5, "Love it", True), ("gp:3", 1, "Crashes evry time", True)]
        assert await rows(engine, "SELECT count(*) FROM signals") == [(3,)]


async def _is(value: Any, expected: Any) -> bool:
    return bool(await value == expected)

"""The "needs attention" feed's SLA column: each open alert's most urgent running stage, from
the same clocks `/cx sla` lists (cxbot/alerts/lifecycle.open_clocks)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from cxbot.alerts.sla import Clock
from cxbot.dashboard.data import sla_left
from tests.dashboard.kit import (
    CONFIG,
    SECRET_KEY,
    sign_in_link,
    signed_in_session,
    week_of_signals,
)
from tests.kit.postgres import Engine
from tests.kit.support import WEB_SECRET, MakeSettings, serving

pytestmark = pytest.mark.usefixtures("blockbuster")

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _clock(signal_id: int, stage: str, due_in: timedelta) -> Clock:
    return Clock(signal_id, "bad-review", stage, NOW + due_in, due_in < timedelta(0), {})  # type: ignore[arg-type]


def test_the_most_urgent_stage_of_each_signal_is_shown() -> None:
    clocks = [
        _clock(1, "resolve", timedelta(days=2)),
        _clock(1, "ack", timedelta(hours=1, minutes=20)),
        _clock(2, "ack", -timedelta(hours=2)),
    ]
    assert sla_left(clocks, NOW) == {1: "ack: 1h 20m left", 2: "ack: overdue 2h"}
    assert sla_left([], NOW) == {}


async def test_the_feed_shows_time_left_when_an_sla_covers_the_rule(
    make_settings: MakeSettings, engine: Engine
) -> None:
    toml = CONFIG + '\n[[sla]]\nrule = "bad-review"\nack_within = "2d"\n'
    env = {"CXBOT_WEB_SECRET": WEB_SECRET, "CXBOT_SECRET_KEY": SECRET_KEY, **engine.env()}
    async with serving(make_settings(toml, env)) as server:
        status, body = await server.post("/webhooks/web", week_of_signals(), sign=True)
        assert status == 200, body
        session = await signed_in_session(server.url, sign_in_link(server.settings))
        async with session:
            for _ in range(100):
                async with session.get(server.url + "/api/dashboard") as resp:
                    data = await resp.json()
                if data["attention"]:
                    break
                await asyncio.sleep(0.1)
            assert data["attention"], data
            # The alerts were raised just now: about two days are left on each.
            assert all(a["sla"] in ("ack: 1d 23h left", "ack: 2d left") for a in data["attention"])

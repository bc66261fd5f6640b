"""Poll sources in `cxbot serve`, on each engine: the real app, a fake App Store Connect API
on loopback and the fake Slack. The first walk backfills quietly; later reviews alert once."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.kit.fakereviews import FakeAppStoreConnect, asc_review
from tests.kit.fakeslack import FakeSlack
from tests.kit.postgres import Engine
from tests.kit.support import MakeSettings, serving, slack_env
from tests.poll.conftest import ALERTS, asc_toml, five_reviews, until

pytestmark = pytest.mark.usefixtures("blockbuster")


async def rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    def read() -> list[tuple[Any, ...]]:
        return [tuple(r) for r in engine.connect().execute(sql).fetchall()]

    return await asyncio.to_thread(read)


async def cursor(engine: Engine, source: str = "ios") -> dict[str, Any]:
    found = await rows(engine, f"SELECT cursor FROM poll_cursors WHERE source = '{source}'")
    return json.loads(found[0][0]) if found else {}


async def enriched(engine: Engine, n: int) -> bool:
    got = await rows(engine, "SELECT count(*) FROM signals WHERE enriched_at IS NOT NULL")
    return bool(got[0][0] == n)


def env_for(engine: Engine, fake_slack: FakeSlack, p8: str) -> dict[str, str]:
    return {**slack_env(fake_slack), **engine.env(), "ASC_KEY": p8}


async def test_backfill_is_quiet_then_a_new_one_star_alerts_once(
    engine: Engine,
    make_settings: MakeSettings,
    fake_slack: FakeSlack,
    asc: FakeAppStoreConnect,
    p8_key: tuple[str, ec.EllipticCurvePublicKey],
) -> None:
    asc.reviews = five_reviews()
    settings = make_settings(asc_toml(asc) + ALERTS, env_for(engine, fake_slack, p8_key[0]))
    async with serving(settings) as server:
        await until(lambda: cursor(engine))
        await until(lambda: _backfilled(engine))
        await until(lambda: enriched(engine, 5))
        # Three pages, each asked once, the next one by the previous page's links.next.
        cursors = [q.get("cursor") for _, q in asc.requests[:3]]
        assert cursors == [None, "AQ.2", "AQ.4"]
        got = await rows(
            engine,
            "SELECT external_id, kind, rating, author_name, channel, metadata, created_at, url"
            " FROM signals ORDER BY created_at",
        )
        assert [(r[0][-2:], r[2]) for r in got] == [
            ("01", 1),
            ("02", 4),
            ("03", 2),
            ("04", 5),
            ("05", 1),
        ]
        first = got[0]
        assert first[1] == "review" and first[3] == "Reviewer 1" and first[4] == "app-store"
        assert json.loads(first[5]) == {"territory": "USA"}
        assert first[6] == "2026-11-16T16:10:34.000000Z"  # -08:00 taken into account
        assert first[7].startswith("https://appstoreconnect.apple.com/apps/682658836/")
        # History: three 1-2 star reviews came in and no alert is owed for any of them.
        assert await rows(engine, "SELECT count(*) FROM outbox") == [(0,)]
        async with server.session.get(server.url + "/healthz") as resp:
            health = await resp.json()
        assert health["polls"]["ios"]["last_error"] is None
        assert health["polls"]["ios"]["backfilled"] is True

        # Later: a new 1-star and a new 5-star review; only the 1-star alerts, once.
        asc.reviews[:0] = [
            asc_review(7, 5, "2026-11-21T10:00:00Z"),
            asc_review(6, 1, "2026-11-21T09:00:00Z", body="Crashes on launch since the update"),
        ]
        await until(lambda: enriched(engine, 7))
        await until(lambda: len(fake_slack.messages.get("C0001", [])) == 1)
        polls_before = len(asc.requests)
        await until(lambda: len(asc.requests) >= polls_before + 2)  # two more polls: no repeats
        assert await rows(engine, "SELECT count(*) FROM signals") == [(7,)]
        assert await rows(engine, "SELECT kind, status FROM outbox") == [("alert", "sent")]
        assert "Crashes on launch" in json.dumps(fake_slack.messages["C0001"][0])
        assert fake_slack.violations == []


async def _backfilled(engine: Engine) -> bool:
    return bool((await cursor(engine)).get("backfilled"))


async def test_a_restart_mid_backfill_resumes_from_the_cursor(
    engine: Engine,
    make_settings: MakeSettings,
    fake_slack: FakeSlack,
    asc: FakeAppStoreConnect,
    p8_key: tuple[str, ec.EllipticCurvePublicKey],
) -> None:
    asc.reviews = five_reviews()
    asc.hold, asc.hold_from = asyncio.Event(), 4  # the third page waits
    settings = make_settings(asc_toml(asc) + ALERTS, env_for(engine, fake_slack, p8_key[0]))
    async with serving(settings):
        await until(asc.holding.is_set)
        await until(lambda: _signal_count(engine, 4))
        state = await cursor(engine)
        assert state["page"].endswith("cursor=AQ.4&limit=200&sort=-createdDate")
        assert state["backfilled"] is False
    # Stopped mid-walk (the held request is cancelled). Started again, it asks for page 3.
    asc.hold = None
    asked_before = len(asc.requests)
    async with serving(settings):
        await until(lambda: _backfilled(engine))
        await until(lambda: enriched(engine, 5))
        assert asc.requests[asked_before][1].get("cursor") == "AQ.4"
        assert await rows(engine, "SELECT count(*), count(DISTINCT external_id) FROM signals") == [
            (5, 5)
        ]
        assert await rows(engine, "SELECT count(*) FROM outbox") == [(0,)]  # still history


async def _signal_count(engine: Engine, n: int) -> bool:
    return (await rows(engine, "SELECT count(*) FROM signals")) == [(n,)]

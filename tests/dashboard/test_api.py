"""`GET /api/dashboard` on the real app: auth (401 without a session, off without a key), the
JSON's shape, filters, bad queries (400, never 500), and the same figures as `/cx summary`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest

from cxbot.cx.ask import answer
from cxbot.store.writer import Store, writer_for
from tests.dashboard.kit import CONFIG, SECRET_KEY, sign_in_link, signed_in_session, week_of_signals
from tests.kit.postgres import Engine
from tests.kit.support import WEB_SECRET, MakeSettings, Server, serving

pytestmark = pytest.mark.usefixtures("blockbuster")


@pytest.fixture
async def board(make_settings: MakeSettings, engine: Engine) -> AsyncIterator[Server]:
    env = {"CXBOT_WEB_SECRET": WEB_SECRET, "CXBOT_SECRET_KEY": SECRET_KEY, **engine.env()}
    async with serving(make_settings(CONFIG, env)) as server:
        status, body = await server.post("/webhooks/web", week_of_signals(), sign=True)
        assert status == 200, body
        yield server


async def _api(session: aiohttp.ClientSession, url: str, q: str = "") -> tuple[int, dict]:
    async with session.get(url + "/api/dashboard", params={"q": q}) as resp:
        return resp.status, await resp.json()


async def _settled(session: aiohttp.ClientSession, url: str, q: str = "") -> dict:
    """The figures once enrichment has scored every signal (the rollup moves until then)."""
    for _ in range(100):
        status, data = await _api(session, url, q)
        assert status == 200, data
        async with session.get(url + "/healthz") as resp:
            if (await resp.json())["unenriched"] == 0:
                return (await _api(session, url, q))[1]
        await asyncio.sleep(0.1)
    raise AssertionError("enrichment did not finish")


async def test_api_needs_a_session_and_answers_the_summary_figures(board: Server) -> None:
    status, body = await _api(board.session, board.url)
    assert status == 401 and "sign in" in body["message"]
    session = await signed_in_session(board.url, sign_in_link(board.settings))
    async with session:
        data = await _settled(session, board.url, "7d")
        assert [t["metric"] for t in data["tiles"]] == [
            "volume",
            "nps",
            "csat",
            "ces",
            "rating",
            "negative",
        ]
        assert set(data) >= {"tiles", "volume", "trend", "topics", "heatmap", "attention",
                             "loop", "unscored", "window", "filters"}  # fmt: skip
        # The same words `/cx summary 7d` prints, to the digit.
        store = Store(writer_for(board.settings.db_path, board.settings.file.database,
                                 board.settings.tz))  # fmt: skip
        await asyncio.get_running_loop().run_in_executor(None, store.open)
        try:
            said = (await answer(board.settings, store, "summary 7d", None, datetime.now(UTC),
                                 terminal=True)).plain  # fmt: skip
        finally:
            await asyncio.get_running_loop().run_in_executor(None, store.close)
        tiles = {t["metric"]: t for t in data["tiles"]}
        assert f"Volume  {tiles['volume']['shown']} signals" in said
        assert f"NPS  {tiles['nps']['shown']} (n={tiles['nps']['n']})" in said
        assert f"CSAT  {tiles['csat']['shown']} (n={tiles['csat']['n']})" in said
        assert f"CES  {tiles['ces']['shown']} (n={tiles['ces']['n']})" in said
        assert f"{tiles['negative']['shown']} negative" in said
        assert sum(c["n"] for c in data["heatmap"]) == tiles["volume"]["n"]
        assert sum(u["n"] for u in data["unscored"]) == tiles["volume"]["n"]
        assert sum(b["n"] for b in data["volume"]) == tiles["volume"]["n"]
        # The bad reviews alerted: they wait in the feed, open.
        assert data["attention"] and all(a["status"] == "new" for a in data["attention"])
        assert data["loop"]["alerts"] >= len(data["attention"])
        # A filter narrows every figure.
        reviews = await _settled(session, board.url, "7d kind:review")
        assert reviews["filters"] == {"kind": "review"}
        assert {c["kind"] for c in reviews["heatmap"]} == {"review"}
        assert reviews["tiles"][0]["n"] < tiles["volume"]["n"]
        assert reviews["tiles"][1]["shown"] == "no data"  # no NPS answers among reviews
        # Bad input is a clear 400, never a 500.
        for q in ("fortnight please", "7d 30d", "7d colour:red"):
            status, body = await _api(session, board.url, q)
            assert status == 400, (q, body)


async def test_tampered_or_missing_cookie_is_refused(board: Server) -> None:
    session = await signed_in_session(board.url, sign_in_link(board.settings))
    async with session:
        [cookie] = [c for c in session.cookie_jar]
        assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
        forged = cookie.value[:-2] + ("AA" if not cookie.value.endswith("AA") else "BB")
    async with aiohttp.ClientSession(cookies={"cxbot_dashboard": forged}) as other:
        status, _ = await _api(other, board.url)
        assert status == 401
        async with other.get(board.url + "/dashboard") as resp:
            text = await resp.text()
            assert resp.status == 401 and "Sign in" in text and 'class="tile"' not in text
        async with other.get(board.url + "/dashboard/events") as resp:
            assert resp.status == 401
        async with other.get(board.url + "/dashboard?token=not.valid") as resp:
            assert resp.status == 401 and "expired" in await resp.text()

"""Alerts end to end: signed webhook in → enrichment → rules → outbox → the fake Slack server."""

from __future__ import annotations

import json
import sqlite3
import urllib.parse
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from tests.kit.fakeslack import FakeSlack
from tests.kit.support import MakeSettings, Server, serving, slack_headers, start_server

# The app runs in-process: a blocking call on its event loop fails the test (tests/kit/blocking.py).
pytestmark = pytest.mark.usefixtures("blockbuster")

ALERTS = """
[[alerts]]
name = "bad-review"
channel = "#cx-alerts"
kinds = ["review"]
max_rating = 2
max_per_window = 2
window_minutes = 0.05

[[alerts]]
name = "refunds"
channel = "#cx-alerts"
keywords = ["refund"]
"""


@pytest.fixture
async def slack_server(slack_settings: MakeSettings) -> AsyncIterator[Server]:
    async with serving(slack_settings(ALERTS)) as server:
        yield server


def review(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"r{n}",
        "kind": "review",
        "rating": 1,
        "text": f"Order {n} never arrived",
        "author": {"name": f"Customer {n}", "email": f"c{n}@example.com"},
        "url": f"https://reviews.example.com/{n}",
        **extra,
    }


def outbox(server: Server) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(server.settings.db_path)
    try:
        return conn.execute(
            "SELECT kind, channel, status, rules FROM outbox ORDER BY id"
        ).fetchall()
    finally:
        conn.close()


async def until(predicate: Callable[[], Any], limit: float = 10) -> Any:
    """Poll the database (the outbox commits its `sent` mark just after Slack answers)."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not (result := predicate()):
        if loop.time() > deadline:
            raise AssertionError(f"not true after {limit}s")
        await asyncio.sleep(0.02)
    return result


def posts(fake: FakeSlack) -> list[dict[str, Any]]:
    return [c.args for c in fake.calls if c.method == "chat.postMessage" and c.failure is None]


async def test_bad_review_reaches_the_channel_once_with_both_rules(
    slack_server: Server, fake_slack: FakeSlack
) -> None:
    status, body = await slack_server.post(
        "/webhooks/web",
        review(1, text="Never arrived, I want a refund <!channel> *now*"),
        sign=True,
    )
    assert status == 200
    await fake_slack.wait_for(lambda: fake_slack.messages["C0001"])
    [message] = fake_slack.messages["C0001"]
    assert fake_slack.violations == []
    blocks = json.dumps(message["blocks"])
    assert "<!channel>" not in blocks and "&lt;!channel&gt;" in blocks
    assert "*now*" not in blocks
    assert "bad-review" in blocks and "refunds" in blocks  # one message lists both rules
    expected = [("alert", "#cx-alerts", "sent", '["bad-review", "refunds"]')]
    await until(lambda: outbox(slack_server) == expected)


async def test_throttle_rolls_up_the_rest(slack_server: Server, fake_slack: FakeSlack) -> None:
    for n in range(5):
        assert (await slack_server.post("/webhooks/web", review(n), sign=True))[0] == 200
    # Two alerts within the window, then one roll-up for the three held back (at the window's end).
    await fake_slack.wait_for(lambda: len(posts(fake_slack)) == 3, timeout=15)
    texts = [p["text"] for p in posts(fake_slack)]
    assert (
        texts[2].startswith("3 more negative reviews in the last 0.05 min") or "3 more" in texts[2]
    )
    expected = sorted([("alert", "sent")] * 2 + [("alert", "held")] * 3 + [("rollup", "sent")])
    await until(lambda: sorted((k, s) for k, _, s, _ in outbox(slack_server)) == expected)
    assert fake_slack.violations == []


async def test_button_click_updates_status_and_message(
    slack_server: Server, fake_slack: FakeSlack
) -> None:
    await slack_server.post("/webhooks/web", review(7), sign=True)
    await fake_slack.wait_for(lambda: fake_slack.messages["C0001"])
    [message] = fake_slack.messages["C0001"]

    async def click(action: str, user: str) -> int:
        payload = {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": user, "name": user},
            "api_app_id": "A1",
            "token": "legacy",
            "trigger_id": "1.2.3",
            "container": {"type": "message", "message_ts": message["ts"], "channel_id": "C0001"},
            "channel": {"id": "C0001", "name": "cx-alerts"},
            "message": {"ts": message["ts"], "text": message["text"]},
            "response_url": fake_slack.response_url("click"),
            "actions": [
                {
                    "type": "button",
                    "action_id": action,
                    "block_id": "b",
                    "value": "1",
                    "action_ts": "1.0",
                }
            ],
        }
        body = "payload=" + urllib.parse.quote(json.dumps(payload))
        async with slack_server.session.post(
            slack_server.url + "/slack/events", data=body, headers=slack_headers(body)
        ) as resp:
            return resp.status

    assert await click("cx_ack", "U111") == 200
    assert await click("cx_ack", "U222") == 200  # a double click changes nothing
    await fake_slack.wait_for(lambda: len(fake_slack.updates) == 1)
    assert await click("cx_resolve", "U222") == 200
    await fake_slack.wait_for(lambda: len(fake_slack.updates) == 2)
    conn = sqlite3.connect(slack_server.settings.db_path)
    row = conn.execute(
        "SELECT status, status_by, acknowledged_at IS NOT NULL, resolved_at IS NOT NULL FROM signals WHERE id = 1"
    ).fetchone()
    conn.close()
    assert row == ("resolved", "U222", 1, 1)
    final = fake_slack.message("C0001", message["ts"])
    assert final is not None
    [controls] = [b for b in final["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in controls["elements"]] == ["cx_reopen"]  # resolved: Reopen
    assert fake_slack.violations == []


async def test_bad_slack_signature_is_refused(slack_server: Server) -> None:
    body = "payload=%7B%7D"
    headers = slack_headers(body, secret="wrong")
    async with slack_server.session.post(
        slack_server.url + "/slack/events", data=body, headers=headers
    ) as resp:
        assert resp.status == 401


async def test_slack_outage_delivers_after_recovery_without_duplicates(
    slack_server: Server, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next(1, "500", method="chat.postMessage")
    fake_slack.fail_next(1, "ratelimited", method="chat.postMessage")
    await slack_server.post("/webhooks/web", review(1), sign=True)
    await slack_server.post(
        "/webhooks/web",
        {**review(2), "kind": "ticket", "rating": None, "text": "refund please"},
        sign=True,
    )
    await fake_slack.wait_for(lambda: len(fake_slack.messages["C0001"]) == 2, timeout=20)
    texts = [m["text"] for m in fake_slack.messages["C0001"]]
    assert "Order 1" in texts[0] and "refund please" in texts[1]  # order kept per channel
    await until(lambda: [s for _, _, s, _ in outbox(slack_server)] == ["sent", "sent"])


async def test_owed_alerts_are_delivered_once_after_a_restart(
    slack_settings: MakeSettings, fake_slack: FakeSlack
) -> None:
    settings = slack_settings(ALERTS)
    # First run: Slack unreachable (every call fails), so the alert stays owed.
    fake_slack.fail_next(1000, "500")
    runner, url, _ = await start_server(settings)
    async with aiohttp.ClientSession() as session:
        raw = json.dumps(review(1)).encode()
        from tests.kit.support import sign_generic

        async with session.post(
            url + "/webhooks/web",
            data=raw,
            headers={"Content-Type": "application/json", "X-Cxbot-Signature": sign_generic(raw)},
        ) as resp:
            assert resp.status == 200
    await fake_slack.wait_for(lambda: any(c.failure for c in fake_slack.calls))
    await runner.cleanup()
    assert fake_slack.messages["C0001"] == []
    fake_slack._failures.clear()
    runner, _, _ = await start_server(settings)
    try:
        await fake_slack.wait_for(lambda: fake_slack.messages["C0001"], timeout=20)
    finally:
        await runner.cleanup()
    runner, _, _ = await start_server(settings)  # a third start owes nothing
    await runner.cleanup()
    assert len(fake_slack.messages["C0001"]) == 1


async def test_a_post_cut_off_after_slack_took_it_is_not_posted_twice(
    slack_server: Server, fake_slack: FakeSlack
) -> None:
    # Slack stores the message, then the connection drops before we read the answer.
    fake_slack.fail_next(1, "drop_after", method="chat.postMessage")
    await slack_server.post("/webhooks/web", review(1), sign=True)
    await until(lambda: [s for _, _, s, _ in outbox(slack_server)] == ["sent"], limit=20)
    assert len(fake_slack.messages["C0001"]) == 1
    assert [
        c.method
        for c in fake_slack.calls
        if c.method.startswith(("chat.", "conversations.history"))
    ] == [
        "chat.postMessage",
        "conversations.history",
    ]


SPIKES = """
[[spikes]]
name = "neg-spike"
channel = "#cx-alerts"
by = "source"
window_minutes = 60
factor = 2
min_count = 3
"""


async def test_spike_alert_once(slack_settings: MakeSettings, fake_slack: FakeSlack) -> None:
    settings = slack_settings(SPIKES)
    async with serving(settings) as server:
        for n in range(5):
            assert (await server.post("/webhooks/web", review(n), sign=True))[0] == 200
        await fake_slack.wait_for(lambda: fake_slack.messages["C0001"], timeout=10)
        await until(lambda: all(s == "sent" for _, _, s, _ in outbox(server)))
    [spike] = fake_slack.messages["C0001"]
    assert spike["text"].startswith("Spike: ")
    assert "negative signals for source web" in spike["text"]
    assert [k for k, *_ in outbox(server)] == ["spike"]


async def test_later_signals_of_a_customer_go_in_the_first_alerts_thread(
    slack_server: Server, fake_slack: FakeSlack
) -> None:
    same = {"author": {"name": "Ana", "email": "Ana@Example.com"}}
    await slack_server.post("/webhooks/web", {**review(1), **same}, sign=True)
    await fake_slack.wait_for(lambda: len(fake_slack.messages["C0001"]) == 1)
    await slack_server.post(
        "/webhooks/web",
        {**review(2), "author": {"name": "Ana", "email": "ana@example.com"}},
        sign=True,
    )
    await slack_server.post("/webhooks/web", review(3), sign=True)  # someone else
    await fake_slack.wait_for(lambda: len(fake_slack.messages["C0001"]) == 3, timeout=10)
    first, second, third = fake_slack.messages["C0001"]
    assert "thread_ts" not in first
    assert second["thread_ts"] == first["ts"]  # one customer across emails' case
    assert "thread_ts" not in third
    assert fake_slack.violations == []

"""The alert lifecycle end to end, on both engines: signed webhooks in, signed block_actions
(buttons, a static_select, a users_select) from Slack, the periodic check called with an
explicit later `now`, and what the fake Slack server received (edits and thread replies)."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cxbot.cx.ask import answer
from cxbot.digest.build import Loop, Scope
from cxbot.digest.queries import closed_loop
from cxbot.listener.housekeeping import lifecycle_once
from cxbot.listener.keys import OUTBOX, STORE
from tests.kit.fakeslack import FakeSlack
from tests.kit.postgres import Engine
from tests.kit.support import (
    BAD_REVIEW_RULE,
    MakeSettings,
    Server,
    serving,
    slack_env,
    slack_headers,
)

pytestmark = pytest.mark.usefixtures("blockbuster")

SLA = """
[[sla]]
rule = "bad-review"
ack_within = "1h"
resolve_within = "1d"
escalate_to = "#cx-leads"
"""
CHANNELS = {"#cx-alerts": "C0001", "#cx-weekly": "C0002", "#cx-leads": "C0003"}


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(channels=CHANNELS) as fake:
        yield fake


@pytest.fixture
def make(engine: Engine, make_settings: MakeSettings, slack: FakeSlack) -> Callable[[str], Any]:
    return lambda extra: make_settings(
        BAD_REVIEW_RULE + extra, {**slack_env(slack), **engine.env()}
    )


def review(n: int, customer: int = 1, rating: int = 1) -> dict[str, Any]:
    return {
        "id": f"r{n}",
        "kind": "review",
        "rating": rating,
        "text": f"Order {n} never arrived",
        "author": {"name": f"Customer {customer}", "email": f"c{customer}@example.com"},
    }


def roots(fake: FakeSlack, channel: str = "C0001") -> list[dict[str, Any]]:
    return [m for m in fake.messages[channel] if m.get("thread_ts") in (None, m["ts"])]


def replies(fake: FakeSlack, ts: str, channel: str = "C0001") -> list[str]:
    """The notes in a thread (follow-up alerts, which open with a header, left out)."""
    return [
        m["text"]
        for m in fake.messages[channel]
        if m.get("thread_ts") == ts and m["ts"] != ts and m["blocks"][0]["type"] != "header"
    ]


def status_line(fake: FakeSlack, ts: str) -> str:
    message = fake.message("C0001", ts)
    assert message is not None
    contexts = [b for b in message["blocks"] if b["type"] == "context"]
    return str(contexts[-1]["elements"][0]["text"])


def controls(fake: FakeSlack, ts: str) -> list[str]:
    message = fake.message("C0001", ts)
    assert message is not None
    found = [b for b in message["blocks"] if b["type"] == "actions"]
    return [e["action_id"] for e in found[0]["elements"]] if found else []


async def act(server: Server, fake: FakeSlack, ts: str, user: str, action: dict[str, Any]) -> None:
    """A signed block_actions payload as Slack sends it for a click on message `ts`."""
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": user, "name": user},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "1.2.3",
        "container": {"type": "message", "message_ts": ts, "channel_id": "C0001"},
        "channel": {"id": "C0001", "name": "cx-alerts"},
        "message": {"ts": ts, "text": "alert"},
        "response_url": fake.response_url("click"),
        "actions": [{"block_id": "cx_alert:1", "action_ts": "1.0", **action}],
    }
    body = "payload=" + urllib.parse.quote(json.dumps(payload))
    async with server.session.post(
        server.url + "/slack/events", data=body, headers=slack_headers(body)
    ) as resp:
        assert resp.status == 200


def button(action_id: str, signal: int = 1) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "value": str(signal)}


def snooze(option: str, signal: int = 1) -> dict[str, Any]:
    label = {"1h": "1 hour", "1d": "1 day", "customer": "Until the customer writes again"}
    return {
        "type": "static_select",
        "action_id": "cx_snooze",
        "block_id": f"cx_alert:{signal}",
        "selected_option": {
            "text": {"type": "plain_text", "text": label[option], "emoji": True},
            "value": option,
        },
    }


def pick(user: str, signal: int = 1) -> dict[str, Any]:
    return {
        "type": "users_select",
        "action_id": "cx_assign_to",
        "block_id": f"cx_alert:{signal}",
        "selected_user": user,
    }


async def settle(server: Server) -> None:
    """Until the outbox owes nothing (the messages a step owed are in the fake Slack)."""
    for _ in range(400):
        owed = await server.app[STORE].read(
            lambda db: db.execute(
                "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"
            ).fetchone()[0]
        )
        if owed == 0:
            return
        await asyncio.sleep(0.025)
    raise AssertionError("the outbox did not drain")


async def tick(server: Server, later: timedelta) -> list[int]:
    """The periodic check at `later` from now. What it owes is stamped with that time, and the
    outbox worker runs on the wall clock: the rows are made due now, so they go out now."""
    store = server.app[STORE]
    owed = await lifecycle_once(store, server.settings, datetime.now(UTC) + later)

    def due_now(db: Any) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        db.execute(
            "UPDATE outbox SET next_attempt_at = ?, created_at = ? WHERE status = 'pending'",
            [stamp, stamp],
        )

    await store.write(due_now)
    server.app[OUTBOX].poke()
    await settle(server)
    return owed


async def week_loop(server: Server) -> Loop:
    """The digest's closed-loop figures for a week around now, with the server's SLAs."""
    now, settings = datetime.now(UTC), server.settings
    return await server.app[STORE].read(
        lambda db: closed_loop(
            db,
            now - timedelta(days=3),
            now + timedelta(days=4),
            Scope.of(None),
            now + timedelta(days=4),
            settings.file.sla,
            settings.tz,
        )
    )


async def first_alert(server: Server, fake: FakeSlack, body: dict[str, Any]) -> str:
    assert (await server.post("/webhooks/web", body, sign=True))[0] == 200
    await fake.wait_for(lambda: roots(fake))
    await settle(server)
    return str(roots(fake)[0]["ts"])


async def test_snooze_wakes_by_time_and_by_the_customer(
    make: Callable[[str], Any], slack: FakeSlack
) -> None:
    async with serving(make("")) as server:
        ts = await first_alert(server, slack, review(1))
        assert controls(slack, ts) == [
            "cx_ack",
            "cx_assign",
            "cx_assign_to",
            "cx_snooze",
            "cx_resolve",
        ]
        await act(server, slack, ts, "U111", snooze("1h"))
        await act(server, slack, ts, "U111", snooze("1h"))  # a double click
        await slack.wait_for(lambda: len(slack.updates) == 1)
        await settle(server)
        assert len(slack.updates) == 1
        assert status_line(slack, ts).startswith(":zzz: Snoozed by <@U111> at <!date^")
        assert await tick(server, timedelta(minutes=30)) == []  # not yet
        assert len(await tick(server, timedelta(hours=2))) == 2  # the edit and the thread reply
        assert replies(slack, ts) == [":alarm_clock: Snooze over: back on the list"]
        assert status_line(slack, ts).startswith("Signal 1")  # back to new: no status line
        assert await tick(server, timedelta(hours=3)) == []

        await act(server, slack, ts, "U222", snooze("customer"))
        await slack.wait_for(lambda: len(slack.updates) == 3)
        assert "until the customer writes again" in status_line(slack, ts)
        assert await tick(server, timedelta(days=30)) == []  # no clock wakes this one
        # The same customer writes again (a 4★, not negative: it wakes, it does not regress).
        assert (await server.post("/webhooks/web", review(2, rating=4), sign=True))[0] == 200
        await slack.wait_for(lambda: len(replies(slack, ts)) == 2)
        await settle(server)
        assert replies(slack, ts)[1] == (
            ":alarm_clock: Back from snooze: *Customer 1* wrote again (signal 2):"
            " “Order 2 never arrived”"
        )
        assert status_line(slack, ts).startswith("Signal 1")
        assert slack.violations == []


async def test_assign_resolve_regress_and_reopen(
    make: Callable[[str], Any], slack: FakeSlack
) -> None:
    async with serving(make("")) as server:
        ts = await first_alert(server, slack, review(1))
        await act(server, slack, ts, "U111", pick("U999"))
        await act(server, slack, ts, "U111", pick("U999"))  # a double pick
        await slack.wait_for(lambda: replies(slack, ts))
        await settle(server)
        assert len(slack.updates) == 1
        assert replies(slack, ts) == ["<@U999> you were assigned by <@U111>"]
        assert status_line(slack, ts).startswith("Assigned to <@U999> by <@U111> at")
        await act(server, slack, ts, "U999", button("cx_resolve"))
        await slack.wait_for(lambda: len(slack.updates) == 2)
        assert controls(slack, ts) == ["cx_reopen"]

        # A new negative review from the same customer: the resolved alert regresses.
        assert (await server.post("/webhooks/web", review(2), sign=True))[0] == 200
        await slack.wait_for(lambda: len(replies(slack, ts)) == 2)
        await settle(server)
        assert replies(slack, ts)[1].startswith(
            ":repeat: Regressed: *Customer 1* wrote again (signal 2)"
        )
        assert status_line(slack, ts).startswith(":repeat: Regressed at")
        assert "cx_ack" in controls(slack, ts)
        # The new review's own alert joined the first one's thread.
        followups = [m for m in slack.messages["C0001"] if m.get("thread_ts") == ts]
        assert any("Order 2 never arrived" in m["text"] for m in followups)

        await act(server, slack, ts, "U999", button("cx_resolve"))
        await slack.wait_for(lambda: len(slack.updates) == 4)
        await act(server, slack, ts, "U111", button("cx_reopen"))
        await act(server, slack, ts, "U111", button("cx_reopen"))
        await slack.wait_for(lambda: len(slack.updates) == 5)
        await settle(server)
        assert len(slack.updates) == 5
        assert status_line(slack, ts).startswith(":repeat: Reopened by <@U111> at")
        assert status_line(slack, ts).endswith("(reopened 2×)")
        row = await server.app[STORE].read(
            lambda db: db.execute(
                "SELECT status, reopened, regressed_at IS NOT NULL FROM signals WHERE id = 1"
            ).fetchone()
        )
        assert tuple(row) == ("regressed", 2, True)
        assert slack.violations == []
        loop = await week_loop(server)
        assert (loop.raised, loop.acknowledged, loop.resolved, loop.regressions) == (2, 1, 1, 1)
        assert loop.median_resolve_seconds is not None and loop.ack_sla == 0


async def test_sla_breach_is_posted_once_and_not_while_snoozed(
    make: Callable[[str], Any], slack: FakeSlack
) -> None:
    settings = make(SLA)
    async with serving(settings) as server:
        ts = await first_alert(server, slack, review(1))
        assert (await server.post("/webhooks/web", review(2, customer=2), sign=True))[0] == 200
        await slack.wait_for(lambda: len(roots(slack)) == 2)
        await settle(server)
        second = str(roots(slack)[1]["ts"])
        await act(server, slack, second, "U111", snooze("1d", signal=2))
        await slack.wait_for(lambda: len(slack.updates) == 1)
        assert await tick(server, timedelta(minutes=50)) == []  # within the hour
        assert len(await tick(server, timedelta(hours=2))) == 2  # a thread note, an escalation
        assert len(await tick(server, timedelta(hours=2))) == 0
        [note] = replies(slack, ts)
        assert note.startswith(":rotating_light: SLA breached: not acknowledged within 1h")
        assert replies(slack, second) == []  # snoozed: not yet
        [escalation] = slack.messages["C0003"]
        assert escalation["text"].startswith(":rotating_light: SLA breached")
        assert "Signal 1 in #cx-alerts" in escalation["text"]

        # `/cx sla` (the terminal's `cxbot ask sla` is the same answer), two hours on.
        shown = await answer(
            server.settings, server.app[STORE], "sla", None, datetime.now(UTC) + timedelta(hours=2)
        )
        lines = shown.plain.splitlines()
        assert lines[0] == "SLAs · 2 open stage(s) timed"
        assert lines[1].startswith("• 🚨 Signal 1 · bad-review · acknowledge overdue by ")
        assert lines[2].startswith("• ⏳ Signal 1 · bad-review · resolve 2")  # 21h or 22h left
        assert "Order 1 never arrived" in lines[2]
        assert "Breaches in the last 7 days: 1 to acknowledge, 0 to resolve." in shown.plain
        loop = await week_loop(server)
        assert (loop.ack_sla, loop.ack_in_sla, loop.resolve_sla, loop.resolve_in_sla) == (
            2,
            0,
            2,
            0,
        )

    async with serving(settings) as server:  # a restart: nothing is posted again
        assert await tick(server, timedelta(hours=3)) == []
        # A day later signal 2 wakes, and now both its stages are past due; signal 1's
        # resolve stage too: one note and one escalation each.
        owed = await tick(server, timedelta(days=1, hours=1))
        assert len(owed) == 2 + 2 * 2 + 2
        assert replies(slack, second)[0] == ":alarm_clock: Snooze over: back on the list"
        breached = sorted(replies(slack, second)[1:])
        assert [b.split(" within")[0] for b in breached] == [
            ":rotating_light: SLA breached: not acknowledged",
            ":rotating_light: SLA breached: not resolved",
        ]
        assert len(slack.messages["C0003"]) == 4
        assert await tick(server, timedelta(days=2)) == []
        assert slack.violations == []

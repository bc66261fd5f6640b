"""`/cx` end to end: a signed slash command to /slack/events is acked at once and answered on
the response_url (served by the fake Slack); `cxbot ask` prints the same words."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.kit.fakeslack import FakeSlack
from tests.kit.support import MakeSettings, Server, serving, slack_headers

# The app runs in-process: a blocking call on its event loop fails the test (tests/kit/blocking.py).
pytestmark = pytest.mark.usefixtures("blockbuster")

CONFIG = """
[slack]
admins = ["UADMIN"]
[[alerts]]
name = "bad-review"
channel = "#cx-alerts"
max_rating = 2
"""


@pytest.fixture
async def cx_server(slack_settings: MakeSettings) -> AsyncIterator[Server]:
    async with serving(slack_settings(CONFIG)) as server:
        yield server


async def slash(
    server: Server, fake: FakeSlack, text: str, user: str = "U1", name: str = "cx"
) -> int:
    form = {
        "token": "legacy",
        "team_id": "T1",
        "channel_id": "C0001",
        "channel_name": "cx-alerts",
        "user_id": user,
        "user_name": user,
        "command": "/cx",
        "text": text,
        "response_url": fake.response_url(name),
        "trigger_id": "1.2.3",
        "api_app_id": "A1",
    }
    body = urllib.parse.urlencode(form)
    async with server.session.post(
        server.url + "/slack/events", data=body, headers=slack_headers(body)
    ) as resp:
        assert await resp.text() == ""  # the ack is empty: the answer comes on response_url
        return resp.status


def run_ask(config: Path | None, *words: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CXBOT", "SLACK"))}
    return subprocess.run(
        [sys.executable, "-m", "cxbot", "ask", *words],
        env={**env, "CXBOT_CONFIG": str(config), "CXBOT_WEB_SECRET": "x"},
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_slash_command_answers_on_response_url(
    cx_server: Server, fake_slack: FakeSlack
) -> None:
    for n, score in enumerate([10, 9, 3, 8]):
        body = {"id": f"s{n}", "kind": "survey", "score": score, "score_type": "nps", "text": "ok"}
        assert (await cx_server.post("/webhooks/web", body, sign=True))[0] == 200
    assert await slash(cx_server, fake_slack, "nps 7d") == 200
    [answer] = await fake_slack.wait_for(lambda: fake_slack.responses_by_name.get("cx"))
    assert answer["response_type"] == "ephemeral"
    assert "25" in answer["text"] and "n=4" in answer["text"]  # (2 promoters - 1 detractor) / 4
    assert fake_slack.violations == []

    cli = run_ask(cx_server.settings.path, "nps", "7d")
    assert cli.returncode == 0, cli.stderr
    # The same words as in Slack, without Slack's markup.
    assert cli.stdout.splitlines()[0] == "NPS · last 7 days"
    assert "+25" in cli.stdout and "n=4" in cli.stdout


async def test_unknown_word_and_admin_verbs(cx_server: Server, fake_slack: FakeSlack) -> None:
    await slash(cx_server, fake_slack, "npss", name="typo")
    await slash(cx_server, fake_slack, "mute bad-review 2h", user="U1", name="nonadmin")
    await slash(cx_server, fake_slack, "mute bad-review 2h public", user="UADMIN", name="admin")
    typo = (await fake_slack.wait_for(lambda: fake_slack.responses_by_name.get("typo")))[0]
    assert "did you mean" in typo["text"] and "nps" in typo["text"]
    refused = (await fake_slack.wait_for(lambda: fake_slack.responses_by_name.get("nonadmin")))[0]
    assert "Only admins" in refused["text"]
    done = (await fake_slack.wait_for(lambda: fake_slack.responses_by_name.get("admin")))[0]
    assert done["response_type"] == "in_channel" and "bad-review" in done["text"]
    # The mute holds: a bad review now raises no alert.
    assert (
        await cx_server.post(
            "/webhooks/web", {"id": "m1", "kind": "review", "rating": 1, "text": "bad"}, sign=True
        )
    )[0] == 200
    await slash(cx_server, fake_slack, "alerts", name="alerts")
    listing = (await fake_slack.wait_for(lambda: fake_slack.responses_by_name.get("alerts")))[0]
    assert "muted" in listing["text"].lower()
    assert fake_slack.messages["C0001"] == []

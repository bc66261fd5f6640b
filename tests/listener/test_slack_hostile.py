"""Forged and odd requests to `/slack/events` (issue 14, defects 8 and 9), through the real app
with the fake Slack: refused with 401 and one log line without the body; a button whose value is
no signal id is acked and refused cleanly."""

from __future__ import annotations

import json
import logging
import time
import urllib.parse

import pytest

from tests.kit.fakeslack import FakeSlack
from tests.kit.support import (
    SLACK_SECRET,
    MakeSettings,
    Server,
    free_port,
    serving,
    slack_headers,
)

pytestmark = pytest.mark.usefixtures("blockbuster")

MARKER = "do-not-log-this-body"


async def post(server: Server, body: str, headers: dict[str, str]) -> tuple[int, str]:
    async with server.session.post(
        server.url + "/slack/events", data=body, headers=headers
    ) as resp:
        return resp.status, await resp.text()


def no_trace(caplog: pytest.LogCaptureFixture) -> None:
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert all(r.exc_info is None for r in caplog.records)
    assert not any(MARKER in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("stamp", ["abc", "", "12345678901234567890", "１２３", "-5"])
async def test_a_timestamp_that_is_not_a_number_is_401(
    slack_settings: MakeSettings, caplog: pytest.LogCaptureFixture, stamp: str
) -> None:
    caplog.set_level(logging.DEBUG)
    body = f"command=/cx&text={MARKER}"
    headers = {**slack_headers(body), "X-Slack-Request-Timestamp": stamp}
    async with serving(slack_settings()) as server:
        status, text = await post(server, body, headers)
    assert status == 401, text
    assert json.loads(text)["error"] == "unauthorized"
    no_trace(caplog)


async def test_a_forged_signature_is_401_and_its_body_is_not_logged(
    slack_settings: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = f"command=/cx&text={MARKER}"
    async with serving(slack_settings()) as server:
        status, _ = await post(server, body, slack_headers(body, secret="not-the-secret"))
        stale, _ = await post(server, body, slack_headers(body, ts=int(time.time()) - 3600))
    assert (status, stale) == (401, 401)
    no_trace(caplog)
    assert any("slack request refused" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("value", ["1" * 30, "9223372036854775808", "-1", "0", "1e3", "١"])
async def test_a_button_whose_value_is_no_signal_id_is_acked_and_refused(
    slack_settings: MakeSettings,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    value: str,
) -> None:
    caplog.set_level(logging.INFO)
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": "U111", "name": "u"},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "1.2.3",
        "container": {"type": "message", "message_ts": "1.1", "channel_id": "C0001"},
        "channel": {"id": "C0001", "name": "cx-alerts"},
        "message": {"ts": "1.1", "text": "alert"},
        "response_url": fake_slack.response_url("click"),
        "actions": [
            {
                "type": "button",
                "action_id": "cx_ack",
                "block_id": "b",
                "value": value,
                "action_ts": "1.0",
            }  # fmt: skip
        ],
    }
    body = "payload=" + urllib.parse.quote(json.dumps(payload))
    async with serving(slack_settings()) as server:
        started = time.monotonic()
        status, _ = await post(server, body, slack_headers(body))
        assert status == 200 and time.monotonic() - started < 2.5
    assert fake_slack.updates == []
    refused = [r for r in caplog.records if "refused" in r.getMessage()]
    assert [r.levelno for r in refused] == [logging.WARNING]
    assert all(r.exc_info is None for r in caplog.records)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_signing_secret_without_a_bot_token_is_a_503_not_a_500(
    make_settings: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    body = "command=/cx&text=help"
    env = {"CXBOT_WEB_SECRET": "x", "SLACK_SIGNING_SECRET": SLACK_SECRET}
    async with serving(make_settings("", env)) as server:
        status, text = await post(server, body, slack_headers(body))
    assert status == 503, text
    assert "SLACK_BOT_TOKEN" in json.loads(text)["message"]
    no_trace(caplog)


async def test_slack_out_of_reach_is_a_503_in_one_log_line(
    make_settings: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    # Bolt calls auth.test on the first request; nothing listens at the Web API's address.
    body = "command=/cx&text=help"
    env = {
        "CXBOT_WEB_SECRET": "x",
        "SLACK_SIGNING_SECRET": SLACK_SECRET,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/",
    }
    async with serving(make_settings("", env)) as server:
        status, text = await post(server, body, slack_headers(body))
    assert status == 503, text
    assert json.loads(text)["error"] == "unavailable"
    assert all(r.exc_info is None for r in caplog.records)
    failed = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(failed) == 1 and failed[0].startswith("slack request failed: "), failed


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("[1, 2]", "application/json"),
        ("not json", "application/json"),
        ("payload=%7Bnot+json", "application/x-www-form-urlencoded"),
        ("payload=%5B%5D", "application/x-www-form-urlencoded"),
    ],
)
async def test_a_signed_body_bolt_cannot_parse_is_a_400(
    slack_settings: MakeSettings, caplog: pytest.LogCaptureFixture, body: str, content_type: str
) -> None:
    headers = {**slack_headers(body), "Content-Type": content_type}
    async with serving(slack_settings()) as server:
        status, text = await post(server, body, headers)
    assert status == 400, text
    assert json.loads(text)["error"] == "bad_request"
    assert all(r.exc_info is None for r in caplog.records)

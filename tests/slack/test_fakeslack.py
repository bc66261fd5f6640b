"""The fake Slack answers slack_sdk's real clients the way Slack does, failures included."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.kit.fakeslack import BOT_USER_ID, FakeSlack, Upload, validate_message

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "hello *world*"}}


def client(fake: FakeSlack, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=fake.base_url, **kwargs)


def button(action_id: str, text: str = "Go") -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}}


async def test_auth_test(fake_slack: FakeSlack) -> None:
    resp = await client(fake_slack).auth_test()
    assert (resp["user_id"], resp["team_id"], resp["bot_id"]) == (
        BOT_USER_ID,
        "T0CXBOT01",
        "B0CXBOT01",
    )
    assert fake_slack.calls[0].method == "auth.test"
    assert fake_slack.calls[0].headers["Authorization"] == "Bearer xoxb-test"
    assert fake_slack.base_url.startswith("http://127.0.0.1:")
    assert fake_slack.base_url.endswith("/api/")


async def test_missing_token_is_invalid_auth(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as info:
        await AsyncWebClient(base_url=fake_slack.base_url).chat_postMessage(
            channel="C0001", text="x"
        )
    assert info.value.response["error"] == "invalid_auth"
    assert fake_slack.messages["C0001"] == []


async def test_post_by_name_and_id(fake_slack: FakeSlack) -> None:
    slack = client(fake_slack)
    first = await slack.chat_postMessage(channel="#cx-alerts", text="one", blocks=[SECTION])
    second = await slack.chat_postMessage(channel="C0001", text="two", thread_ts=first["ts"])
    assert (first["channel"], second["channel"]) == ("C0001", "C0001")
    assert float(first["ts"]) < float(second["ts"])  # epoch-time ts, increasing, like Slack
    assert fake_slack.messages["C0001"] == [
        {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": "B0CXBOT01",
            "text": "one",
            "ts": first["ts"],
            "blocks": [SECTION],
        },
        {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": "B0CXBOT01",
            "text": "two",
            "ts": second["ts"],
            "thread_ts": first["ts"],
        },
    ]
    assert first["message"]["blocks"] == [SECTION]
    # slack_sdk sends chat.postMessage as JSON; the call records the decoded body.
    call = fake_slack.calls[0]
    assert call.headers["Content-Type"].startswith("application/json")
    assert call.args == {"channel": "#cx-alerts", "text": "one", "blocks": [SECTION]}
    assert fake_slack.violations == []


async def test_form_encoded_post(fake_slack: FakeSlack) -> None:
    data = {"channel": "cx-weekly", "text": "form", "blocks": json.dumps([SECTION])}
    resp = await client(fake_slack).api_call("chat.postMessage", data=data)
    assert resp["channel"] == "C0002"
    assert fake_slack.calls[0].args == {"channel": "cx-weekly", "text": "form", "blocks": [SECTION]}
    assert fake_slack.messages["C0002"][0]["blocks"] == [SECTION]


async def test_update_replaces_and_records(fake_slack: FakeSlack) -> None:
    slack = client(fake_slack)
    posted = await slack.chat_postMessage(channel="#cx-alerts", text="old", blocks=[SECTION])
    new_blocks = [{"type": "divider"}]
    resp = await slack.chat_update(channel="C0001", ts=posted["ts"], text="new", blocks=new_blocks)
    assert (resp["channel"], resp["ts"], resp["text"]) == ("C0001", posted["ts"], "new")
    message = fake_slack.message("C0001", posted["ts"])
    assert message is not None
    assert (message["text"], message["blocks"]) == ("new", new_blocks)
    assert message["edited"]["user"] == BOT_USER_ID
    assert float(message["edited"]["ts"]) > float(posted["ts"])
    assert len(fake_slack.messages["C0001"]) == 1
    assert fake_slack.updates == [
        {"channel": "C0001", "ts": posted["ts"], "text": "new", "blocks": new_blocks}
    ]
    # Text alone keeps the blocks, as on Slack.
    message = copy.deepcopy(message)
    await slack.chat_update(channel="C0001", ts=posted["ts"], text="newer")
    newer = fake_slack.message("C0001", posted["ts"])
    assert newer is not None
    assert newer == message | {"text": "newer", "edited": newer["edited"]}
    assert float(newer["edited"]["ts"]) > float(message["edited"]["ts"])


async def test_update_errors(fake_slack: FakeSlack) -> None:
    slack = client(fake_slack)
    posted = await slack.chat_postMessage(channel="C0001", text="x")
    errors = []
    for channel, ts in (("C0001", "1.000000"), ("#cx-alerts", posted["ts"])):
        with pytest.raises(SlackApiError) as info:
            await slack.chat_update(channel=channel, ts=ts, text="y")
        errors.append(info.value.response["error"])
    # chat.update wants a channel id: a name is channel_not_found, as on Slack.
    assert errors == ["message_not_found", "channel_not_found"]


async def test_channel_not_found(fake_slack: FakeSlack) -> None:
    slack = client(fake_slack)
    with pytest.raises(SlackApiError) as info:
        await slack.chat_postMessage(channel="#nowhere", text="x")
    assert (info.value.response.status_code, info.value.response["error"]) == (
        200,
        "channel_not_found",
    )
    fake_slack.fail_next(1, "channel_not_found")
    with pytest.raises(SlackApiError) as info:
        await slack.chat_postMessage(channel="#cx-alerts", text="x")
    assert info.value.response["error"] == "channel_not_found"
    assert fake_slack.messages == {"C0001": [], "C0002": []}
    assert [c.failure for c in fake_slack.calls] == [None, "channel_not_found"]


async def test_ratelimited(fake_slack: FakeSlack) -> None:
    slack = client(fake_slack)
    fake_slack.fail_next(1, "ratelimited")
    with pytest.raises(SlackApiError) as info:
        await slack.chat_postMessage(channel="#cx-alerts", text="x")
    response = info.value.response
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert response["error"] == "ratelimited"
    assert fake_slack.messages["C0001"] == []
    await slack.chat_postMessage(channel="#cx-alerts", text="x")  # the next call goes through
    assert len(fake_slack.messages["C0001"]) == 1


async def test_500(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next(1, "500")
    with pytest.raises(SlackApiError) as info:
        await client(fake_slack).chat_postMessage(channel="#cx-alerts", text="x")
    assert info.value.response.status_code == 500
    assert fake_slack.messages["C0001"] == []


async def test_fail_next_for_one_method(fake_slack: FakeSlack) -> None:
    slack = client(fake_slack)
    fake_slack.fail_next(1, "500", method="chat.update")
    await slack.auth_test()
    posted = await slack.chat_postMessage(channel="C0001", text="x")
    with pytest.raises(SlackApiError):
        await slack.chat_update(channel="C0001", ts=posted["ts"], text="y")
    with pytest.raises(ValueError):
        fake_slack.fail_next(1, "teapot")


async def test_drop(fake_slack: FakeSlack) -> None:
    slack = client(fake_slack)
    # slack_sdk's default handlers retry a dropped connection once: two drops reach the caller.
    fake_slack.fail_next(2, "drop")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await slack.chat_postMessage(channel="#cx-alerts", text="x")
    assert fake_slack.messages["C0001"] == []
    fake_slack.fail_next(1, "drop")
    resp = await slack.chat_postMessage(channel="#cx-alerts", text="x")
    assert [m["ts"] for m in fake_slack.messages["C0001"]] == [resp["ts"]]
    assert [c.failure for c in fake_slack.calls] == ["drop", "drop", "drop", None]


async def test_drop_after_posting_duplicates_with_default_retries(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next(1, "drop_after", method="chat.postMessage")
    await client(fake_slack).chat_postMessage(channel="#cx-alerts", text="x")
    # Slack took the first attempt, the client never heard, its retry posted again.
    assert len(fake_slack.messages["C0001"]) == 2


async def test_drop_after_posting_is_findable_in_history(fake_slack: FakeSlack) -> None:
    slack = client(fake_slack, retry_handlers=[])
    metadata = {"event_type": "cxbot_outbox", "event_payload": {"outbox_id": 7}}
    fake_slack.fail_next(1, "drop_after")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await slack.chat_postMessage(channel="#cx-alerts", text="x", metadata=metadata)
    history = await slack.conversations_history(
        channel="C0001", oldest="1699999999.0", include_all_metadata=True, limit=200
    )
    assert [(m["ts"], m["metadata"]) for m in history["messages"]] == [
        (fake_slack.messages["C0001"][0]["ts"], metadata)
    ]
    plain = await slack.conversations_history(channel="C0001")
    assert "metadata" not in plain["messages"][0]


async def test_history_replies_and_list(fake_slack: FakeSlack) -> None:
    slack = client(fake_slack)
    parent = await slack.chat_postMessage(channel="C0001", text="parent")
    await slack.chat_postMessage(channel="C0001", text="reply", thread_ts=parent["ts"])
    await slack.chat_postMessage(channel="C0001", text="later")
    history = await slack.conversations_history(channel="C0001")
    assert [m["text"] for m in history["messages"]] == ["later", "parent"]
    replies = await slack.conversations_replies(channel="C0001", ts=parent["ts"])
    assert [m["text"] for m in replies["messages"]] == ["parent", "reply"]
    listed = await slack.conversations_list(types="public_channel,private_channel")
    assert [(c["name"], c["id"]) for c in listed["channels"]] == [
        ("cx-alerts", "C0001"),
        ("cx-weekly", "C0002"),
    ]


async def test_conversations_info_and_ephemeral(fake_slack: FakeSlack) -> None:
    slack = client(fake_slack)
    info = await slack.conversations_info(channel="C0002")
    assert info["channel"] == {
        "id": "C0002",
        "name": "cx-weekly",
        "is_channel": True,
        "is_member": True,
        "is_archived": False,
        "is_private": False,
    }
    with pytest.raises(SlackApiError) as err:
        await slack.conversations_info(channel="#cx-weekly")
    assert err.value.response["error"] == "channel_not_found"
    resp = await slack.chat_postEphemeral(channel="#cx-alerts", user="U0123ABCD", text="only you")
    assert fake_slack.ephemerals == [
        {"channel": "C0001", "ts": resp["message_ts"], "user": "U0123ABCD", "text": "only you"}
    ]
    assert fake_slack.messages["C0001"] == []


async def test_files_upload_v2(fake_slack: FakeSlack) -> None:
    resp = await client(fake_slack).files_upload_v2(
        channel="C0002", filename="week.png", content=b"\x89PNG...", title="Week 18"
    )
    assert resp["file"] == {"id": "F00000001", "name": "week.png", "title": "Week 18", "size": 7}
    assert fake_slack.uploads == [
        Upload(
            file_id="F00000001",
            filename="week.png",
            length=7,
            data=b"\x89PNG...",
            title="Week 18",
            channel="C0002",
            completed=True,
        )
    ]
    methods = [c.method for c in fake_slack.calls]
    assert methods == ["files.getUploadURLExternal", "files.completeUploadExternal"]


async def test_upload_to_unknown_channel(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as info:
        await client(fake_slack).files_upload_v2(channel="C0404", filename="a.txt", content="a")
    assert info.value.response["error"] == "channel_not_found"
    assert fake_slack.uploads[0].completed is False


async def test_invalid_blocks_rejected(fake_slack: FakeSlack) -> None:
    header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
    with pytest.raises(SlackApiError) as info:
        await client(fake_slack).chat_postMessage(channel="C0001", text="x", blocks=[header])
    assert info.value.response["error"] == "invalid_blocks"
    errors = ["must be less than 151 characters [json-pointer:/blocks/0/text/text]"]
    assert info.value.response["errors"] == errors
    assert [(v.method, v.errors) for v in fake_slack.violations] == [("chat.postMessage", errors)]
    assert fake_slack.messages["C0001"] == []


async def test_too_long_text_and_no_text(fake_slack: FakeSlack) -> None:
    slack = client(fake_slack)
    answers = []
    # api_call: chat_postMessage would warn (an error here) about the missing text itself.
    for body in ({"channel": "C0001", "text": "x" * 40_001}, {"channel": "C0001"}):
        with pytest.raises(SlackApiError) as info:
            await slack.api_call("chat.postMessage", json=body)
        answers.append(info.value.response["error"])
    assert answers == ["msg_too_long", "no_text"]
    await slack.chat_postMessage(channel="C0001", text="x" * 40_000)
    fake_slack.violations.clear()  # the rejection above was the point


async def test_response_url(fake_slack: FakeSlack) -> None:
    hook = AsyncWebhookClient(fake_slack.response_url("click-1"))
    resp = await hook.send(text="done", blocks=[SECTION], replace_original=True)
    assert (resp.status_code, resp.body) == (200, "ok")
    body = {"text": "done", "blocks": [SECTION], "replace_original": True}
    assert fake_slack.responses == [body]
    assert fake_slack.responses_by_name == {"click-1": [body]}
    bad = await hook.send(text="x", blocks=[{"type": "input"}])
    assert (bad.status_code, bad.body) == (400, "invalid_blocks")
    assert len(fake_slack.violations) == 1
    fake_slack.violations.clear()


async def test_wait_for(fake_slack: FakeSlack) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)
        await client(fake_slack).chat_postMessage(channel="C0001", text="late")

    task = asyncio.create_task(later())
    message = await fake_slack.wait_for(lambda: fake_slack.messages["C0001"])
    assert message[0]["text"] == "late"
    await task
    with pytest.raises(TimeoutError, match="chat.postMessage"):
        await fake_slack.wait_for(lambda: fake_slack.messages["C0002"], timeout=0.05)


async def test_custom_channels() -> None:
    async with FakeSlack(channels={"cx-vip": "C0VIP"}, token="xoxb-right") as fake:
        slack = AsyncWebClient(token="xoxb-right", base_url=fake.base_url)
        resp = await slack.chat_postMessage(channel="#cx-vip", text="x")
        assert resp["channel"] == "C0VIP"
        wrong = AsyncWebClient(token="xoxb-wrong", base_url=fake.base_url)
        with pytest.raises(SlackApiError) as info:
            await wrong.chat_postMessage(channel="#cx-vip", text="x")
        assert info.value.response["error"] == "invalid_auth"


def _blocks(*blocks: Any) -> dict[str, Any]:
    return {"text": "fallback", "blocks": list(blocks)}


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        (_blocks(SECTION, {"type": "divider"}), []),
        ({"text": "x" * 40_001}, ["must be less than 40001 characters [json-pointer:/text]"]),
        (
            _blocks(*[{"type": "divider"}] * 51),
            ["must have at most 50 items [json-pointer:/blocks]"],
        ),
        (_blocks({"type": "input"}), ["unknown block type 'input' [json-pointer:/blocks/0/type]"]),
        (
            _blocks({"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}),
            ["must be less than 3001 characters [json-pointer:/blocks/0/text/text]"],
        ),
        (
            _blocks({"type": "section", "text": {"type": "mrkdwn", "text": ""}}),
            ["must be more than 0 characters [json-pointer:/blocks/0/text/text]"],
        ),
        (
            _blocks({"type": "header", "text": {"type": "mrkdwn", "text": "h"}}),
            ["must be plain_text [json-pointer:/blocks/0/text/type]"],
        ),
        (
            _blocks({"type": "context", "elements": [SECTION["text"]] * 11}),
            ["must have at most 10 items [json-pointer:/blocks/0/elements]"],
        ),
        (
            _blocks({"type": "actions", "elements": [button(f"a{i}") for i in range(26)]}),
            ["must have at most 25 items [json-pointer:/blocks/0/elements]"],
        ),
        (
            _blocks({"type": "actions", "elements": [button("a", "B" * 76), button("a")]}),
            [
                "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
                "duplicate action_id 'a' [json-pointer:/blocks/0/elements/1/action_id]",
            ],
        ),
        (
            _blocks(
                {"type": "actions", "elements": [button("x" * 256) | {"value": "v" * 2001}]},
                {"type": "actions", "elements": [button("b") | {"url": "u" * 3001}]},
            ),
            [
                "must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]",
                "must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]",
                "must be less than 3001 characters [json-pointer:/blocks/1/elements/0/url]",
            ],
        ),
        (
            _blocks({"type": "divider", "block_id": "d"}, {"type": "divider", "block_id": "d"}),
            ["duplicate block_id 'd' [json-pointer:/blocks/1/block_id]"],
        ),
        (
            _blocks({"type": "section", "text": {"type": "mrkdwn", "text": "x", "emoji": True}}),
            ["unknown fields ['emoji'] [json-pointer:/blocks/0/text]"],
        ),
        ({"text": "x", "blocks": "[not json"}, ["must be a JSON array [json-pointer:/blocks]"]),
    ],
)
def test_validate_message(payload: dict[str, Any], errors: list[str]) -> None:
    assert validate_message(payload) == errors

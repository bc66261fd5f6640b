"""Replying from Slack end to end, through the real app: a signed Zendesk delivery alerts, the
Reply button opens the modal (views.open in the fake Slack), the signed view_submission records
the reply, the outbox sends exactly one public comment to the fake Zendesk on loopback, the
reply row is `sent` with Zendesk's comment id and the alert message says "Replied by"."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio

from cxbot.replies.figures import reply_figures
from cxbot.replies.records import alerted_with_first_reply
from tests.kit.fakereplies import FakeReplyAPI
from tests.kit.fakereviews import Failure
from tests.kit.fakeslack import FakeSlack, Json
from tests.kit.postgres import Engine
from tests.kit.support import MakeSettings, Server, serving, slack_env
from tests.replies.flow import (
    TICKETS,
    ZD_ENV,
    click_reply,
    comment_event,
    post_zendesk,
    reply_button,
    rows,
    send,
    until,
    zendesk_toml,
)

pytestmark = pytest.mark.usefixtures("blockbuster")


@pytest_asyncio.fixture
async def provider() -> AsyncIterator[FakeReplyAPI]:
    async with FakeReplyAPI() as fake:
        yield fake


async def alerted(server: Server, fake_slack: FakeSlack, ticket: str = "4471") -> Json:
    event = comment_event(ticket, f"{ticket}01", "The parcel never came and nobody answers")
    assert await post_zendesk(server, event) == 200
    await fake_slack.wait_for(lambda: fake_slack.messages["C0001"], timeout=20)
    return dict(fake_slack.messages["C0001"][0])


async def open_modal(server: Server, fake_slack: FakeSlack, message: Json) -> Json:
    button = reply_button(message)
    assert button is not None, message["blocks"]
    assert await click_reply(server, fake_slack, message, int(button["value"])) == 200
    await fake_slack.wait_for(lambda: fake_slack.views)
    return fake_slack.views[-1]


def replied_line(message: Json | None) -> bool:
    return message is not None and "Replied by <@U111>" in json.dumps(message.get("blocks"))


async def test_reply_from_slack_sends_one_public_comment_and_updates_the_alert(
    engine: Engine, make_settings: MakeSettings, fake_slack: FakeSlack, provider: FakeReplyAPI
) -> None:
    env = {**slack_env(fake_slack), **engine.env(), **ZD_ENV}
    settings = make_settings(zendesk_toml(provider.root) + TICKETS, env)
    async with serving(settings) as server:
        message = await alerted(server, fake_slack)
        view = await open_modal(server, fake_slack, message)
        assert view["callback_id"] == "cx_reply_modal"
        assert "The parcel never came" in json.dumps(view["blocks"])  # the customer, quoted
        [call] = [c for c in fake_slack.calls if c.method == "views.open"]
        assert call.args["trigger_id"].startswith("13345224609.")
        assert provider.replies == []  # nothing is sent before Send

        text = "Hi Nora,\n\nA new parcel left today; tracking follows by e-mail."
        assert await send(server, view, text) == (200, None)  # ack: the modal closes
        await until(lambda: rows(engine, "SELECT status FROM replies") == [("sent",)])
        [sent] = provider.replies
        assert (sent.method, sent.path) == ("PUT", "/api/v2/tickets/4471.json")
        assert sent.headers["Authorization"].startswith("Basic ")
        assert sent.body == {"ticket": {"comment": {"body": text, "public": True}}}
        [(author, provider_id, sent_at, draft_key)] = rows(
            engine, "SELECT author, provider_reply_id, sent_at, draft_key FROM replies"
        )
        assert author == "U111" and provider_id == "9001" and sent_at
        assert json.loads(view["private_metadata"])["draft"] == draft_key

        await fake_slack.wait_for(lambda: replied_line(fake_slack.message("C0001", message["ts"])))

        # The closed-loop figures read it back on this engine (digest and /cx summary).
        def loop() -> Any:
            found = alerted_with_first_reply(engine.connect(), "2000", "2100", "1 = 1", [])
            return reply_figures(found, datetime.now(UTC))

        figures = await asyncio.to_thread(loop)
        assert (figures.alerted, figures.replied, figures.share) == (1, 1, 1.0)
        assert figures.median_seconds is not None and figures.median_seconds < 60

        # A second Send of the same draft (a double submit) sends nothing more.
        assert await send(server, view, text) == (200, None)
        await until(
            lambda: rows(engine, "SELECT count(*) FROM outbox WHERE status = 'pending'") == [(0,)]
        )
        assert len(provider.replies) == 1
        assert rows(engine, "SELECT count(*) FROM replies") == [(1,)]
        assert rows(engine, "SELECT count(*) FROM outbox WHERE kind = 'reply'") == [(1,)]
    assert fake_slack.violations == []


@pytest.fixture
def zd_settings(make_settings: MakeSettings, fake_slack: FakeSlack, provider: FakeReplyAPI) -> Any:
    return make_settings(zendesk_toml(provider.root) + TICKETS, {**slack_env(fake_slack), **ZD_ENV})


async def test_a_provider_500_is_retried_and_the_reply_sent_once(
    zd_settings: Any, fake_slack: FakeSlack, provider: FakeReplyAPI, tmp_path: Any
) -> None:
    provider.fail_replies.append(Failure(500, body={"error": "InternalError"}))
    async with serving(zd_settings) as server:
        message = await alerted(server, fake_slack)
        view = await open_modal(server, fake_slack, message)
        assert await send(server, view, "Sorted, sorry!") == (200, None)
        engine = Engine("sqlite", zd_settings.db_path)
        await until(lambda: rows(engine, "SELECT status FROM replies") == [("sent",)])
        assert [r.path for r in provider.replies] == ["/api/v2/tickets/4471.json"] * 2
        [(attempts, status)] = rows(
            engine, "SELECT attempts, status FROM outbox WHERE kind = 'reply'"
        )
        assert (attempts, status) == (1, "sent")
        await fake_slack.wait_for(lambda: replied_line(fake_slack.message("C0001", message["ts"])))


async def test_a_provider_422_is_an_error_told_in_the_thread_and_not_resent(
    zd_settings: Any, fake_slack: FakeSlack, provider: FakeReplyAPI
) -> None:
    refusal = {"error": "RecordInvalid", "description": "Record validation errors"}
    provider.fail_replies.append(Failure(422, body=refusal))
    async with serving(zd_settings) as server:
        message = await alerted(server, fake_slack)
        view = await open_modal(server, fake_slack, message)
        assert await send(server, view, "Sorted, sorry!") == (200, None)
        engine = Engine("sqlite", zd_settings.db_path)
        await until(lambda: rows(engine, "SELECT status FROM replies") == [("error",)])
        [(error,)] = rows(engine, "SELECT error FROM replies")
        assert error == "HTTP 422: RecordInvalid: Record validation errors"

        def note() -> Json | None:
            return next((m for m in fake_slack.messages["C0001"]
                         if m.get("thread_ts") == message["ts"]), None)  # fmt: skip

        told = await fake_slack.wait_for(note)
        assert "<@U111>" in told["text"] and "RecordInvalid" in told["text"]
        assert await send(server, view, "Sorted, sorry!") == (200, None)  # same draft again
        await until(
            lambda: rows(engine, "SELECT count(*) FROM outbox WHERE status = 'pending'") == [(0,)]
        )
        assert len(provider.replies) == 1
        assert not replied_line(fake_slack.message("C0001", message["ts"]))
    assert fake_slack.violations == []


async def test_bad_drafts_and_a_changed_ticket_are_refused_in_the_modal(
    zd_settings: Any, fake_slack: FakeSlack, provider: FakeReplyAPI
) -> None:
    async with serving(zd_settings) as server:
        message = await alerted(server, fake_slack)
        view = await open_modal(server, fake_slack, message)
        status, answer = await send(server, view, "   ")
        assert status == 200 and answer["response_action"] == "errors"
        assert "empty" in answer["errors"]["reply"]
        status, answer = await send(server, view, "x" * 3001)
        assert "Too long" in answer["errors"]["reply"]
        # The customer writes again on the ticket after the draft was opened.
        again = comment_event("4471", "447102", "Hello? Anyone there?")
        assert await post_zendesk(server, again) == 200
        engine = Engine("sqlite", zd_settings.db_path)
        await until(lambda: rows(engine, "SELECT count(*) FROM signals") == [(2,)])
        status, answer = await send(server, view, "Sorted, sorry!")
        assert "changed after you opened this draft" in answer["errors"]["reply"]
        assert provider.replies == []
        assert rows(engine, "SELECT count(*) FROM replies") == [(0,)]


async def test_sources_without_reply_credentials_show_no_reply_button(
    make_settings: MakeSettings, fake_slack: FakeSlack, provider: FakeReplyAPI
) -> None:
    toml = zendesk_toml(provider.root, with_keys=False) + TICKETS
    settings = make_settings(toml, {**slack_env(fake_slack), "ZD_SECRET": ZD_ENV["ZD_SECRET"]})
    async with serving(settings) as server:
        message = await alerted(server, fake_slack)
        assert reply_button(message) is None
        actions = [e["action_id"] for b in message["blocks"] if b["type"] == "actions"
                   for e in b["elements"]]  # fmt: skip
        assert "cx_reply" not in actions and {"cx_ack", "cx_resolve"} <= set(actions)
        # A forged click on a signal of such a source opens nothing.
        assert await click_reply(server, fake_slack, message, 1) == 200
        assert fake_slack.views == []

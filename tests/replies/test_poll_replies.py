"""Replies to polled reviews, end to end: App Store Connect (`customerReviewResponses`, with
the poller's own ES256 JWT) and Google Play (`reviews.reply`, with the poller's service-account
token). The first poll backfills quietly; a new 1-star review alerts, Reply → Send, and the
fake provider (the same host as the poll, as for real) gets exactly one reply."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric import ec

from tests.kit.fakereplies import ReplyingAppStore, ReplyingGoogle
from tests.kit.fakereviews import asc_review, new_p8_key, new_service_account, play_review
from tests.kit.fakeslack import FakeSlack, Json
from tests.kit.postgres import Engine
from tests.kit.support import BAD_REVIEW_RULE, MakeSettings, Server, serving, slack_env
from tests.replies.flow import click_reply, reply_button, rows, send, until

pytestmark = pytest.mark.usefixtures("blockbuster")


@pytest.fixture(scope="module")
def p8() -> tuple[str, ec.EllipticCurvePublicKey]:
    return new_p8_key()


@pytest_asyncio.fixture
async def asc(p8: tuple[str, ec.EllipticCurvePublicKey]) -> AsyncIterator[ReplyingAppStore]:
    async with ReplyingAppStore(p8[1]) as fake:
        yield fake


@pytest_asyncio.fixture
async def google() -> AsyncIterator[tuple[ReplyingGoogle, str]]:
    async with ReplyingGoogle() as fake:
        key_json, public = new_service_account(fake.token_url)
        fake.public_key = public
        yield fake, key_json


def backfilled(engine: Engine, source: str) -> bool:
    found = rows(engine, f"SELECT cursor FROM poll_cursors WHERE source = '{source}'")
    return bool(found and json.loads(found[0][0]).get("backfilled"))


async def reply_to_the_alert(server: Server, fake_slack: FakeSlack, text: str) -> Json:
    await fake_slack.wait_for(lambda: fake_slack.messages["C0001"], timeout=30)
    message = fake_slack.messages["C0001"][0]
    button = reply_button(message)
    assert button is not None, message["blocks"]
    assert await click_reply(server, fake_slack, message, int(button["value"])) == 200
    await fake_slack.wait_for(lambda: fake_slack.views)
    assert await send(server, fake_slack.views[-1], text) == (200, None)
    return dict(message)


def replied(fake_slack: FakeSlack, message: Json) -> bool:
    now = fake_slack.message("C0001", message["ts"])
    return now is not None and "Replied by <@U111>" in json.dumps(now.get("blocks"))


async def test_app_store_review_gets_a_developer_response(
    engine: Engine,
    make_settings: MakeSettings,
    fake_slack: FakeSlack,
    asc: ReplyingAppStore,
    p8: tuple[str, ec.EllipticCurvePublicKey],
) -> None:
    toml = f"""
[sources.ios]
type = "app_store"
app_id = "{asc.app_id}"
key_id = "{asc.key_id}"
issuer_id = "{asc.issuer}"
private_key_env = "ASC_KEY"
api_url = "{asc.api_url}"
interval = "1s"
"""
    env = {**slack_env(fake_slack), **engine.env(), "ASC_KEY": p8[0]}
    async with serving(make_settings(toml + BAD_REVIEW_RULE, env)) as server:
        await until(lambda: backfilled(engine, "ios"), 30)
        review = asc_review(9, 1, "2026-12-01T09:00:00Z", body="Crashes when I open my basket")
        asc.reviews.insert(0, review)
        message = await reply_to_the_alert(server, fake_slack, "Fixed in 5.2.1, out today.")
        await until(lambda: rows(engine, "SELECT status FROM replies") == [("sent",)], 30)
        [sent] = asc.replies
        assert (sent.method, sent.path) == ("POST", "/v1/customerReviewResponses")
        assert sent.headers["Authorization"].startswith("Bearer ")  # checked ES256 by the fake
        assert sent.body == {"data": {"type": "customerReviewResponses",
                                      "attributes": {"responseBody": "Fixed in 5.2.1, out today."},
                                      "relationships": {"review": {"data": {
                                          "type": "customerReviews", "id": review["id"]}}}}}  # fmt: skip
        assert rows(engine, "SELECT provider_reply_id FROM replies") == [("resp-1",)]
        await fake_slack.wait_for(lambda: replied(fake_slack, message))
    assert fake_slack.violations == []


async def test_google_play_review_gets_a_reply(
    make_settings: MakeSettings, fake_slack: FakeSlack, google: tuple[ReplyingGoogle, str]
) -> None:
    fake, key_json = google
    toml = f"""
[sources.android]
type = "google_play"
package_name = "com.example.shop"
credentials_env = "PLAY_KEY"
api_url = "{fake.root}"
token_url = "{fake.token_url}"
interval = "1s"
"""
    settings = make_settings(
        toml + BAD_REVIEW_RULE, {**slack_env(fake_slack), "PLAY_KEY": key_json}
    )
    engine = Engine("sqlite", settings.db_path)
    async with serving(settings) as server:
        await until(lambda: backfilled(engine, "android"), 30)
        fake.play.insert(
            0, play_review(7, 1, int(time.time()), text="Checkout\tFreezes every time")
        )
        message = await reply_to_the_alert(server, fake_slack, "Thanks! Fixed in 5.3.")
        await until(lambda: rows(engine, "SELECT status FROM replies") == [("sent",)], 30)
        [sent] = fake.replies
        assert sent.method == "POST"
        assert sent.path == "/androidpublisher/v3/applications/com.example.shop/reviews/gp:7:reply"
        assert sent.headers["Authorization"].startswith("Bearer ya29.fake-")
        assert sent.body == {"replyText": "Thanks! Fixed in 5.3."}
        assert rows(engine, "SELECT provider_reply_id FROM replies") == [("gp:7",)]
        await fake_slack.wait_for(lambda: replied(fake_slack, message))
        # Over Google's 350 characters: refused in the modal, nothing sent.
        status, answer = await send(server, fake_slack.views[-1] | {"private_metadata": json.dumps(
            {**json.loads(fake_slack.views[-1]["private_metadata"]), "draft": "another-draft-key"})},
            "x" * 351)  # fmt: skip
        assert "at most 350" in answer["errors"]["reply"]
        assert len(fake.replies) == 1
    assert fake_slack.violations == []

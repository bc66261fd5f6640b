"""The reply HTTP layer against the fake provider APIs on loopback: one call per provider not
covered end to end (Intercom, Help Scout, Trustpilot, Business Profile), tokens exchanged once
and reused, and the outcomes: 2xx → the reply id, 429/5xx → RetryLater, 4xx → Refused."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from pydantic import SecretStr

from cxbot.replies import google_business, helpscout, intercom, trustpilot, zendesk
from cxbot.replies.clients import ReplySource
from cxbot.replies.http import Refused, ReplyHttp
from cxbot.slack.sinks import RetryLater
from cxbot.sources import google_business as gbp_source
from tests.kit.fakereplies import FakeReplyAPI
from tests.kit.fakereviews import Failure, new_service_account

pytestmark = pytest.mark.usefixtures("blockbuster")


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeReplyAPI]:
    async with FakeReplyAPI() as api:
        yield api


@pytest_asyncio.fixture
async def http() -> AsyncIterator[ReplyHttp]:
    client = ReplyHttp(timeout=5)
    yield client
    await client.close()


async def test_intercom_reply_part_id(fake: FakeReplyAPI, http: ReplyHttp) -> None:
    source = ReplySource("ic", intercom.CLIENT, {"api_token": "it", "admin_id": "42",
                                                  "api_url": fake.root})  # fmt: skip
    signal = {"thread_key": "215", "metadata": "{}"}
    assert await http.send(source, signal, "215", "On its way") == "7001"
    [call] = fake.replies
    assert (call.method, call.path) == ("POST", "/conversations/215/reply")
    assert call.headers["Authorization"] == "Bearer it"
    assert call.headers["Intercom-Version"] == "2.14"
    assert call.body == {"message_type": "comment", "type": "admin", "admin_id": "42",
                         "body": "<p>On its way</p>"}  # fmt: skip


async def test_helpscout_token_exchanged_once_and_thread_id_from_the_header(
    fake: FakeReplyAPI, http: ReplyHttp
) -> None:
    options = {"app_id": "app", "app_secret": "sec", "api_url": fake.root,
               "token_url": fake.root + "/v2/oauth2/token"}  # fmt: skip
    source = ReplySource("hs", helpscout.CLIENT, options)
    signal = {"thread_key": "29", "metadata": '{"customer_id": "55"}'}
    assert await http.send(source, signal, "29", "Refund sent") == "8001"
    assert await http.send(source, signal, "29", "And a voucher") == "8002"
    assert fake.tokens_issued == 1  # reused until it nears its expiry
    assert fake.token_forms[0]["grant_type"] == "client_credentials"
    assert fake.token_forms[0]["client_id"] == "app"
    assert [c.headers["Authorization"] for c in fake.replies] == ["Bearer tok-1"] * 2
    assert fake.replies[0].body == {"customer": {"id": 55}, "text": "Refund sent"}


async def test_trustpilot_client_credentials_and_an_undocumented_answer(
    fake: FakeReplyAPI, http: ReplyHttp
) -> None:
    options = {"api_key": "k", "api_secret": "s", "business_user_id": "507f",
               "api_url": fake.root,
               "token_url": fake.root + "/v1/oauth/oauth-business-users-for-applications/accesstoken"}  # fmt: skip
    source = ReplySource("tp", trustpilot.CLIENT, options)
    assert await http.send(source, {"thread_key": "rev1"}, "rev1", "Sorry!") is None
    assert fake.token_forms[0]["authorization"] == "Basic " + base64.b64encode(b"k:s").decode()
    [call] = fake.replies
    assert call.path == "/v1/private/reviews/rev1/reply"
    assert call.body == {"message": "Sorry!", "authorBusinessUserId": "507f"}


async def test_business_profile_update_reply_keeps_the_review_name(
    fake: FakeReplyAPI, http: ReplyHttp
) -> None:
    key, _ = new_service_account(fake.root + "/token")
    options = gbp_source.Options(type="google_business", account="111", location="222",
                                 credentials_env="G", credentials=SecretStr(key),
                                 token_url=fake.root + "/token", api_url=fake.root)  # fmt: skip
    source = ReplySource("gbp", google_business.CLIENT, options)
    name = "accounts/111/locations/222/reviews/r1"
    assert await http.send(source, {"external_id": name}, name, "Merci !") == name
    [call] = fake.replies
    assert (call.method, call.path) == ("PUT", f"/v4/{name}/reply")
    assert call.headers["Authorization"] == "Bearer tok-1"
    assert call.body == {"comment": "Merci !"}


def zd(fake: FakeReplyAPI) -> ReplySource:
    options = {"api_email": "a@b.c", "api_token": "t", "api_url": fake.root}
    return ReplySource("zd", zendesk.CLIENT, options)


async def test_rate_limits_and_server_errors_are_retried_later(
    fake: FakeReplyAPI, http: ReplyHttp
) -> None:
    fake.fail_replies += [Failure(429, {"Retry-After": "7"}), Failure(503)]
    with pytest.raises(RetryLater) as limited:
        await http.send(zd(fake), {"thread_key": "1"}, "1", "x")
    assert limited.value.delay == 7
    with pytest.raises(RetryLater):
        await http.send(zd(fake), {"thread_key": "1"}, "1", "x")
    assert await http.send(zd(fake), {"thread_key": "1"}, "1", "x") == "9003"


async def test_a_client_error_is_refused_with_the_providers_reason(
    fake: FakeReplyAPI, http: ReplyHttp
) -> None:
    fake.fail_replies.append(
        Failure(404, body={"error": "RecordNotFound", "description": "Not found"})
    )
    with pytest.raises(Refused) as refused:
        await http.send(zd(fake), {"thread_key": "1"}, "1", "x")
    assert refused.value.reason == "HTTP 404: RecordNotFound: Not found"


async def test_an_unreachable_provider_is_retried_later(http: ReplyHttp) -> None:
    source = ReplySource("zd", zendesk.CLIENT, {"api_email": "a", "api_token": "t",
                                                "api_url": "http://127.0.0.1:9"})  # fmt: skip
    with pytest.raises(RetryLater) as later:
        await http.send(source, {"thread_key": "1"}, "1", "x")
    assert later.value.ambiguous is False  # refused at connect: it never got there

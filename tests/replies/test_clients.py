"""The reply clients, pure: each provider's request against the shape its SPEC documents
(method, path, auth scheme, body fields), written out here by hand, and its answer read back."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest
from pydantic import SecretStr

from cxbot.replies import (
    app_store,
    google_business,
    google_play,
    helpscout,
    intercom,
    trustpilot,
    zendesk,
)
from cxbot.replies.base import Minted, short_reason
from cxbot.sources import app_store as asc_source
from cxbot.sources import google_business as gbp_source
from cxbot.sources import google_play as play_source
from cxbot.sources.polling import TokenRequest
from tests.kit.fakereviews import new_p8_key, new_service_account


def signal(**fields: Any) -> dict[str, Any]:
    return {"source": "s", "external_id": "e1", "thread_key": None, "metadata": "{}", **fields}


def test_zendesk_public_comment_with_basic_token_auth() -> None:
    options = {"subdomain": "acme", "api_email": "bot@acme.com", "api_token": "zt"}
    assert zendesk.CLIENT.configured(options)
    assert not zendesk.CLIENT.configured({"subdomain": "acme", "api_email": "bot@acme.com"})
    sig = signal(external_id="c9", thread_key="4471")
    assert zendesk.CLIENT.target(sig) == "4471"
    assert zendesk.CLIENT.auth(options, 0) is None
    req = zendesk.CLIENT.build(options, sig, "4471", "We are on it.", None)
    assert (req.method, req.url) == ("PUT", "https://acme.zendesk.com/api/v2/tickets/4471.json")
    expected = "Basic " + base64.b64encode(b"bot@acme.com/token:zt").decode()
    assert req.headers["Authorization"] == expected
    assert req.body == {"ticket": {"comment": {"body": "We are on it.", "public": True}}}
    answer = {"ticket": {"id": 4471}, "audit": {"id": 1, "events": [
        {"type": "Change", "id": 5}, {"type": "Comment", "id": 9123, "public": True}]}}  # fmt: skip
    assert zendesk.CLIENT.read({}, json.dumps(answer).encode()) == "9123"
    proxied = zendesk.CLIENT.build(
        {**options, "api_url": "http://127.0.0.1:9/"}, sig, "1", "x", None
    )
    assert proxied.url == "http://127.0.0.1:9/api/v2/tickets/1.json"


def test_intercom_admin_comment_with_bearer_and_version() -> None:
    options = {"api_token": "it", "admin_id": "814860"}
    assert intercom.CLIENT.configured(options) and not intercom.CLIENT.configured(
        {"api_token": "it"}
    )
    sig = signal(thread_key="215", metadata=json.dumps({"topic": "conversation.user.replied"}))
    assert intercom.CLIENT.target(sig) == "215"
    ticket = signal(thread_key="3", metadata=json.dumps({"topic": "ticket.contact.replied"}))
    assert intercom.CLIENT.target(ticket) is None  # a ticket is not a conversation
    req = intercom.CLIENT.build(options, sig, "215", "Hi <b>Ann</b>,\n\nFixed & shipped.", None)
    assert (req.method, req.url) == ("POST", "https://api.intercom.io/conversations/215/reply")
    assert req.headers["Authorization"] == "Bearer it"
    assert req.headers["Intercom-Version"] == "2.14"
    assert req.body == {"message_type": "comment", "type": "admin", "admin_id": "814860",
                        "body": "<p>Hi &lt;b&gt;Ann&lt;/b&gt;,</p><p>Fixed &amp; shipped.</p>"}  # fmt: skip
    answer = {"type": "conversation", "id": "215", "conversation_parts": {
        "conversation_parts": [{"id": "7001", "part_type": "comment"}]}}  # fmt: skip
    assert intercom.CLIENT.read({}, json.dumps(answer).encode()) == "7001"


def test_helpscout_reply_thread_with_client_credentials() -> None:
    options = {"app_id": "app", "app_secret": "sec"}
    assert helpscout.CLIENT.configured(options)
    sig = signal(thread_key="2900112233", metadata=json.dumps({"customer_id": "55001122"}))
    assert helpscout.CLIENT.target(sig) == "2900112233"
    assert helpscout.CLIENT.target(signal(thread_key="29")) is None  # no customer to address
    auth = helpscout.CLIENT.auth(options, 0)
    assert auth == TokenRequest(
        "https://api.helpscout.net/v2/oauth2/token",
        {"grant_type": "client_credentials", "client_id": "app", "client_secret": "sec"},
    )
    req = helpscout.CLIENT.build({**options, "user_id": "4401"}, sig, "2900112233", "Done.", "hs")
    assert req.method == "POST"
    assert req.url == "https://api.helpscout.net/v2/conversations/2900112233/reply"
    assert req.headers["Authorization"] == "Bearer hs"
    assert req.body == {"customer": {"id": 55001122}, "text": "Done.", "user": 4401}
    assert helpscout.CLIENT.read({"Resource-ID": "8001"}, b"") == "8001"
    assert helpscout.CLIENT.auth({"api_token": "t"}, 0) is None  # a token of your own


def test_trustpilot_review_reply_with_business_token() -> None:
    options = {"api_key": "k", "api_secret": "s", "business_user_id": "507f191e810c19729de860ea"}
    assert trustpilot.CLIENT.configured(options)
    auth = trustpilot.CLIENT.auth(options, 0)
    assert isinstance(auth, TokenRequest) and auth.form == {"grant_type": "client_credentials"}
    assert auth.url.endswith("/v1/oauth/oauth-business-users-for-applications/accesstoken")
    assert auth.headers["Authorization"] == "Basic " + base64.b64encode(b"k:s").decode()
    sig = signal(thread_key="6523a9f0c2")
    req = trustpilot.CLIENT.build(options, sig, "6523a9f0c2", "Sorry to hear it.", "tp")
    assert req.method == "POST"
    assert req.url == "https://api.trustpilot.com/v1/private/reviews/6523a9f0c2/reply"
    assert req.headers["Authorization"] == "Bearer tp"
    assert req.body == {"message": "Sorry to hear it.",
                        "authorBusinessUserId": "507f191e810c19729de860ea"}  # fmt: skip
    assert trustpilot.CLIENT.read({}, b"") is None  # undocumented answer: success, no id


def test_app_store_response_reuses_the_pollers_jwt() -> None:
    pem, public = new_p8_key()
    options = asc_source.Options(
        type="app_store", app_id="682658836", key_id="2X9R4HXF34", issuer_id="iss",
        private_key_env="K", private_key=SecretStr(pem), api_url="http://127.0.0.1:1",
    )  # fmt: skip
    auth = app_store.CLIENT.auth(options, 1_764_000_000)
    assert isinstance(auth, Minted) and auth.expires == 1_764_000_000 + 900
    claims = jwt.decode(auth.token, public, algorithms=["ES256"], audience="appstoreconnect-v1",
                        options={"verify_exp": False, "verify_iat": False})  # fmt: skip
    assert claims["iss"] == "iss"
    req = app_store.CLIENT.build(options, signal(external_id="r-1"), "r-1", "Fixed in 2.1", "jw")
    assert (req.method, req.url) == ("POST", "http://127.0.0.1:1/v1/customerReviewResponses")
    assert req.headers["Authorization"] == "Bearer jw"
    assert req.body == {"data": {"type": "customerReviewResponses",
                                 "attributes": {"responseBody": "Fixed in 2.1"},
                                 "relationships": {"review": {"data": {
                                     "type": "customerReviews", "id": "r-1"}}}}}  # fmt: skip
    assert (
        app_store.CLIENT.read({}, b'{"data": {"type": "customerReviewResponses", "id": "x9"}}')
        == "x9"
    )


def google_options(model: Any, **extra: Any) -> Any:
    key, _ = new_service_account("http://127.0.0.1:1/token")
    return model.Options(type=model.POLLER.name, credentials_env="G", credentials=SecretStr(key),
                         token_url="http://127.0.0.1:1/token", api_url="http://127.0.0.1:2",
                         **extra)  # fmt: skip


def test_google_play_reply_with_the_service_account_token() -> None:
    options = google_options(play_source, package_name="com.example.app")
    auth = google_play.CLIENT.auth(options, 1_764_000_000)
    assert isinstance(auth, TokenRequest) and auth.url == "http://127.0.0.1:1/token"
    assert auth.form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(auth.form["assertion"], options={"verify_signature": False})
    assert claims["scope"] == "https://www.googleapis.com/auth/androidpublisher"
    req = google_play.CLIENT.build(options, signal(external_id="gp:1"), "gp:1", "Thanks!", "ya")
    assert req.method == "POST"
    assert req.url == (
        "http://127.0.0.1:2/androidpublisher/v3/applications/com.example.app/reviews/gp%3A1:reply"
    )
    assert req.headers["Authorization"] == "Bearer ya"
    assert req.body == {"replyText": "Thanks!"}
    assert google_play.CLIENT.max_chars == 350 and google_play.CLIENT.keeps_target


def test_business_profile_update_reply() -> None:
    options = google_options(gbp_source, account="111", location="222")
    auth = google_business.CLIENT.auth(options, 1_764_000_000)
    assert isinstance(auth, TokenRequest)
    claims = jwt.decode(auth.form["assertion"], options={"verify_signature": False})
    assert claims["scope"] == "https://www.googleapis.com/auth/business.manage"
    name = "accounts/111/locations/222/reviews/r7"
    req = google_business.CLIENT.build(options, signal(external_id=name), name, "Merci", "ya")
    assert (req.method, req.url) == ("PUT", f"http://127.0.0.1:2/v4/{name}/reply")
    assert req.body == {"comment": "Merci"}
    bare = google_business.CLIENT.build(options, signal(external_id="r8"), "r8", "x", "ya")
    assert bare.url == "http://127.0.0.1:2/v4/accounts/111/locations/222/reviews/r8/reply"


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (422, {"error": "RecordInvalid", "description": "Record validation errors"},
         "HTTP 422: RecordInvalid: Record validation errors"),
        (404, {"type": "error.list", "errors": [{"code": "not_found", "message": "Resource Not Found"}]},
         "HTTP 404 not_found: Resource Not Found"),
        (409, {"errors": [{"status": "409", "code": "ENTITY_ERROR", "title": "t", "detail": "Already"}]},
         "HTTP 409 ENTITY_ERROR: Already"),
        (400, {"error": {"code": 400, "message": "Reply too long", "status": "INVALID_ARGUMENT"}},
         "HTTP 400: Reply too long"),
        (403, "<html>no</html>", "HTTP 403"),
    ],
)  # fmt: skip
def test_short_reasons(status: int, body: Any, reason: str) -> None:
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    assert short_reason(status, raw) == reason

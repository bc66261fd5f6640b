"""Front adapter: rule webhooks (SHA-1), application webhooks (SHA-256 + timestamp), challenge."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxbot.errors import BadRequest, Unauthorized
from cxbot.models import Author, Signal
from cxbot.sources import front
from cxbot.sources.base import Credentials, Delivery, HandshakeReply, Parsed
from cxbot.sources.front import challenge_reply, verify
from tests.kit import providers as kit
from tests.kit.fuzz import FINITE, json_values, scalars

API_SECRET = "front-company-api-secret"
APP_KEY = "front-app-signing-key"
NOW = 1791104400.0
TS_MS = "1791104395123"  # 4.877 s before NOW

raw = partial(kit.raw, "front")
sign_rule = kit.Hmac(API_SECRET, "sha1", "base64", header="x-front-signature")  # over the body
sign_app = kit.Hmac(APP_KEY, "sha256", "base64")  # over `{timestamp}:{body}`


def rule_delivery(body: bytes, secret: str = API_SECRET) -> Delivery:
    return Delivery(body=body, headers=sign_rule.headers(body, secret), now=NOW)


def app_delivery(body: bytes, ts: str = TS_MS, now: float = NOW, **extra: str) -> Delivery:
    signature = sign_app(ts.encode() + b":" + body)
    headers = {"x-front-signature": signature, "x-front-request-timestamp": ts, **extra}
    return Delivery(body=body, headers=headers, now=now)


def checked(d: Delivery, secret: str) -> Parsed:
    creds = Credentials(secret=secret)
    verify(d, creds)
    return front.parse(d, creds)


# --- rule webhooks ---------------------------------------------------------------------------


def test_rule_inbound_message() -> None:
    parsed = checked(rule_delivery(raw("rule_inbound.json")), API_SECRET)
    assert parsed.signals == [
        Signal(
            external_id="msg_3hb8w1r",
            kind="ticket",
            text="Aboneliğimi iptal etmek istiyorum.\nÜcret iadesi de bekliyorum.",
            title="Abonelik iptali",
            author=Author(name="Selin Arslan", email="selin.arslan@example.com.tr"),
            url="https://app.frontapp.com/open/cnv_7yq3zt",
            created_at=datetime(2026, 10, 4, 7, 59, 59, 500000, tzinfo=UTC),
            channel="email",
            thread_key="cnv_7yq3zt",
            metadata={"event_id": "evt_9k2m4p", "inbox": "Destek"},
        )
    ]
    assert (parsed.event_id, parsed.event_type, parsed.ping) == ("evt_9k2m4p", "inbound", False)


def test_outbound_reply_stores_nothing() -> None:
    parsed = checked(rule_delivery(raw("rule_outbound_reply.json")), API_SECRET)
    assert (parsed.signals, parsed.errors, parsed.event_type) == ([], [], "out_reply")


def test_event_preview_without_text_is_a_clear_400() -> None:
    event = json.loads(raw("rule_inbound.json"))
    event["target"]["data"] = {"_links": {}, "id": "msg_3hb8w1r"}
    with pytest.raises(BadRequest, match="event preview"):
        checked(rule_delivery(json.dumps(event).encode()), API_SECRET)


def test_rule_signature_one_changed_byte_fails() -> None:
    body = raw("rule_inbound.json")
    d = rule_delivery(body)
    tampered = Delivery(body=body.replace(b"msg_3hb8w1r", b"msg_3hb8w1s", 1), headers=d.headers)
    with pytest.raises(Unauthorized, match="signature does not match"):
        verify(tampered, Credentials(secret=API_SECRET))


def test_rule_signature_with_wrong_secret_fails() -> None:
    with pytest.raises(Unauthorized):
        verify(rule_delivery(raw("rule_inbound.json"), "nope"), Credentials(secret=API_SECRET))


# --- application webhooks --------------------------------------------------------------------


def test_app_inbound_received_unwraps_the_payload() -> None:
    parsed = checked(app_delivery(raw("app_inbound_received.json")), APP_KEY)
    assert [s.model_dump() for s in parsed.signals] == [
        {
            "external_id": "msg_4kk2mm",
            "kind": "ticket",
            "text": "Siparişim hâlâ yok 😡 & kimse aramadı",  # from the HTML body: text was null
            "title": None,
            "rating": None,
            "score": None,
            "score_type": None,
            "author": {"name": None, "email": None, "handle": "+905551112233"},
            "url": "https://app.frontapp.com/open/cnv_8zz1aa",
            "created_at": datetime(2026, 10, 4, 8, 59, 59, tzinfo=UTC),
            "channel": "sms",
            "thread_key": "cnv_8zz1aa",
            "metadata": {"event_id": "evt_2b7c9d", "inbox": "SMS"},
        }
    ]
    assert (parsed.event_id, parsed.event_type) == ("evt_2b7c9d", "inbound_received")


def test_app_signature_covers_the_timestamp() -> None:
    d = app_delivery(raw("app_inbound_received.json"))
    moved = {**d.headers, "x-front-request-timestamp": str(int(TS_MS) + 1)}
    with pytest.raises(Unauthorized, match="signature does not match"):
        verify(Delivery(body=d.body, headers=moved, now=NOW), Credentials(secret=APP_KEY))


def test_app_signature_one_changed_byte_fails() -> None:
    d = app_delivery(raw("app_inbound_received.json"))
    tampered = Delivery(
        body=d.body.replace(b"msg_4kk2mm", b"msg_4kk2mn"), headers=d.headers, now=NOW
    )
    with pytest.raises(Unauthorized, match="signature does not match"):
        verify(tampered, Credentials(secret=APP_KEY))


def test_app_signature_is_not_the_rule_scheme() -> None:
    # A rule-style SHA-1 signature sent with a timestamp header must not pass.
    body = raw("app_inbound_received.json")
    rule = rule_delivery(body, APP_KEY)
    headers = {**rule.headers, "x-front-request-timestamp": TS_MS}
    with pytest.raises(Unauthorized):
        verify(Delivery(body=body, headers=headers, now=NOW), Credentials(secret=APP_KEY))


@pytest.mark.parametrize("offset", [-301, 301])
def test_app_stale_timestamp_fails(offset: float) -> None:
    d = app_delivery(raw("app_inbound_received.json"), now=int(TS_MS) / 1000 + offset)
    with pytest.raises(Unauthorized, match="stale timestamp"):
        verify(d, Credentials(secret=APP_KEY))


def test_app_timestamp_must_be_milliseconds_digits() -> None:
    d = app_delivery(raw("app_inbound_received.json"), ts="2026-10-04T09:00:00Z")
    with pytest.raises(Unauthorized, match="unreadable X-Front-Request-Timestamp"):
        verify(d, Credentials(secret=APP_KEY))


def test_missing_signature_fails() -> None:
    with pytest.raises(Unauthorized) as err:
        verify(Delivery(body=b"{}"), Credentials(secret=APP_KEY))
    assert err.value.message == "missing X-Front-Signature header"


# --- challenge -------------------------------------------------------------------------------


def test_validation_request_is_a_ping_with_a_reply_to_echo() -> None:
    d = app_delivery(raw("app_sync.json"), **{"x-front-challenge": "c4ll-3ng3"})
    parsed = checked(d, APP_KEY)
    reply = HandshakeReply(200, '{"challenge": "c4ll-3ng3"}', "application/json")
    assert parsed == Parsed(ping=True, event_type="sync", reply=reply)
    assert challenge_reply(d) == reply


def test_unsigned_validation_request_fails() -> None:
    d = Delivery(body=raw("app_sync.json"), headers={"x-front-challenge": "c"}, now=NOW)
    with pytest.raises(Unauthorized):
        verify(d, Credentials(secret=APP_KEY))


def test_ordinary_delivery_needs_no_challenge_reply() -> None:
    assert challenge_reply(app_delivery(raw("app_inbound_received.json"))) is None


# --- fuzz ------------------------------------------------------------------------------------

JSON = json_values(
    ["id", "type", "text", "body", "recipients", "role", "handle", "data"],
    leaves=scalars(12, floats=FINITE),
    max_list=4,
    max_dict=5,
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["inbound", "inbound_received", "comment"]),
    st.dictionaries(
        st.sampled_from(["id", "conversation", "target", "source", "emitted_at", "payload"]),
        JSON,
        max_size=6,
    ),
)
def test_fuzzed_events_give_400_or_a_result(event_type: str, body: dict[str, Any]) -> None:
    try:
        front.parse(Delivery(body=json.dumps({**body, "type": event_type}).encode()), Credentials())
    except BadRequest:
        pass

"""Zendesk adapter: event subscriptions, the trigger template, signatures and test sends."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxbot.errors import BadRequest, Unauthorized
from cxbot.models import Author, Signal
from cxbot.sources import zendesk
from cxbot.sources.base import Credentials, Delivery, Parsed
from cxbot.sources.zendesk import verify
from tests.kit import providers as kit
from tests.kit.fuzz import FINITE, json_values, scalars

SECRET = "Zq3mT0k3n-not-base64-decoded=="  # used verbatim as the HMAC key, like Zendesk's
# Zendesk's published secret for test sends from the webhook builder (not ours to choose).
ZENDESK_TEST_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
STAMP = "2026-10-03T11:02:45Z"
NOW = datetime(2026, 10, 3, 11, 3, 0, tzinfo=UTC).timestamp()
CREDS = Credentials(secret=SECRET, options={"subdomain": "acme"})

raw = partial(kit.raw, "zendesk")


def sign(body: bytes, stamp: str = STAMP, secret: str = SECRET) -> str:
    return kit.Hmac(secret, encoding="base64")(stamp.encode() + body)  # over timestamp + body


def delivery(
    body: bytes, *, stamp: str = STAMP, secret: str = SECRET, now: float = NOW
) -> Delivery:
    headers = {
        "x-zendesk-webhook-signature": sign(body, stamp, secret),
        "x-zendesk-webhook-signature-timestamp": stamp,
        "x-zendesk-webhook-invocation-id": "8350205582",
    }
    return Delivery(body=body, headers=headers, now=now)


def checked(body: bytes) -> Parsed:
    """Verify, then parse, as the server does."""
    d = delivery(body)
    verify(d, CREDS)
    return zendesk.parse(d, CREDS)


# --- event subscriptions ---------------------------------------------------------------------


def test_comment_added_is_a_ticket_signal() -> None:
    parsed = checked(raw("event_comment_added.json"))
    assert parsed.signals == [
        Signal(
            external_id="9007199254740993",
            kind="ticket",
            text="سلام، هفته‌ای گذشته و بسته هنوز نرسیده. لطفاً پولم را برگردانید 😞",
            title="سفارش گم‌شده",
            author=Author(name="Darya Karimi"),
            url="https://acme.zendesk.com/agent/tickets/88412",
            created_at=datetime(2026, 10, 3, 11, 2, 41, 518204, tzinfo=UTC),
            channel="web",
            thread_key="88412",
            metadata={
                "account_id": "90817263",
                "event_id": "01JB7Z3R9KQ4W2M8XH5T6VNP0C",
                "status": "OPEN",
                "priority": "NORMAL",
                "requester_id": "39004512778801",
                "tags": ["shipping", "fa"],
                "author_id": "39004512778801",
            },
        )
    ]
    assert (parsed.event_id, parsed.event_type, parsed.ping, parsed.errors) == (
        "01JB7Z3R9KQ4W2M8XH5T6VNP0C",
        "zen:event-type:ticket.comment_added",
        False,
        [],
    )


def test_non_ascii_and_zwnj_survive_byte_for_byte() -> None:
    text = checked(raw("event_comment_added.json")).signals[0].text
    assert "\u200c" in text  # Persian zero-width non-joiner kept inside "هفته‌ای"
    assert text.encode("utf-8").count("😞".encode()) == 1


@pytest.mark.parametrize(
    "change",
    [{"is_public": False}, {"author": {"id": "1", "is_staff": True, "name": "Agent Smith"}}],
    ids=["internal-note", "agent-reply"],
)
def test_internal_notes_and_agent_replies_store_nothing(change: dict[str, Any]) -> None:
    event = json.loads(raw("event_comment_added.json"))
    event["event"]["comment"].update(change)
    parsed = checked(json.dumps(event).encode())
    assert (parsed.signals, parsed.errors, parsed.ping) == ([], [], False)


def test_messaging_message_from_the_customer_is_a_message() -> None:
    parsed = checked(raw("event_messaging_message_added.json"))
    assert parsed.signals == [
        Signal(
            external_id="6650c21b9d3e7a0031c58e77",
            kind="message",
            text="Kargom üç gündür aynı şubede bekliyor, iade istiyorum! 😠",
            author=Author(name="Emre Yıldız", handle="6650c1e2aa7f31002b9e4d10"),
            url="https://acme.zendesk.com/agent/tickets/88590",
            created_at=datetime(2026, 10, 4, 16, 45, 9, 912, tzinfo=UTC),
            channel="messaging",
            thread_key="88590",
            metadata={
                "event_id": "01JB80AQ2G3C7K9Z1D4F6H8J0M",
                "conversation_id": "6650c1e2aa7f31002b9e4d0f",
            },
        )
    ]


def test_messaging_message_from_a_bot_stores_nothing() -> None:
    event = json.loads(raw("event_messaging_message_added.json"))
    event["event"]["actor"] = {"id": "zd:answerBot", "name": "Answer Bot", "type": "system"}
    assert checked(json.dumps(event).encode()).signals == []


def test_ticket_created_uses_description_and_subject() -> None:
    parsed = checked(raw("event_ticket_created.json"))
    assert [s.model_dump() for s in parsed.signals] == [
        {
            "external_id": "88611:created",
            "kind": "ticket",
            "text": "Since the update the app closes right after I type my password.",
            "title": "App crashes on login 📱",
            "rating": None,
            "score": None,
            "score_type": None,
            "author": {"name": None, "email": None, "handle": None},
            "url": "https://acme.zendesk.com/agent/tickets/88611",
            "created_at": datetime(2026, 10, 5, 7, 30, tzinfo=UTC),
            "channel": "mobile_sdk",
            "thread_key": "88611",
            "metadata": {
                "account_id": "90817263",
                "event_id": "01JB81C0VYB5N2Q7R4S9T1U3W5",
                "status": "NEW",
                "requester_id": "39004512990011",
                "tags": [],
            },
        }
    ]


def test_event_with_nothing_to_store_is_accepted_empty() -> None:
    parsed = checked(raw("event_user_deleted.json"))
    assert (parsed.signals, parsed.errors, parsed.ping, parsed.event_type) == (
        [],
        [],
        False,
        "zen:event-type:user.deleted",
    )


def test_without_subdomain_there_is_no_url() -> None:
    d = delivery(raw("event_comment_added.json"))
    signal = zendesk.parse(d, Credentials(secret=SECRET)).signals[0]
    assert signal.url is None


# --- trigger template ------------------------------------------------------------------------

COMMENT = "Merhaba,\nbu ay iki kez ücretlendirildim. Lütfen düzeltin.\nİyi günler"


def key_digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def test_trigger_comment() -> None:
    parsed = checked(raw("trigger_comment.json"))
    assert parsed.signals == [
        Signal(
            external_id="88700:comment:" + key_digest("2026-10-07T10:15Z", COMMENT),
            kind="ticket",
            text=COMMENT,
            title="Fatura tutarı yanlış",
            author=Author(name="Ayşe Çelik", email="ayse.celik@example.com.tr"),
            url="https://acme.zendesk.com/agent/tickets/88700",
            created_at=datetime(2026, 10, 7, 10, 15, tzinfo=UTC),
            channel="Mail",
            thread_key="88700",
            metadata={"status": "Open"},
        )
    ]
    assert (parsed.event_id, parsed.event_type) == ("8350205582", "trigger.comment")


def test_trigger_satisfaction_is_a_csat_survey() -> None:
    parsed = checked(raw("trigger_satisfaction.json"))
    [signal] = parsed.signals
    assert signal.model_dump(exclude={"external_id"}) == {
        "kind": "survey",
        "text": "Sorun çözüldü ama çok geç 👎",
        "title": "Fatura tutarı yanlış",
        "rating": None,
        "score": 1.0,
        "score_type": "csat",
        "author": {"name": "Ayşe Çelik", "email": "ayse.celik@example.com.tr", "handle": None},
        "url": "https://acme.zendesk.com/agent/tickets/88700",
        "created_at": datetime(2026, 10, 9, 18, 40, tzinfo=UTC),
        "channel": "Mail",
        "thread_key": "88700",
        "metadata": {"status": "Solved", "rating": "Bad"},
    }
    assert signal.external_id.startswith("88700:satisfaction:")


@pytest.mark.parametrize(
    ("rating", "score"),
    [("Good", 5), ("Good with comment", 5), ("bad", 1), ("4", 4), ("Offered", None), ("", None)],
)
def test_trigger_ratings_map_to_csat(rating: str, score: int | None) -> None:
    body = json.loads(raw("trigger_satisfaction.json"))
    body["satisfaction"]["rating"] = rating
    signals = checked(json.dumps(body).encode()).signals
    assert [s.score for s in signals] == ([] if score is None else [score])


@pytest.mark.parametrize(
    ("fixture", "change", "message"),
    [
        (
            "trigger_unsubstituted.json",
            {},
            "ticket.id must be a Zendesk ticket number, got '{{ticket.id}}'",
        ),
        (
            "trigger_comment.json",
            {"event": "tag"},
            "event must be 'comment' or 'satisfaction', got 'tag'",
        ),
        (
            "trigger_satisfaction.json",
            {"satisfaction": {"rating": "Great!!", "comment": ""}},
            "satisfaction.rating: expected Good, Bad or 1–5, got 'Great!!'",
        ),
        (
            "trigger_comment.json",
            {"ticket": {"id": 7, "updated_at": "last Tuesday", "latest_public_comment": "x"}},
            "ticket.updated_at: not a readable time: 'last Tuesday'",
        ),
        (
            "trigger_comment.json",
            {"ticket": {"id": True}},
            "ticket.id must be a Zendesk ticket number, got None",
        ),
    ],
)
def test_odd_placeholder_values_are_clear_400s(
    fixture: str, change: dict[str, Any], message: str
) -> None:
    body = json.loads(raw(fixture))
    body.update(change)
    with pytest.raises(BadRequest) as err:
        checked(json.dumps(body).encode())
    assert err.value.message == f"trigger body: {message}"


def test_unknown_json_is_a_400_pointing_at_the_template() -> None:
    with pytest.raises(BadRequest, match="nor the cxbot trigger template"):
        checked(b'{"type": "End User Comment", "ticketID": "12345"}')


def test_broken_json_from_a_template_is_a_400() -> None:
    with pytest.raises(BadRequest, match="malformed JSON"):
        checked(b'{"cxbot": "zendesk-trigger/v1", "ticket": {"title": "say "hi""}}')


# --- signatures ------------------------------------------------------------------------------


def test_good_signature_passes() -> None:
    verify(delivery(raw("event_comment_added.json")), CREDS)


def test_one_changed_byte_fails() -> None:
    body = raw("event_comment_added.json")
    d = delivery(body)
    tampered = Delivery(body=body.replace(b"88412", b"88413", 1), headers=d.headers, now=NOW)
    with pytest.raises(Unauthorized, match="signature does not match"):
        verify(tampered, CREDS)


def test_signature_covers_the_timestamp() -> None:
    d = delivery(raw("event_comment_added.json"))
    moved = {**d.headers, "x-zendesk-webhook-signature-timestamp": "2026-10-03T11:02:46Z"}
    with pytest.raises(Unauthorized, match="signature does not match"):
        verify(Delivery(body=d.body, headers=moved, now=NOW), CREDS)


def test_secret_is_not_base64_decoded() -> None:
    body = raw("event_comment_added.json")
    decoded_key = base64.b64decode(ZENDESK_TEST_SECRET)
    wrong = kit.Hmac(decoded_key, encoding="base64")(STAMP.encode() + body)
    d = delivery(body)
    headers = {**d.headers, "x-zendesk-webhook-signature": wrong}
    creds = Credentials(secret=ZENDESK_TEST_SECRET)
    with pytest.raises(Unauthorized):
        verify(Delivery(body=body, headers=headers, now=NOW), creds)


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        ("x-zendesk-webhook-signature", "missing X-Zendesk-Webhook-Signature header"),
        (
            "x-zendesk-webhook-signature-timestamp",
            "missing X-Zendesk-Webhook-Signature-Timestamp header",
        ),
    ],
)
def test_missing_headers(drop: str, message: str) -> None:
    d = delivery(raw("event_comment_added.json"))
    headers = {k: v for k, v in d.headers.items() if k != drop}
    with pytest.raises(Unauthorized) as err:
        verify(Delivery(body=d.body, headers=headers, now=NOW), CREDS)
    assert err.value.message == message


@pytest.mark.parametrize("offset", [-301, 301])
def test_stale_or_future_timestamp_fails(offset: int) -> None:
    # The signed stamp is 15 s before NOW.
    d = delivery(raw("event_comment_added.json"), now=NOW - 15 + offset)
    with pytest.raises(Unauthorized, match="stale timestamp"):
        verify(d, CREDS)


def test_timestamp_at_the_edge_of_the_window_passes() -> None:
    verify(delivery(raw("event_comment_added.json"), now=NOW - 15 + 300), CREDS)


def test_unreadable_timestamp_fails() -> None:
    d = delivery(raw("event_comment_added.json"), stamp="Tuesday")
    with pytest.raises(Unauthorized, match="unreadable X-Zendesk-Webhook-Signature-Timestamp"):
        verify(d, CREDS)


def test_no_secret_configured_fails() -> None:
    with pytest.raises(Unauthorized, match="no signing secret"):
        verify(delivery(raw("event_comment_added.json")), Credentials())


# --- test sends ------------------------------------------------------------------------------


def test_builder_test_send_is_a_ping() -> None:
    d = delivery(raw("event_comment_added.json"), secret=ZENDESK_TEST_SECRET)
    verify(d, CREDS)
    parsed = zendesk.parse(d, CREDS)
    assert (parsed.ping, parsed.signals, parsed.errors) == (True, [], [])


def test_test_send_body_need_not_be_json() -> None:
    d = delivery(b"hello from the webhook builder", secret=ZENDESK_TEST_SECRET)
    assert zendesk.parse(d, CREDS).ping is True


def test_test_secret_send_outside_the_window_still_fails() -> None:
    d = delivery(b"{}", secret=ZENDESK_TEST_SECRET, now=NOW + 3600)
    with pytest.raises(Unauthorized, match="stale"):
        verify(d, CREDS)


# --- fuzz ------------------------------------------------------------------------------------

JSON = json_values(
    st.text(max_size=12), leaves=scalars(20, floats=FINITE), max_list=4, max_dict=5, max_leaves=25
)
KEYS = ["type", "id", "time", "subject", "detail", "event", "cxbot", "ticket", "satisfaction"]


def _shaped(draw_value: dict[str, Any], prefix: str) -> dict[str, Any]:
    body = dict(draw_value)
    if prefix:
        body["type" if prefix.startswith("zen") else "cxbot"] = prefix
    return body


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(KEYS), JSON, max_size=8),
    st.sampled_from(
        [
            "",
            "zen:event-type:ticket.comment_added",
            "zen:event-type:ticket.created",
            "zen:event-type:messaging_ticket.message_added",
            "zendesk-trigger/v1",
        ]
    ),
)
def test_fuzzed_bodies_give_400_or_a_result(body: dict[str, Any], prefix: str) -> None:
    raw_body = json.dumps(_shaped(body, prefix)).encode()
    try:
        zendesk.parse(Delivery(body=raw_body, now=NOW), CREDS)
    except BadRequest:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_fuzzed_bytes_give_400_or_a_result(raw_body: bytes) -> None:
    try:
        zendesk.parse(Delivery(body=raw_body, now=NOW), CREDS)
    except BadRequest:
        pass


def test_numeric_ids_beyond_2_53_stay_exact() -> None:
    event = json.loads(raw("event_comment_added.json"))
    event["event"]["comment"]["id"] = 9007199254740993  # a float would round it to ...992
    assert checked(json.dumps(event).encode()).signals[0].external_id == "9007199254740993"


# --- options ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "problems"),
    [
        ({}, []),
        ({"subdomain": "acme-eu"}, []),
        (
            {"subdomain": "https://acme.zendesk.com"},
            [
                "subdomain must be the ACME in acme.zendesk.com (lower-case), "
                "got 'https://acme.zendesk.com'"
            ],
        ),
        ({"domain": "acme"}, ["unknown option 'domain' (known: subdomain)"]),
    ],
)
def test_check_options(options: dict[str, Any], problems: list[str]) -> None:
    assert zendesk.check_options(options) == problems

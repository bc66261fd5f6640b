"""Help Scout adapter: customer replies, satisfaction ratings, header-named events, signature."""

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
from cxbot.sources import helpscout
from cxbot.sources.base import Credentials, Delivery, Parsed
from cxbot.sources.helpscout import verify
from tests.kit import providers as kit
from tests.kit.fuzz import json_values, scalars

SECRET = "helpscout secret key ✓"  # UTF-8 key bytes
CREDS = Credentials(secret=SECRET)

raw = partial(kit.raw, "helpscout")
sign = kit.Hmac(SECRET, "sha1", "base64")


def delivery(body: bytes, event: str, signature: str | None = None) -> Delivery:
    headers = {
        "x-helpscout-event": event,
        "x-helpscout-signature": signature if signature is not None else sign(body),
    }
    return Delivery(body=body, headers=headers)


def checked(body: bytes, event: str) -> Parsed:
    d = delivery(body, event)
    verify(d, CREDS)
    return helpscout.parse(d, CREDS)


# --- conversations ---------------------------------------------------------------------------


def test_customer_reply_takes_the_newest_customer_thread() -> None:
    parsed = checked(raw("convo_customer_reply_created.json"), "convo.customer.reply.created")
    assert parsed.signals == [
        Signal(
            external_id="convo.customer.reply.created:7700000003",
            kind="ticket",
            text="هنوز پولی به حسابم نیامده.\n۱۰ روز گذشته است!\nOn Oct 11 you wrote: ...",
            title="بازگشت وجه سفارش ۱۲۳۴",
            author=Author(name="آرش رضایی", email="arash.rezaei@example.ir"),
            url="https://secure.helpscout.net/conversation/2900112233/48213/",
            created_at=datetime(2026, 10, 12, 9, 30, 5, tzinfo=UTC),
            channel="email",
            thread_key="2900112233",
            metadata={
                "number": "48213",
                "mailbox_id": "310044",
                "status": "active",
                "thread_id": "7700000003",
                "customer_id": "55001122",
            },
        )
    ]
    assert (parsed.event_id, parsed.event_type, parsed.errors) == (
        None,
        "convo.customer.reply.created",
        [],
    )


def test_thread_order_does_not_matter_when_times_are_given() -> None:
    body = json.loads(raw("convo_customer_reply_created.json"))
    body["_embedded"]["threads"].reverse()
    [signal] = checked(json.dumps(body).encode(), "convo.customer.reply.created").signals
    assert signal.external_id == "convo.customer.reply.created:7700000003"


def test_conversation_started_by_an_agent_stores_nothing() -> None:
    body = json.loads(raw("convo_customer_reply_created.json"))
    body["_embedded"]["threads"] = [
        t for t in body["_embedded"]["threads"] if t["type"] != "customer"
    ]
    parsed = checked(json.dumps(body).encode(), "convo.created")
    assert (parsed.signals, parsed.errors) == ([], [])


def test_flattened_threads_with_plain_text_are_read_too() -> None:
    body = {
        "id": 1,
        "number": 2,
        "subject": "Çok yavaş",
        "primaryCustomer": {"id": 3, "firstName": "Ece", "lastName": "Tan", "email": "e@x.tr"},
        "threads": [{"id": 4, "type": "customer", "text": "Sayfa açılmıyor", "createdAt": None}],
    }
    [signal] = checked(json.dumps(body).encode(), "convo.created").signals
    assert (signal.external_id, signal.text, signal.author, signal.created_at) == (
        "convo.created:4",
        "Sayfa açılmıyor",
        Author(name="Ece Tan", email="e@x.tr"),
        None,
    )


# --- ratings ---------------------------------------------------------------------------------


def test_rating_is_a_csat_survey() -> None:
    parsed = checked(raw("satisfaction_rating.json"), "satisfaction.ratings")
    assert [s.model_dump() for s in parsed.signals] == [
        {
            "external_id": "satisfaction.ratings:918273",
            "kind": "survey",
            "text": "Yardımcı oldular ama yanıt 2 gün sürdü 🙂",
            "title": None,
            "rating": None,
            "score": 3.0,
            "score_type": "csat",
            "author": {
                "name": "Deniz Aydın",
                "email": "deniz.aydin@example.com.tr",
                "handle": None,
            },
            "url": "https://secure.helpscout.net/conversation/2900112299/",
            "created_at": datetime(2026, 10, 13, 17, 5, tzinfo=UTC),
            "channel": None,
            "thread_key": "2900112299",
            "metadata": {
                "rating": "Okay",
                "mailbox": "Destek",
                "thread_id": "7700000450",
                "modified_at": "2026-10-13T17:06:10Z",
            },
        }
    ]


@pytest.mark.parametrize(("face", "score"), [("Great", 5), ("Okay", 3), ("Bad", 1), ("bad", 1)])
def test_rating_faces_map_to_csat(face: str, score: int) -> None:
    body = json.loads(raw("satisfaction_rating.json"))
    body["rating"] = face
    assert checked(json.dumps(body).encode(), "satisfaction.ratings").signals[0].score == score


def test_unknown_rating_face_is_a_400() -> None:
    body = json.loads(raw("satisfaction_rating.json"))
    body["rating"] = "Meh"
    with pytest.raises(BadRequest) as err:
        checked(json.dumps(body).encode(), "satisfaction.ratings")
    assert err.value.message == "satisfaction.ratings: rating must be Great, Okay or Bad, got 'Meh'"


# --- other events and headers ----------------------------------------------------------------


def test_other_events_store_nothing() -> None:
    parsed = checked(raw("customer_created.json"), "customer.created")
    assert parsed == Parsed(event_type="customer.created")


def test_missing_event_header_is_a_400() -> None:
    body = raw("satisfaction_rating.json")
    d = Delivery(body=body, headers={"x-helpscout-signature": sign(body)})
    verify(d, CREDS)
    with pytest.raises(BadRequest, match="missing X-HelpScout-Event header"):
        helpscout.parse(d, CREDS)


# --- signature -------------------------------------------------------------------------------


def test_signature_with_surrounding_whitespace_passes() -> None:
    body = raw("satisfaction_rating.json")
    verify(delivery(body, "satisfaction.ratings", f"\n{sign(body)}\n"), CREDS)


def test_one_changed_byte_fails() -> None:
    body = raw("satisfaction_rating.json")
    d = delivery(body, "satisfaction.ratings")
    tampered = Delivery(body=body.replace(b'"Okay"', b'"Great"'), headers=d.headers)
    with pytest.raises(Unauthorized, match="signature does not match"):
        verify(tampered, CREDS)


def test_hex_instead_of_base64_fails() -> None:
    body = raw("satisfaction_rating.json")
    hexed = kit.Hmac(SECRET, "sha1")(body)
    with pytest.raises(Unauthorized):
        verify(delivery(body, "satisfaction.ratings", hexed), CREDS)


def test_missing_signature_fails() -> None:
    with pytest.raises(Unauthorized) as err:
        verify(Delivery(body=b"{}", headers={"x-helpscout-event": "convo.created"}), CREDS)
    assert err.value.message == "missing X-HelpScout-Signature header"


# --- fuzz ------------------------------------------------------------------------------------

JSON = json_values(
    ["id", "type", "body", "createdBy", "createdAt", "first", "email", "x"],
    leaves=scalars(12, floats=None),
    max_list=4,
    max_dict=5,
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["convo.created", "convo.customer.reply.created", "satisfaction.ratings"]),
    st.dictionaries(
        st.sampled_from(
            ["id", "number", "subject", "_embedded", "threads", "primaryCustomer", "rating"]
            + ["customer", "ticketId", "createdAt", "comments"]
        ),
        JSON,
        max_size=7,
    ),
)
def test_fuzzed_bodies_give_400_or_a_result(event: str, body: dict[str, Any]) -> None:
    try:
        helpscout.parse(
            Delivery(body=json.dumps(body).encode(), headers={"x-helpscout-event": event}), CREDS
        )
    except BadRequest:
        pass

"""Trustpilot: shared-token auth, batched `events[]`, one signal per review event."""

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
from cxbot.sources import get_provider
from cxbot.sources.base import Credentials, Delivery, ItemError, Parsed
from cxbot.sources.signing import check_shared_token
from cxbot.sources.trustpilot import PROVIDER, parse
from tests.kit import fuzz
from tests.kit import providers as kit

TOKEN = "tp-test-token-5b1e"
CREDS = Credentials(token=TOKEN)

load = partial(kit.raw, "trustpilot")
deliver = partial(kit.delivery, now=1_718_000_000.0)


def event(name: str, **data: Any) -> dict[str, Any]:
    return {"eventName": name, "version": "1", "eventData": data}


def body_of(*events: dict[str, Any]) -> bytes:
    return json.dumps({"events": list(events)}, ensure_ascii=False).encode()


# --- the provider ---------------------------------------------------------------------------


def test_provider_is_registered_as_a_token_source() -> None:
    assert get_provider("trustpilot") is PROVIDER
    assert PROVIDER.auth == "token"
    assert PROVIDER.verify is check_shared_token
    assert PROVIDER.handshake is None


# --- auth -----------------------------------------------------------------------------------


def test_token_in_the_query_is_accepted() -> None:
    check_shared_token(deliver(b"{}", query={"token": TOKEN}), CREDS)


def test_token_in_the_header_is_accepted() -> None:
    check_shared_token(deliver(b"{}", headers={"x-cxbot-token": TOKEN}), CREDS)


@pytest.mark.parametrize(
    ("delivery", "creds", "message"),
    [
        (deliver(b"{}", query={"token": TOKEN + "x"}), CREDS, "wrong token"),
        (
            deliver(b"{}"),
            CREDS,
            "missing token: add ?token=… to the URL or an X-Cxbot-Token header",
        ),
        (
            deliver(b"{}", query={"token": TOKEN}),
            Credentials(),
            "this source has no shared token configured",
        ),
    ],
    ids=["wrong", "missing", "not-configured"],
)
def test_bad_or_missing_token_is_unauthorized(
    delivery: Delivery, creds: Credentials, message: str
) -> None:
    with pytest.raises(Unauthorized) as err:
        check_shared_token(delivery, creds)
    assert err.value.message == message


# --- parsing --------------------------------------------------------------------------------


def test_created_review_becomes_one_signal() -> None:
    raw = load("service_review_created.json")
    assert b"\\ud83d\\udc4f" in raw  # the emoji arrives as an escaped surrogate pair

    parsed = parse(deliver(raw), CREDS)

    assert parsed == Parsed(
        signals=[
            Signal(
                external_id="65f0c0ffee0000a1b2c3d4e5:service-review-created",
                kind="review",
                title="Kargo çok hızlıydı",
                text="Siparişim ertesi gün geldi, teşekkürler! 👏",
                rating=5,
                author=Author(name="Ayşe Yılmaz"),
                url="https://www.trustpilot.com/reviews/65f0c0ffee0000a1b2c3d4e5",
                created_at=datetime(2024, 3, 12, 8, 15, 30, tzinfo=UTC),
                channel="trustpilot",
                thread_key="65f0c0ffee0000a1b2c3d4e5",
                metadata={
                    "event": "service-review-created",
                    "event_version": "1",
                    "language": "tr",
                    "is_verified": True,
                    "reference_id": "ORD-2024-0042",
                    "consumer_id": "65f0c0ffee00000000c0ffee",
                    "tags": [{"group": "channel", "value": "web"}],
                },
            )
        ],
        event_type="service-review-created",
    )


def test_batch_keeps_good_events_reports_the_bad_one_and_skips_deletions() -> None:
    parsed = parse(deliver(load("batch_mixed.json")), CREDS)

    assert [s.model_dump() for s in parsed.signals] == [
        {
            "external_id": "65f0c0ffee0000a1b2c3d4e6:service-review-updated:7951226329b9",
            "kind": "review",
            "text": "سفارشم دو هفته طول کشید. پشتیبانی پاسخ نداد.",
            "title": "ارسال دیر شد",
            "rating": 2,
            "score": None,
            "score_type": None,
            "author": {"name": "Reza K.", "email": None, "handle": None},
            "url": "https://www.trustpilot.com/reviews/65f0c0ffee0000a1b2c3d4e6",
            "created_at": datetime(2024, 3, 10, 17, 2, 11, 250000, tzinfo=UTC),
            "channel": "trustpilot",
            "thread_key": "65f0c0ffee0000a1b2c3d4e6",
            "metadata": {
                "event": "service-review-updated",
                "event_version": "1",
                "language": "fa",
                "is_verified": False,
                "consumer_id": "65f0c0ffee00000000beef01",
            },
        },
        {
            "external_id": "65f0c0ffee0000a1b2c3d4e9:service-review-created",
            "kind": "review",
            "text": "Good value, slow app.",
            "title": "Fine",
            "rating": 3,
            "score": None,
            "score_type": None,
            "author": {"name": "Jo Park", "email": None, "handle": None},
            "url": "https://www.trustpilot.com/reviews/65f0c0ffee0000a1b2c3d4e9",
            # +03:00 in the payload, stored as UTC
            "created_at": datetime(2024, 3, 11, 6, 30, tzinfo=UTC),
            "channel": "trustpilot",
            "thread_key": "65f0c0ffee0000a1b2c3d4e9",
            "metadata": {"event": "service-review-created", "event_version": "1"},
        },
    ]
    assert parsed.errors == [ItemError(2, "rating: Input should be less than or equal to 5")]
    assert parsed.event_id is None  # Trustpilot sends no delivery id
    assert (
        parsed.event_type == "service-review-updated,service-review-deleted,service-review-created"
    )


def test_a_retried_update_keeps_its_key_and_a_new_edit_gets_a_new_one() -> None:
    def key(text: str) -> str:
        body = body_of(event("service-review-updated", id="r1", stars=4, text=text, title="t"))
        return parse(deliver(body), CREDS).signals[0].external_id

    assert key("first edit") == key("first edit")
    assert key("first edit") != key("second edit")
    assert key("first edit").startswith("r1:service-review-updated:")


def test_deletions_and_unknown_events_store_nothing_and_are_not_errors() -> None:
    body = body_of(
        event("service-review-deleted", id="r1"), event("product-review-created", id="p1")
    )
    assert parse(deliver(body), CREDS) == Parsed(
        event_type="service-review-deleted,product-review-created"
    )


def test_an_empty_batch_is_accepted_with_nothing_to_store() -> None:
    assert parse(deliver(b'{"events": []}'), CREDS) == Parsed()


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("nope", "event must be a JSON object, got str"),
        ({"eventData": {"id": "r1"}}, "event has no eventName"),
        ({"eventName": "service-review-created"}, "eventData must be a JSON object, got NoneType"),
        (
            event("service-review-created", stars=5, text="x"),
            "eventData.id must be a non-empty string",
        ),
        (
            event("service-review-created", id="r1", stars=True, text="x"),
            "eventData.stars must be a number from 1 to 5",
        ),
        (
            event("service-review-created", id="r1", text="x", createdAt="yesterday"),
            "created_at: Input should be a valid datetime or date, input is too short",
        ),
        (
            event("service-review-created", id="r1", title="only a title"),
            "a signal needs text, a rating or a score",
        ),
    ],
)
def test_bad_items_are_reported_with_a_reason(item: Any, message: str) -> None:
    good = event("service-review-created", id="ok", stars=5, text="fine")
    parsed = parse(deliver(json.dumps({"events": [good, item]}).encode()), CREDS)
    assert [s.external_id for s in parsed.signals] == ["ok:service-review-created"]
    assert parsed.errors == [ItemError(1, message)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "malformed JSON: Expecting value at line 1 column 1"),
        (b"[]", "body must be a JSON object, got list"),
        (b'{"events": {}}', 'expected a Trustpilot batch: {"events": [...]}'),
        (b"{}", 'expected a Trustpilot batch: {"events": [...]}'),
        (b"\xff\xfe", "body is not valid UTF-8 (byte 0)"),
    ],
)
def test_malformed_bodies_are_bad_requests(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest) as err:
        parse(deliver(body), CREDS)
    assert err.value.message == message


json_values = fuzz.json_values(
    st.text(max_size=8), leaves=fuzz.scalars(20), max_list=4, max_dict=4, max_leaves=20
)
event_data = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values | st.text(max_size=30),
        "stars": json_values | st.integers(0, 6),
        "text": json_values | st.text(),
        "title": json_values,
        "createdAt": json_values | st.datetimes().map(lambda d: d.isoformat()),
        "consumer": json_values | st.fixed_dictionaries({"name": json_values}),
    },
)
events = st.fixed_dictionaries(
    {},
    optional={
        "eventName": st.sampled_from(["service-review-created", "service-review-updated", "x"])
        | json_values,
        "eventData": event_data | json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({"events": st.lists(events | json_values, max_size=5)}) | json_values)
def test_any_json_gives_a_result_or_a_bad_request(body: Any) -> None:
    try:
        parse(deliver(json.dumps(body).encode()), CREDS)
    except BadRequest:
        pass

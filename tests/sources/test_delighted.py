"""Delighted adapter: signature (hex HMAC-SHA256 with the API key), survey types, versions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxbot.errors import BadRequest, ConfigError, Unauthorized
from cxbot.models import Author, Signal
from cxbot.sources import get_provider
from cxbot.sources.base import Credentials
from cxbot.sources.delighted import PROVIDER, check_options, parse, verify
from tests.kit import providers as kit
from tests.kit.fuzz import json_values, scalars
from tests.kit.mutations import WEIRD, paths, replaced

API_KEY = "dlt-test-api-key-5b0d"  # Delighted signs with the account's private API key
NOW = 1_767_312_400.0
PERMALINK = "https://delighted.com/r/Zq8XwV3nT1kLm5pR7sY9uB2dF4gH6jK0"
PERSIAN_TURKISH = "اپ هر بار کرش می\u200cکنه 😡 Uygulama sürekli çöküyor."

raw = partial(kit.raw, "delighted")
sign = kit.Hmac(API_KEY, prefix="sha256=")  # hex HMAC-SHA256 with the API key
delivery = partial(kit.delivery, now=NOW)
creds = kit.creds_for(API_KEY)


def edited(name: str, **event_data: Any) -> bytes:
    data = json.loads(raw(name))
    data["event_data"].update(event_data)
    return json.dumps(data).encode()


# --- verify ----------------------------------------------------------------------------------


def test_registry_finds_the_adapter() -> None:
    assert get_provider("delighted") is PROVIDER
    assert (PROVIDER.verify, PROVIDER.parse, PROVIDER.handshake) == (verify, parse, None)
    assert PROVIDER.auth == "secret"


def test_good_signature_passes() -> None:
    body = raw("survey_response_updated.json")
    verify(delivery(body, {"x-delighted-webhook-signature": sign(body)}), creds())


def test_upper_case_hex_passes() -> None:
    body = raw("survey_response_created.json")
    header = "sha256=" + sign(body).removeprefix("sha256=").upper()
    verify(delivery(body, {"x-delighted-webhook-signature": header}), creds())


def test_signature_of_another_body_fails() -> None:
    body = raw("survey_response_created.json")
    tampered = body.replace(b'"score": 2', b'"score": 10')
    headers = {"x-delighted-webhook-signature": sign(body)}
    with pytest.raises(Unauthorized, match="does not match"):
        verify(delivery(tampered, headers), creds())


def test_wrong_key_fails() -> None:
    body = raw("survey_response_created.json")
    headers = {"x-delighted-webhook-signature": sign(body, "not-the-api-key")}
    with pytest.raises(Unauthorized, match="does not match"):
        verify(delivery(body, headers), creds())


@pytest.mark.parametrize(
    "header",
    [
        "sha1=" + "0" * 40,
        kit.Hmac(API_KEY)(b"{}"),  # no prefix
        "sha256=",
        "sha256=ğğ",
    ],
)
def test_malformed_signature_header(header: str) -> None:
    with pytest.raises(Unauthorized):
        verify(delivery(b"{}", {"x-delighted-webhook-signature": header}), creds())


def test_missing_signature_header() -> None:
    with pytest.raises(Unauthorized, match="missing x-delighted-webhook-signature header"):
        verify(delivery(raw("survey_response_created.json")), creds())


def test_no_api_key_configured() -> None:
    body = raw("survey_response_created.json")
    headers = {"x-delighted-webhook-signature": sign(body)}
    with pytest.raises(Unauthorized, match="no signing secret"):
        verify(delivery(body, headers), Credentials())


# --- parse -----------------------------------------------------------------------------------


def test_created_response_with_score_only() -> None:
    parsed = parse(delivery(raw("survey_response_created.json")), creds())
    assert (parsed.event_id, parsed.event_type, parsed.errors, parsed.ping) == (
        "7f3c9a1be2d44c0f8a6b5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0f",
        "survey_response.created",
        [],
        False,
    )
    assert parsed.signals == [
        Signal(
            external_id="880112:survey_response.created:1767312000",
            kind="survey",
            score=2,
            score_type="nps",
            author=Author(name="Murat Öztürk", email="murat.ozturk@example.com"),
            url=PERMALINK,
            created_at=datetime(2026, 1, 2, tzinfo=UTC),
            thread_key="880112",
            metadata={
                "survey_type": "nps",
                "raw_score": 2,
                "person_id": "440017",
                "person_properties": {"Plan": "Pro", "Şehir": "Ankara"},
            },
        )
    ]


def test_update_with_comment_is_a_new_signal_in_the_same_thread() -> None:
    body = raw("survey_response_updated.json")
    assert b"\\u0627\\u067e" in body  # the comment is escaped on the wire
    parsed = parse(delivery(body), creds())
    assert [s.model_dump() for s in parsed.signals] == [
        {
            "external_id": "880112:survey_response.updated:1767312360",
            "kind": "survey",
            "text": PERSIAN_TURKISH,
            "title": None,
            "rating": None,
            "score": 2.0,
            "score_type": "nps",
            "author": {"name": "Murat Öztürk", "email": "murat.ozturk@example.com", "handle": None},
            "url": PERMALINK,
            "created_at": datetime(2026, 1, 2, 0, 6, tzinfo=UTC),  # updated_at: when commented
            "channel": None,
            "thread_key": "880112",
            "metadata": {
                "survey_type": "nps",
                "raw_score": 2,
                "person_id": "440017",
                "person_properties": {"Plan": "Pro", "Şehir": "Ankara"},
                "tags": ["android", "crash"],
                "additional_answers": [
                    {
                        "question": "Which app version?",
                        "type": "free_response",
                        "value": "Sürüm 4.2",
                    },
                    {"question": "How stable is the app?", "type": "scale", "value": 2},
                ],
            },
        }
    ]
    assert (parsed.event_id, parsed.event_type) == (
        "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "survey_response.updated",
    )


def test_ids_tell_created_updated_and_a_second_update_apart() -> None:
    created = parse(delivery(raw("survey_response_created.json")), creds()).signals
    updated = parse(delivery(raw("survey_response_updated.json")), creds()).signals
    again = parse(delivery(edited("survey_response_updated.json", updated_at=1767313000)), creds())
    retry = parse(delivery(raw("survey_response_updated.json")), creds()).signals
    ids = [s.external_id for s in created + updated + again.signals]
    assert ids == [
        "880112:survey_response.created:1767312000",
        "880112:survey_response.updated:1767312360",
        "880112:survey_response.updated:1767313000",
    ]
    assert retry[0].external_id == ids[1]  # a redelivery dedupes


def test_unsubscribe_stores_nothing() -> None:
    parsed = parse(delivery(raw("unsubscribe_created.json")), creds())
    assert (parsed.signals, parsed.errors, parsed.event_type, parsed.event_id) == (
        [],
        [],
        "unsubscribe.created",
        "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00",
    )


@pytest.mark.parametrize(
    ("survey_type", "fields"),
    [
        ("csat", {"score": 2, "score_type": "csat", "rating": None}),
        ("ces", {"score": 2, "score_type": "ces", "rating": None}),
        ("stars", {"score": None, "score_type": None, "rating": 2}),
    ],
)
def test_configured_survey_type(survey_type: str, fields: dict[str, Any]) -> None:
    parsed = parse(delivery(raw("survey_response_created.json")), creds(survey_type=survey_type))
    dumped = parsed.signals[0].model_dump()
    assert {k: dumped[k] for k in fields} == fields
    assert dumped["metadata"]["survey_type"] == survey_type


def test_other_survey_type_keeps_the_comment_and_the_raw_score() -> None:
    only_score = parse(delivery(raw("survey_response_created.json")), creds(survey_type="other"))
    assert only_score.signals == []  # thumbs/smileys and no comment: nothing to store
    with_comment = parse(delivery(raw("survey_response_updated.json")), creds(survey_type="other"))
    signal = with_comment.signals[0]
    assert (signal.text, signal.score, signal.rating) == (PERSIAN_TURKISH, None, None)
    assert (signal.metadata["raw_score"], signal.metadata["survey_type"]) == (2, "other")


def test_survey_type_in_the_payload_is_used_when_not_configured() -> None:
    body = edited("survey_response_created.json", survey_type="ces")
    assert parse(delivery(body), creds()).signals[0].score_type == "ces"
    assert parse(delivery(body), creds(survey_type="csat")).signals[0].score_type == "csat"
    unknown = edited("survey_response_created.json", survey_type="thumbs")
    assert parse(delivery(unknown), creds()).signals == []


def test_score_off_the_configured_scale_is_400() -> None:
    body = edited("survey_response_created.json", score=9)
    with pytest.raises(
        BadRequest, match="score 9 is outside the csat scale 1-5: check survey_type"
    ):
        parse(delivery(body), creds(survey_type="csat"))
    with pytest.raises(BadRequest, match="not a 1-5 star rating"):
        parse(delivery(body), creds(survey_type="stars"))


def test_integer_ids_stay_exact() -> None:
    body = edited("survey_response_created.json", id=2**63 + 1)
    assert parse(delivery(body), creds()).signals[0].thread_key == str(2**63 + 1)


def test_options() -> None:
    assert check_options({}) == []
    assert check_options({"survey_type": "ces"}) == []
    assert check_options({"survey_type": "NPS", "scale": "x"}) == [
        "unknown option 'scale' (known: survey_type)",
        "survey_type must be one of nps, csat, ces, stars, other",
    ]
    with pytest.raises(ConfigError):
        parse(delivery(raw("survey_response_created.json")), creds(survey_type="smileys"))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "malformed JSON"),
        (b'"text"', "must be a JSON object"),
        (b'{"event_id": "e"}', "event_type: Field required"),
        (b'{"event_type": "survey_response.created"}', "event_data: Field required"),
        (
            b'{"event_type": "survey_response.created", "event_data": {"score": 3}}',
            "event_data.id: Field required",
        ),
        (
            b'{"event_type": "survey_response.created", "event_data": {"id": "1", "score": "9"}}',
            "event_data.score",
        ),
        (
            b'{"event_type": "survey_response.created",'
            b' "event_data": {"id": "1", "score": 3, "created_at": 1e30}}',
            "not a unix time",
        ),
    ],
)
def test_bad_bodies_are_400(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        parse(delivery(body), creds())


@pytest.mark.parametrize("survey_type", ["nps", "stars", "other"])
def test_every_mutation_is_parsed_or_400(survey_type: str) -> None:
    data = json.loads(raw("survey_response_updated.json"))
    for path in paths(data):
        for new in WEIRD:
            body = json.dumps(replaced(data, path, new)).encode()
            try:
                parse(delivery(body), creds(survey_type=survey_type))
            except BadRequest:
                pass


KEYS = st.sampled_from(
    [
        "event_type",
        "event_id",
        "event_data",
        "id",
        "person",
        "email",
        "name",
        "score",
        "comment",
        "permalink",
        "created_at",
        "updated_at",
        "survey_type",
        "person_properties",
        "tags",
        "additional_answers",
        "question",
        "value",
        "text",
    ]
) | st.text(max_size=8)
LEAVES = scalars(
    20, extra=["survey_response.created", "survey_response.updated", "nps", "csat", "2026-01-01"]
)
JSON = json_values(KEYS, leaves=LEAVES, max_list=4, max_dict=6, max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_random_json_is_parsed_or_400(value: Any) -> None:
    try:
        parse(delivery(json.dumps(value).encode()), creds(**{}))
    except BadRequest:
        pass

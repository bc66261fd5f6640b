"""SurveyMonkey adapter: HMAC-SHA1 over `api_key&api_secret`, HEAD handshake, fetch stubs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxbot.errors import BadRequest, Unauthorized
from cxbot.models import Signal
from cxbot.sources import get_provider
from cxbot.sources.base import HandshakeReply
from cxbot.sources.surveymonkey import PROVIDER, check_options, handshake, parse, verify
from tests.kit import providers as kit
from tests.kit.fuzz import json_values, scalars
from tests.kit.mutations import WEIRD, paths, replaced

API_KEY = "sm-test-client-id-4e2a"
API_SECRET = "sm-test-api-secret-91fd"
NOW = 1_780_313_405.0

raw = partial(kit.raw, "surveymonkey")
delivery = partial(kit.delivery, now=NOW)
creds = kit.creds_for(API_SECRET)


def sign(body: bytes, key: str = API_KEY, secret: str = API_SECRET) -> str:
    return kit.Hmac(f"{key}&{secret}", "sha1", "base64")(body)  # the key is `api_key&api_secret`


# --- verify ----------------------------------------------------------------------------------


def test_registry_finds_the_adapter() -> None:
    assert get_provider("surveymonkey") is PROVIDER
    assert (PROVIDER.verify, PROVIDER.parse, PROVIDER.handshake) == (verify, parse, handshake)
    assert PROVIDER.auth == "secret"


def test_good_signature_with_configured_api_key() -> None:
    body = raw("response_completed.json")
    headers = {"sm-signature": sign(body), "sm-apikey": API_KEY}
    verify(delivery(body, headers), creds(api_key=API_KEY))


def test_api_key_env_is_resolved_by_the_config(tmp_path: Path) -> None:
    from cxbot.config import load_settings

    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[sources.sm]\ntype = "surveymonkey"\nsecret_env = "SM_SECRET"\n'
        'api_key_env = "CXBOT_TEST_SM_API_KEY"\n'
    )
    env = {"SM_SECRET": API_SECRET, "CXBOT_TEST_SM_API_KEY": API_KEY}
    source = load_settings(cfg, env).sources["sm"]
    body = raw("response_completed.json")
    verify(delivery(body, {"sm-signature": sign(body)}), source.credentials)


def test_api_key_from_the_header_when_not_configured() -> None:
    # The key half is public (it is sent in the header); the secret half is what proves origin.
    body = raw("response_completed.json")
    verify(delivery(body, {"sm-signature": sign(body), "sm-apikey": API_KEY}), creds())


def test_configured_api_key_wins_over_the_header() -> None:
    body = raw("response_completed.json")
    forged = {"sm-signature": sign(body, key="attacker"), "sm-apikey": "attacker"}
    with pytest.raises(Unauthorized, match="does not match"):
        verify(delivery(body, forged), creds(api_key=API_KEY))


def test_signature_of_another_body_fails() -> None:
    body = raw("response_completed.json")
    tampered = body.replace(b"118302957461", b"118302957462")
    with pytest.raises(Unauthorized, match="does not match"):
        verify(delivery(tampered, {"sm-signature": sign(body)}), creds(api_key=API_KEY))


def test_wrong_secret_fails() -> None:
    body = raw("response_completed.json")
    headers = {"sm-signature": sign(body, secret="other-secret")}
    with pytest.raises(Unauthorized, match="does not match"):
        verify(delivery(body, headers), creds(api_key=API_KEY))


def test_secret_alone_as_key_fails() -> None:
    # The key is `api_key&api_secret`, not the secret alone.
    body = raw("response_completed.json")
    alone = kit.Hmac(API_SECRET, "sha1", "base64")(body)
    with pytest.raises(Unauthorized):
        verify(delivery(body, {"sm-signature": alone}), creds(api_key=API_KEY))


def test_missing_signature_header() -> None:
    with pytest.raises(Unauthorized, match="missing sm-signature header"):
        verify(delivery(raw("response_completed.json")), creds(api_key=API_KEY))


def test_no_api_key_anywhere() -> None:
    body = raw("response_completed.json")
    with pytest.raises(Unauthorized, match="no api_key configured"):
        verify(delivery(body, {"sm-signature": sign(body)}), creds())


def test_no_secret_configured() -> None:
    body = raw("response_completed.json")
    with pytest.raises(Unauthorized, match="no signing secret"):
        verify(delivery(body, {"sm-signature": sign(body)}), creds(None, api_key=API_KEY))


# --- handshake -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["HEAD", "GET"])
def test_subscription_check_answers_200(method: str) -> None:
    reply = handshake(delivery(b"", method=method), creds())
    assert reply == HandshakeReply(200, "", "text/plain")


# --- parse -----------------------------------------------------------------------------------


def test_completed_response_is_a_stub_to_fetch() -> None:
    parsed = parse(delivery(raw("response_completed.json")), creds())
    assert (parsed.event_id, parsed.event_type, parsed.errors, parsed.ping) == (
        "20947561382",
        "response_completed",
        [],
        False,
    )
    assert parsed.signals == [
        Signal(
            external_id="118302957461:response_completed:20947561382",
            kind="survey",
            text="SurveyMonkey response 118302957461 completed (details not fetched)",
            created_at=datetime(2026, 6, 1, 11, 30, 5, 250_000, tzinfo=UTC),  # +03:00 -> UTC
            thread_key="118302957461",
            metadata={
                "needs_fetch": True,
                "response_id": "118302957461",
                "survey_id": "518273645",
                "collector_id": "436281907",
                "respondent_id": "118302957461",
                "recipient_id": "0",
                "user_id": "72610394",
                "fetch_path": "/v3/surveys/518273645/responses/118302957461/details",
                "webhook_name": "Müşteri anketi 🚀 cxbot",
                "filter_type": "survey",
                "filter_id": "518273645",
            },
        )
    ]


def test_integer_ids_stay_exact_and_non_ascii_intact() -> None:
    body = raw("response_updated_int_ids.json")
    assert b"90071992547409931" in body  # beyond 2**53: a float would round it
    parsed = parse(delivery(body), creds())
    assert (parsed.event_id, parsed.event_type) == ("20947561399", "response_updated")
    assert [s.model_dump() for s in parsed.signals] == [
        {
            "external_id": "90071992547409931:response_updated:20947561399",
            "kind": "survey",
            "text": "SurveyMonkey response 90071992547409931 updated (details not fetched)",
            "title": None,
            "rating": None,
            "score": None,
            "score_type": None,
            "author": {"name": None, "email": None, "handle": None},
            "url": None,
            "created_at": datetime(2026, 6, 2, 9, 0, 0, 1, tzinfo=UTC),
            "channel": None,
            "thread_key": "90071992547409931",
            "metadata": {
                "needs_fetch": True,
                "response_id": "90071992547409931",
                "survey_id": "518273645",
                "collector_id": "436281907",
                "respondent_id": "90071992547409931",
                "user_id": "72610394",
                "fetch_path": "/v3/surveys/518273645/responses/90071992547409931/details",
                "webhook_name": "بازخورد مشتری",
                "filter_type": "collector",
                "filter_id": "436281907",
            },
        }
    ]


@pytest.mark.parametrize(
    "event_type",
    ["collector_created", "response_created", "response_deleted", "response_disqualified"],
)
def test_other_events_store_nothing(event_type: str) -> None:
    data = json.loads(raw("collector_created.json"))
    data["event_type"] = event_type
    parsed = parse(delivery(json.dumps(data).encode()), creds())
    assert (parsed.signals, parsed.errors, parsed.event_type, parsed.event_id) == (
        [],
        [],
        event_type,
        "20947561400",
    )


def test_options() -> None:
    assert check_options({"api_key": "k"}) == []
    assert check_options({"api_key_env": "SM_KEY"}) == []
    assert check_options({"api_key": 5, "secret": "x"}) == [
        "unknown option 'secret' (known: api_key, api_key_env)",
        "api_key must be a string",
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "malformed JSON"),
        (b"[{}]", "must be a JSON object"),
        (b'{"event_type": "response_completed"}', "event_id: Field required"),
        (
            b'{"event_id": "1", "event_type": "response_completed"}',
            "object_id: a response_completed",
        ),
        (b'{"event_id": true, "event_type": "response_completed"}', "event_id"),
        (
            b'{"event_id": "1", "event_type": "response_completed", "object_id": "2",'
            b' "event_datetime": "yesterday"}',
            "event_datetime",
        ),
    ],
)
def test_bad_bodies_are_400(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        parse(delivery(body), creds())


@pytest.mark.parametrize("name", ["response_completed.json", "response_updated_int_ids.json"])
def test_every_mutation_is_parsed_or_400(name: str) -> None:
    data = json.loads(raw(name))
    for path in paths(data):
        for new in WEIRD:
            body = json.dumps(replaced(data, path, new)).encode()
            try:
                parse(delivery(body), creds())
            except BadRequest:
                pass


KEYS = st.sampled_from(
    [
        "event_id",
        "event_type",
        "object_type",
        "object_id",
        "event_datetime",
        "resources",
        "survey_id",
        "collector_id",
        "name",
        "filter_type",
        "filter_id",
    ]
) | st.text(max_size=8)
LEAVES = scalars(
    20,
    extra=["response_completed", "response_updated", "response", "2026-01-01T00:00:00+00:00"],
)
JSON = json_values(KEYS, leaves=LEAVES, max_list=4, max_dict=6, max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_random_json_is_parsed_or_400(value: Any) -> None:
    try:
        parse(delivery(json.dumps(value).encode()), creds(**{}))
    except BadRequest:
        pass

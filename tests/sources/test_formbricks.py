"""Formbricks adapter: Standard Webhooks signature, test ping, array-wrapped batches, answers."""

from __future__ import annotations

import base64
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
from cxbot.sources.base import ItemError
from cxbot.sources.formbricks import PROVIDER, check_options, parse, verify
from tests.kit import providers as kit
from tests.kit.fuzz import json_values, scalars
from tests.kit.mutations import WEIRD, paths, replaced

KEY = b"formbricks-test-key-with-32bytes"
SECRET = "whsec_" + base64.b64encode(KEY).decode()
NOW = 1_770_726_700.0
MSG_ID = "msg_2tEsTfOrMbRiCkS0000001"
SCORES = {"score_fields": {"recommend_q": "nps", "stars_q": "rating"}}

raw = partial(kit.raw, "formbricks")
delivery = partial(kit.delivery, now=NOW)
creds = kit.creds_for(SECRET)


def sign(body: bytes, msg_id: str = MSG_ID, ts: int = int(NOW), key: bytes = KEY) -> str:
    """Standard Webhooks: base64 HMAC-SHA256 over `{id}.{timestamp}.{body}`."""
    return kit.Hmac(key, encoding="base64", prefix="v1,")(f"{msg_id}.{ts}.".encode() + body)


def signed_headers(body: bytes, **overrides: str) -> dict[str, str]:
    headers = {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(int(NOW)),
        "webhook-signature": sign(body),
    }
    return {**headers, **overrides}


# --- verify ----------------------------------------------------------------------------------


def test_registry_finds_the_adapter() -> None:
    assert get_provider("formbricks") is PROVIDER
    assert (PROVIDER.verify, PROVIDER.parse, PROVIDER.handshake) == (verify, parse, None)
    assert PROVIDER.auth == "secret"


def test_good_signature_passes() -> None:
    body = raw("responseFinished_wrapped.json")
    verify(delivery(body, signed_headers(body)), creds())


def test_secret_without_whsec_prefix_is_still_base64() -> None:
    body = raw("responseFinished_wrapped.json")
    verify(delivery(body, signed_headers(body)), creds(SECRET.removeprefix("whsec_")))


def test_any_of_several_signatures_may_match() -> None:
    # Key rotation: the header lists one signature per key, and other schemes (v1a) may appear.
    body = raw("responseFinished_wrapped.json")
    old = sign(body, key=b"the-previous-key")
    header = f"v1a,c29tZXRoaW5nZWxzZQ== {old} {sign(body)}"
    verify(delivery(body, signed_headers(body, **{"webhook-signature": header})), creds())


@pytest.mark.parametrize(
    "change",
    [
        {"body": b'[{"event": "responseFinished"}]'},
        {"webhook-id": "msg_another"},
        {"webhook-timestamp": str(int(NOW) - 1)},
    ],
)
def test_anything_signed_that_changes_fails(change: dict[str, Any]) -> None:
    body = raw("responseFinished_wrapped.json")
    headers = signed_headers(body, **{k: v for k, v in change.items() if k != "body"})
    with pytest.raises(Unauthorized, match="no v1 signature matching"):
        verify(delivery(change.get("body", body), headers, now=NOW - 1), creds())


def test_wrong_secret_fails() -> None:
    body = raw("responseFinished_wrapped.json")
    other = "whsec_" + base64.b64encode(b"another-key").decode()
    with pytest.raises(Unauthorized, match="no v1 signature matching"):
        verify(delivery(body, signed_headers(body)), creds(other))


def test_signature_without_version_prefix_fails() -> None:
    body = raw("responseFinished_wrapped.json")
    bare = sign(body).removeprefix("v1,")
    with pytest.raises(Unauthorized):
        verify(delivery(body, signed_headers(body, **{"webhook-signature": bare})), creds())


@pytest.mark.parametrize("age", [-301, 301, 10**9])
def test_stale_or_future_timestamp_fails(age: int) -> None:
    body = raw("responseFinished_wrapped.json")
    with pytest.raises(Unauthorized, match="stale webhook-timestamp"):
        verify(delivery(body, signed_headers(body), now=NOW + age), creds())


def test_timestamp_at_the_edge_of_the_window_passes() -> None:
    body = raw("responseFinished_wrapped.json")
    verify(delivery(body, signed_headers(body), now=NOW + 300), creds())


@pytest.mark.parametrize("stamp", ["", "abc", "1.5", "-5", "١٢٣", "1e9", "9" * 5000])
def test_malformed_timestamp_fails(stamp: str) -> None:
    body = raw("responseFinished_wrapped.json")
    with pytest.raises(Unauthorized, match="webhook-timestamp"):
        verify(delivery(body, signed_headers(body, **{"webhook-timestamp": stamp})), creds())


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_fails(missing: str) -> None:
    body = raw("responseFinished_wrapped.json")
    headers = signed_headers(body)
    del headers[missing]
    with pytest.raises(Unauthorized, match=f"missing {missing} header"):
        verify(delivery(body, headers), creds())


def test_secret_that_is_not_base64_is_401() -> None:
    body = raw("responseFinished_wrapped.json")
    with pytest.raises(Unauthorized, match="not a Formbricks whsec_"):
        verify(delivery(body, signed_headers(body)), creds("whsec_not*base64!"))


def test_no_secret_configured() -> None:
    body = raw("responseFinished_wrapped.json")
    with pytest.raises(Unauthorized, match="no signing secret"):
        verify(delivery(body, signed_headers(body)), creds(None))


# --- the test request Formbricks sends before a webhook (and its secret) exists ---------------


def test_unsigned_test_request_passes_and_is_a_ping() -> None:
    body = raw("testEndpoint.json")
    verify(delivery(body), creds(None))  # no headers, no secret yet: still 2xx
    parsed = parse(delivery(body), creds(None))
    assert (parsed.ping, parsed.signals, parsed.errors, parsed.event_type, parsed.event_id) == (
        True,
        [],
        [],
        "testEndpoint",
        None,
    )


def test_signed_test_request_is_checked_like_any_other() -> None:
    body = raw("testEndpoint.json")
    verify(delivery(body, signed_headers(body)), creds())
    parsed = parse(delivery(body, signed_headers(body)), creds())
    assert (parsed.ping, parsed.event_id) == (True, MSG_ID)
    with pytest.raises(Unauthorized):
        verify(delivery(body, signed_headers(body, **{"webhook-signature": "v1,AAAA"})), creds())


@pytest.mark.parametrize(
    "body",
    [
        b'{"event": "testEndpoint", "data": {"id": "x", "data": {"q": "free text"}}}',
        b'[{"event": "testEndpoint"}]',
        b'{"event": "responseFinished"}',
        b'{"event": "testEndpoint"' + b" " * 300 + b"}",
    ],
)
def test_only_the_bare_test_request_skips_the_signature(body: bytes) -> None:
    with pytest.raises(Unauthorized, match="missing webhook-id header"):
        verify(delivery(body), creds())


# --- parse -----------------------------------------------------------------------------------

WRAPPED_ANSWERS = {
    "recommend_q": 9,
    "stars_q": 5,
    "k8m2v9w4x1z7q3r6t0y5u2i8": "Kurulum çok kolaydı 👍 ama fatura sayfası yavaş.",
    "cta_q": "clicked",
    "consent_q": "accepted",
    "features_q": ["Raporlar", "Entegrasyonlar"],
    "time_q": 42,
}


def wrapped_signal(**changes: Any) -> Signal:
    fields: dict[str, Any] = {
        "external_id": "ckresp000000000000000001:responseFinished:2026-02-10T12:31:15.500Z",
        "kind": "survey",
        "text": "Kurulum çok kolaydı 👍 ama fatura sayfası yavaş.",
        "title": "Ürün memnuniyeti",
        "author": Author(name="Zeynep Arslan", email="zeynep.arslan@example.com"),
        "url": "https://app.formbricks.com/s/cksurvey0000000000000001",
        "created_at": datetime(2026, 2, 10, 12, 31, 15, 500_000, tzinfo=UTC),
        "thread_key": "ckresp000000000000000001",
        "metadata": {
            "event": "responseFinished",
            "answers": WRAPPED_ANSWERS,
            "survey_id": "cksurvey0000000000000001",
            "survey_title": "Ürün memnuniyeti",
            "finished": True,
            "language": "tr",
            "country": "TR",
            "contact_id": "ckcontact0000000000000001",
        },
    }
    return Signal(**{**fields, **changes})


def test_array_wrapped_response_with_configured_scores() -> None:
    body = raw("responseFinished_wrapped.json")
    parsed = parse(delivery(body, signed_headers(body)), creds(**SCORES))
    assert (parsed.event_id, parsed.event_type, parsed.errors, parsed.ping) == (
        MSG_ID,
        "responseFinished",
        [],
        False,
    )
    assert parsed.signals == [wrapped_signal(score=9, score_type="nps", rating=5)]


def test_without_score_fields_numbers_stay_in_metadata() -> None:
    parsed = parse(delivery(raw("responseFinished_wrapped.json")), creds())
    assert parsed.signals == [wrapped_signal()]


def test_bare_object_in_persian() -> None:
    body = raw("responseCreated_bare.json")
    assert b"\\u0633\\u0641\\u0627\\u0631" in body  # escaped on the wire ...
    parsed = parse(delivery(body), creds(**SCORES))
    assert (parsed.event_id, parsed.event_type) == (None, "responseCreated")
    assert [s.model_dump() for s in parsed.signals] == [
        {
            "external_id": "ckresp000000000000000002:responseCreated:2026-02-11T07:00:00.000Z",
            "kind": "survey",
            "text": "سفارشم هنوز نرسیده 📦❓",  # ... intact here; the URL answer is not text
            "title": None,
            "rating": None,
            "score": None,
            "score_type": None,
            # No contact on a link survey: the answer that is an address is the respondent's.
            "author": {"name": None, "email": "reza.karimi@example.com", "handle": None},
            "url": None,
            "created_at": datetime(2026, 2, 11, 7, tzinfo=UTC),
            "channel": None,
            "thread_key": "ckresp000000000000000002",
            "metadata": {
                "event": "responseCreated",
                "answers": {
                    "mailq0000000000000000001": "  reza.karimi@example.com ",
                    "textq0000000000000000001": "سفارشم هنوز نرسیده 📦❓",
                    "linkq0000000000000000001": "https://example.com/order/77",
                },
                "survey_id": "cksurvey0000000000000002",
                "finished": False,
            },
        }
    ]


def test_text_fields_option_picks_the_text() -> None:
    options = {"text_fields": ["features_q", "cta_q", "missing_q"]}
    parsed = parse(delivery(raw("responseFinished_wrapped.json")), creds(**options))
    assert [s.text for s in parsed.signals] == ["clicked"]  # lists are never text


def test_batch_keeps_good_items_and_reports_the_bad_one() -> None:
    body = raw("batch_one_bad.json")
    parsed = parse(delivery(body, signed_headers(body)), creds(**SCORES))
    assert parsed.errors == [ItemError(1, "data.id: Field required")]
    assert (parsed.event_id, parsed.event_type) == (MSG_ID, "responseFinished")
    assert parsed.signals == [
        Signal(
            external_id="ckbatch00000000000000001:responseFinished:2026-03-01T10:00:00.000Z",
            kind="survey",
            score=10,
            score_type="nps",
            created_at=datetime(2026, 3, 1, 10, tzinfo=UTC),
            thread_key="ckbatch00000000000000001",
            metadata={"event": "responseFinished", "answers": {"recommend_q": 10}},
        ),
        Signal(
            external_id="ckbatch00000000000000003:responseFinished:2026-03-01T10:09:00.000Z",
            kind="survey",
            text="Hiç memnun değilim 😤",
            score=0,
            score_type="nps",
            created_at=datetime(2026, 3, 1, 10, 9, tzinfo=UTC),
            thread_key="ckbatch00000000000000003",
            metadata={
                "event": "responseFinished",
                "answers": {"recommend_q": 0, "free_q": "Hiç memnun değilim 😤"},
            },
        ),
    ]


def test_mixed_events_in_one_batch() -> None:
    items = json.loads(raw("batch_one_bad.json"))
    items[1] = {**items[0], "event": "responseUpdated"}
    parsed = parse(delivery(json.dumps(items).encode()), creds(**SCORES))
    assert parsed.event_type == "responseFinished,responseUpdated"
    assert len(parsed.signals) == 3


def test_a_click_alone_stores_nothing() -> None:
    body = b'{"event": "responseCreated", "data": {"id": "r1", "data": {"cta_q": "clicked"}}}'
    parsed = parse(delivery(body), creds())
    assert (parsed.signals, parsed.errors, parsed.event_type) == ([], [], "responseCreated")


def test_configured_score_off_its_scale() -> None:
    body = b'{"event": "responseFinished", "data": {"id": "r1", "data": {"recommend_q": 11}}}'
    with pytest.raises(BadRequest, match="answer recommend_q: 11 is outside the nps scale 0-10"):
        parse(delivery(body), creds(**SCORES))
    skipped = b'{"event": "responseFinished", "data": {"id": "r1", "data": {"recommend_q": null}}}'
    assert parse(delivery(skipped), creds(**SCORES)).signals == []


def test_options() -> None:
    assert check_options(SCORES) == []
    assert check_options({"score_fields": {"q": "stars"}, "text_fields": [1], "nps": "q"}) == [
        "unknown option 'nps' (known: score_fields, text_fields)",
        "score_fields must map question ids to one of nps, csat, ces, rating",
        "text_fields must be a list of question ids",
    ]
    with pytest.raises(ConfigError):
        parse(delivery(raw("batch_one_bad.json")), creds(text_fields="q"))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "malformed JSON"),
        (b"42", "must be an event object or an array"),
        (b"[]", "empty array"),
        (b"{}", "event: Field required"),
        (b'{"event": "responseFinished", "data": []}', "data: Input should be"),
        (b'{"event": "responseFinished", "data": {"id": "r", "createdAt": "soon"}}', "createdAt"),
        (b"[" + b"{}," * 1000 + b"{}]", "at most 1000 events"),
    ],
)
def test_bad_bodies_are_400(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        parse(delivery(body), creds())


def test_array_of_only_bad_items_reports_each() -> None:
    parsed = parse(delivery(b'[1, {"event": "responseFinished"}]'), creds())
    assert parsed.signals == []
    assert parsed.errors == [
        ItemError(0, "each event must be a JSON object, got int"),
        ItemError(1, "data: Field required"),
    ]


@pytest.mark.parametrize("name", ["responseFinished_wrapped.json", "responseCreated_bare.json"])
def test_every_mutation_is_parsed_or_400(name: str) -> None:
    data = json.loads(raw(name))
    for path in paths(data):
        for new in WEIRD:
            body = json.dumps(replaced(data, path, new)).encode()
            try:
                parse(delivery(body), creds(**SCORES))
            except BadRequest:
                pass


KEYS = st.sampled_from(
    [
        "event",
        "data",
        "id",
        "createdAt",
        "updatedAt",
        "surveyId",
        "finished",
        "contact",
        "contactAttributes",
        "email",
        "firstName",
        "meta",
        "url",
        "survey",
        "title",
        "recommend_q",
        "stars_q",
    ]
) | st.text(max_size=8)
LEAVES = scalars(
    20,
    extra=["responseFinished", "testEndpoint", "clicked", "a@b.co", "2026-01-01T00:00:00Z"],
)
JSON = json_values(KEYS, leaves=LEAVES, max_list=4, max_dict=6, max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_random_json_is_parsed_or_400(value: Any) -> None:
    try:
        parse(delivery(json.dumps(value).encode()), creds(**SCORES))
    except BadRequest:
        pass

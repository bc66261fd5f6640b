"""Typeform adapter: signature (base64 HMAC-SHA256 with `sha256=`), parsing, scales, bad input."""

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
from cxbot.sources.typeform import PROVIDER, check_options, parse, verify
from tests.kit import providers as kit
from tests.kit.fuzz import json_values, scalars
from tests.kit.mutations import WEIRD, paths, replaced

SECRET = "tf-test-secret-7c1e"
NOW = 1_773_482_565.0

raw = partial(kit.raw, "typeform")
sign = kit.Hmac(SECRET, encoding="base64", prefix="sha256=")
delivery = partial(kit.delivery, now=NOW)
creds = kit.creds_for(SECRET)


# --- verify ----------------------------------------------------------------------------------


def test_registry_finds_the_adapter() -> None:
    assert get_provider("typeform") is PROVIDER
    assert (PROVIDER.verify, PROVIDER.parse, PROVIDER.handshake) == (verify, parse, None)
    assert PROVIDER.auth == "secret"


def test_good_signature_passes() -> None:
    body = raw("form_response_nps.json")
    verify(delivery(body, {"typeform-signature": sign(body)}), creds())


def test_signature_of_another_body_fails() -> None:
    body = raw("form_response_nps.json")
    tampered = body.replace(b'"number": 3', b'"number": 9')
    with pytest.raises(Unauthorized, match="does not match"):
        verify(delivery(tampered, {"typeform-signature": sign(body)}), creds())


def test_wrong_secret_fails() -> None:
    body = raw("form_response_nps.json")
    headers = {"typeform-signature": sign(body, "another-secret")}
    with pytest.raises(Unauthorized, match="does not match"):
        verify(delivery(body, headers), creds())


def test_hex_signature_is_refused() -> None:
    # A common mistake in the wild; Typeform sends base64.
    body = raw("form_response_nps.json")
    hex_sig = kit.Hmac(SECRET, prefix="sha256=")(body)
    with pytest.raises(Unauthorized):
        verify(delivery(body, {"typeform-signature": hex_sig}), creds())


def test_signature_without_prefix_is_refused() -> None:
    body = raw("form_response_nps.json")
    bare = sign(body).removeprefix("sha256=")
    with pytest.raises(Unauthorized):
        verify(delivery(body, {"typeform-signature": bare}), creds())


def test_missing_signature_header() -> None:
    with pytest.raises(Unauthorized, match="missing typeform-signature header"):
        verify(delivery(raw("form_response_nps.json")), creds())


def test_no_secret_configured() -> None:
    body = raw("form_response_nps.json")
    with pytest.raises(Unauthorized, match="no signing secret"):
        verify(delivery(body, {"typeform-signature": sign(body)}), Credentials())


@pytest.mark.parametrize("header", ["", " ", "sha256=", "sha256=\u00e7\u00e7", "x" * 5000])
def test_odd_signature_headers_are_401(header: str) -> None:
    with pytest.raises(Unauthorized):
        verify(delivery(b"{}", {"typeform-signature": header}), creds())


# --- parse -----------------------------------------------------------------------------------

NPS_ANSWERS: list[dict[str, Any]] = [
    {
        "field_id": "nPsF13ld0001",
        "ref": "recommend",
        "type": "nps",
        "title": "How likely are you to recommend Kargo Kedi to a friend?",
        "value": 3,
        "scale": "nps",
    },
    {
        "field_id": "lOngTxt00002",
        "ref": "what_to_fix",
        "type": "long_text",
        "title": "Thanks, {{field:first_name}}! What should we fix first?",
        "value": "The parcel arrived two days late 😞 and the box was crushed.",
    },
    {
        "field_id": "sHrtTxt00003",
        "ref": "anything_else",
        "type": "short_text",
        "title": "Anything else, in a few words?",
        "value": "Kurye çok kibardı, teşekkürler",
    },
    {
        "field_id": "eMail0000004",
        "ref": "email",
        "type": "email",
        "title": "Your email, if we may follow up",
        "value": "elif.yilmaz@example.com",
    },
    {
        "field_id": "oPin7Scale05",
        "ref": "effort",
        "type": "opinion_scale",
        "title": "How easy was it to track your parcel?",
        "value": 6,
        "scale": "ces",
    },
    {
        "field_id": "rAting5St006",
        "ref": "courier_stars",
        "type": "rating",
        "title": "Rate the courier",
        "value": 4,
        "scale": "rating",
    },
    {
        "field_id": "nUmber000007",
        "ref": "parcels",
        "type": "number",
        "title": "How many parcels did you get this month?",
        "value": 12,
    },
    {
        "field_id": "cHoice000008",
        "ref": "branch",
        "type": "multiple_choice",
        "title": "Which branch?",
        "value": "İzmir Alsancak",
    },
    {
        "field_id": "cHoices00009",
        "ref": "what_went_wrong",
        "type": "multiple_choice",
        "title": "What went wrong?",
        "value": ["Late delivery", "Damaged box", "Courier rang the wrong bell"],
    },
]


def test_full_response_with_nps() -> None:
    parsed = parse(delivery(raw("form_response_nps.json")), creds())
    assert (parsed.event_id, parsed.event_type, parsed.ping, parsed.errors) == (
        "01HZTFEVT7Q2M3X9KAB4C5D6E7",
        "form_response",
        False,
        [],
    )
    assert parsed.signals == [
        Signal(
            external_id="t0k3nz8r1v0y7c9p4m2q6w8e1r3t5y7u",
            kind="survey",
            text="The parcel arrived two days late 😞 and the box was crushed.\n\n"
            "Kurye çok kibardı, teşekkürler",
            title="Sipariş sonrası anket 📦",
            # NPS wins over the CES answer; the 5-star rating goes beside it.
            score=3,
            score_type="nps",
            rating=4,
            author=Author(name="Elif Yılmaz", email="elif.yilmaz@example.com"),
            url="https://admin.typeform.com/form/Kd9sPq2W/results",
            created_at=datetime(2026, 3, 14, 10, 2, 45, tzinfo=UTC),
            thread_key="t0k3nz8r1v0y7c9p4m2q6w8e1r3t5y7u",
            metadata={
                "form_id": "Kd9sPq2W",
                "answers": NPS_ANSWERS,
                "hidden": {"name": "Elif Yılmaz", "user_id": "90071992547409931"},
                "quiz_score": 0,
            },
        )
    ]


def test_partial_response_in_persian() -> None:
    body = raw("form_response_persian_partial.json")
    assert b"\\u067e\\u0634\\u062a" in body  # escaped on the wire ...
    parsed = parse(delivery(body), creds())
    persian = "پشتیبانی خیلی کند بود 😞 ولی در نهایت مشکل حل شد."
    assert (parsed.event_id, parsed.event_type) == (
        "01HZTFPART1AL0000000000001",
        "form_response_partial",
    )
    assert [s.model_dump() for s in parsed.signals] == [
        {
            # ... and intact once parsed; a partial gets its own id, threaded with the full one.
            "external_id": "p4rt14lt0k3n0000000000000000abcd:partial",
            "kind": "survey",
            "text": persian,
            "title": "نظرسنجی رضایت",
            "rating": None,
            "score": None,
            "score_type": None,
            "author": {"name": None, "email": None, "handle": None},
            "url": "https://admin.typeform.com/form/Pr5nF0rm/results",
            "created_at": datetime(2026, 4, 2, 17, 20, tzinfo=UTC),
            "channel": None,
            "thread_key": "p4rt14lt0k3n0000000000000000abcd",
            "metadata": {
                "form_id": "Pr5nF0rm",
                "answers": [
                    {
                        "field_id": "fArsiTxt0001",
                        "ref": "improve",
                        "type": "long_text",
                        "title": "چه چیزی را بهتر کنیم؟",
                        "value": persian,
                    }
                ],
                "partial": True,
            },
        }
    ]


def test_unknown_scales_are_not_scored() -> None:
    # No steps/shape in the definition: a 4 could be on any scale, so no signal is made.
    parsed = parse(delivery(raw("form_response_unscaled.json")), creds())
    assert (parsed.signals, parsed.errors, parsed.event_id) == ([], [], "01HZTFUNSCALED00000000002")


def test_configured_scales() -> None:
    options = {"score_fields": {"satisfaction": "csat", "RaT1ngNoPrp0": "rating"}}
    parsed = parse(delivery(raw("form_response_unscaled.json")), creds(**options))
    assert parsed.signals == [
        Signal(
            external_id="unsc4l3dt0k3n0000000000000000000",
            kind="survey",
            title="Support check-in",
            score=4,
            score_type="csat",
            rating=2,
            url="https://admin.typeform.com/form/Un5cAl3d/results",
            created_at=datetime(2026, 5, 20, 8, tzinfo=UTC),
            thread_key="unsc4l3dt0k3n0000000000000000000",
            metadata={
                "form_id": "Un5cAl3d",
                "answers": [
                    {
                        "field_id": "OpSc4l3NoPrp",
                        "ref": "satisfaction",
                        "type": "opinion_scale",
                        "title": "How satisfied are you? 1 is not at all, 5 is very",
                        "value": 4,
                        "scale": "csat",
                    },
                    {
                        "field_id": "RaT1ngNoPrp0",
                        "ref": "rate_us",
                        "type": "rating",
                        "title": "Rate us",
                        "value": 2,
                        "scale": "rating",
                    },
                    {
                        "field_id": "YesNo0000001",
                        "ref": "solved",
                        "type": "yes_no",
                        "title": "Was your issue solved?",
                        "value": True,
                    },
                ],
            },
        )
    ]


def test_text_fields_option_picks_the_text() -> None:
    parsed = parse(delivery(raw("form_response_nps.json")), creds(text_fields=["anything_else"]))
    assert [s.text for s in parsed.signals] == ["Kurye çok kibardı, teşekkürler"]


def test_opinion_scale_0_to_10_is_nps() -> None:
    data = json.loads(raw("form_response_unscaled.json"))
    data["form_response"]["definition"]["fields"][0]["properties"] = {
        "steps": 11,
        "start_at_one": False,
    }
    parsed = parse(delivery(json.dumps(data).encode()), creds())
    assert [(s.score, s.score_type, s.rating) for s in parsed.signals] == [(4, "nps", None)]


def test_configured_score_off_its_scale_is_400() -> None:
    options = {"score_fields": {"rate_us": "ces", "satisfaction": "rating"}}
    data = json.loads(raw("form_response_unscaled.json"))
    data["form_response"]["answers"][0]["number"] = 9
    with pytest.raises(BadRequest, match="satisfaction: 9 is not a 1-5 star rating"):
        parse(delivery(json.dumps(data).encode()), creds(**options))


def test_configured_score_on_a_text_answer_is_400() -> None:
    options = {"score_fields": {"what_to_fix": "nps"}}
    with pytest.raises(BadRequest, match="what_to_fix is on the nps scale but"):
        parse(delivery(raw("form_response_nps.json")), creds(**options))


def test_bad_options_are_config_errors() -> None:
    assert check_options({"score_fields": {"recommend": "nps"}, "text_fields": ["a"]}) == []
    assert check_options({"score_fields": {"x": "stars"}, "text_fields": "a", "scale": 1}) == [
        "unknown option 'scale' (known: score_fields, text_fields)",
        "score_fields must map field refs or ids to one of nps, csat, ces, rating",
        "text_fields must be a list of field refs or ids",
    ]
    with pytest.raises(ConfigError):
        parse(delivery(raw("form_response_nps.json")), creds(score_fields=["x"]))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "malformed JSON"),
        (b"\xff\xfe", "not valid UTF-8"),
        (b"[]", "must be a JSON object"),
        (b"{}", "event_id: Field required"),
        (b'{"event_id": "e", "event_type": "form_response"}', "form_response: Field required"),
        (
            b'{"event_id": "e", "event_type": "t", "form_response": {"form_id": "f", "token": 7}}',
            "form_response.token: Input should be a valid string",
        ),
    ],
)
def test_bad_bodies_are_400(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        parse(delivery(body), creds())


@pytest.mark.parametrize("name", ["form_response_nps.json", "form_response_persian_partial.json"])
def test_every_mutation_is_parsed_or_400(name: str) -> None:
    data = json.loads(raw(name))
    options = {"score_fields": {"recommend": "nps"}, "text_fields": ["what_to_fix"]}
    for path in paths(data):
        for new in WEIRD:
            body = json.dumps(replaced(data, path, new)).encode()
            try:
                parse(delivery(body), creds(**options))
            except BadRequest:
                pass


KEYS = st.sampled_from(
    [
        "event_id",
        "event_type",
        "form_response",
        "form_id",
        "token",
        "answers",
        "field",
        "id",
        "type",
        "ref",
        "definition",
        "fields",
        "title",
        "text",
        "number",
        "email",
        "choice",
        "choices",
        "labels",
        "hidden",
        "properties",
        "steps",
        "start_at_one",
        "shape",
        "submitted_at",
        "calculated",
        "score",
    ]
) | st.text(max_size=8)
LEAVES = scalars(
    20,
    extra=[
        "form_response",
        "form_response_partial",
        "nps",
        "opinion_scale",
        "rating",
        "star",
        "long_text",
        "number",
        "text",
        "2026-01-01T00:00:00Z",
    ],
)
JSON = json_values(KEYS, leaves=LEAVES, max_list=4, max_dict=6, max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_random_json_is_parsed_or_400(value: Any) -> None:
    try:
        parse(
            delivery(json.dumps(value).encode()),
            creds(**{"score_fields": {"recommend": "nps", "x": "rating"}}),
        )
    except BadRequest:
        pass

"""Mapped: any JSON webhook read through a field map from the config."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxbot.errors import BadRequest, ConfigError, Unauthorized
from cxbot.models import Author, Signal
from cxbot.sources import get_provider
from cxbot.sources.base import Credentials, ItemError, Parsed
from cxbot.sources.mapped import (
    PROVIDER,
    as_id,
    as_loose,
    as_number,
    as_rating,
    as_time,
    check_options,
    flatten,
    parse,
    validate_mapping,
    verify,
)
from tests.kit import fuzz
from tests.kit import providers as kit

TOKEN = "mapped-test-token-e71"
SECRET = "mapped-test-secret-2d9"

# The config as a user writes it; TOML turns the unquoted dotted keys into nested tables.
CONFIG = """
[sources.mentions]
type = "mapped"
token_env = "MENTIONS_TOKEN"

[sources.mentions.map]
id = "id"
kind = "mention"
title = "title"
text = "description"
url = "url"
created_at = "published_at"
channel = "source_type"
author.name = "author_influence.name"
metadata.tone = "tone"
metadata.tone_score = "tone_score"
metadata.important = "important"
metadata.read = "read"
metadata.tasks = "tasks"

[sources.gorgias]
type = "mapped"
secret_env = "GORGIAS_SECRET"

[sources.gorgias.map]
id = "ticket.id"
kind = "=ticket"
title = "ticket.subject"
text = ["ticket.satisfaction_survey.body_text", "ticket.messages.0.body_text"]
rating = "ticket.satisfaction_survey.score"
"author.email" = "ticket.customer.email"
"author.name" = "ticket.customer.name"
created_at = "ticket.created_datetime"
channel = "ticket.channel"
thread_key = "ticket.id"

[sources.make]
type = "mapped"
token_env = "MAKE_TOKEN"

[sources.make.map]
items = "data.reviews"
id = "review_id"
kind = "=review"
rating = "stars"
text = "comment"
title = "title_alt"
author = { email = "customer.mail" }
created_at = "submitted"
channel = "=make"
"metadata.account" = "$.account.name"
"""
SOURCES = tomllib.loads(CONFIG)["sources"]

load = partial(kit.raw, "mapped")
post = partial(kit.delivery, now=1_718_300_000.0)
sign = kit.Hmac(SECRET, prefix="sha256=")  # the mapped source's X-Cxbot-Signature


def creds_for(source: str, **kwargs: Any) -> Credentials:
    options = {k: v for k, v in SOURCES[source].items() if not k.endswith("_env") and k != "type"}
    return Credentials(options=options, **kwargs)


def with_map(mapping: dict[str, Any], **kwargs: Any) -> Credentials:
    return Credentials(options={"map": mapping}, **kwargs)


KNOWN_KEYS = (
    "id, kind, text, title, rating, score, score_type, url, created_at, channel, thread_key, "
    "author.name, author.email, author.handle, items, event_id, event_type, metadata.<name>"
)
BASIC = {"id": "id", "kind": "=review", "text": "text", "rating": "stars"}


def test_provider_is_registered_and_picks_its_check_by_credential() -> None:
    assert get_provider("mapped") is PROVIDER
    assert (PROVIDER.auth, PROVIDER.verify, PROVIDER.handshake) == (None, verify, None)


# --- the mapping ----------------------------------------------------------------------------


def test_the_documented_toml_shapes_are_valid_maps() -> None:
    for name in ("mentions", "gorgias", "make"):
        assert check_options(creds_for(name).options) == [], name


def test_nested_and_dotted_keys_flatten_to_the_same_fields() -> None:
    assert flatten({"author": {"email": "a.b"}, "metadata.x": "y", "metadata": {"z": "w"}}) == {
        "author.email": "a.b",
        "metadata.x": "y",
        "metadata.z": "w",
    }


@pytest.mark.parametrize(
    ("mapping", "problems"),
    [
        (None, ["a mapped source needs a [sources.NAME.map] table"]),
        ("id", ['map must be a table of `field = "path"` entries, e.g. [sources.NAME.map]']),
        (
            {"kind": "=review", "text": "t"},
            ["map.id is required"],
        ),
        (
            {"id": "id", "title": "t"},
            [
                "map.kind is required",
                "map needs at least one of text, rating or score (a signal needs one)",
            ],
        ),
        (
            {**BASIC, "kind": "=complaint"},
            ["map.kind: 'complaint' is not one of review, ticket, message, mention, survey"],
        ),
        ({**BASIC, "id": "=1"}, ["map.id must be a path into the body, not a constant"]),
        ({**BASIC, "items": "=x"}, ["map.items must be a path into the body, not a constant"]),
        ({**BASIC, "score": "nps"}, ["map.score and map.score_type go together"]),
        (
            {**BASIC, "score": "s", "score_type": "=stars"},
            ["map.score_type: 'stars' is not one of nps, csat, ces"],
        ),
        ({**BASIC, "rating": "=7"}, ["map.rating: '7' is not between 1 and 5"]),
        ({**BASIC, "text": "a..b"}, ["map.text: 'a..b' is not a dotted path like 'ticket.id'"]),
        ({**BASIC, "text": ""}, ["map.text: '' is not a dotted path like 'ticket.id'"]),
        (
            {**BASIC, "text": 5},
            ['map.text: expected a path string ("a.b"), a constant ("=x") or a list of paths'],
        ),
        (
            {**BASIC, "text": []},
            ['map.text: expected a path string ("a.b"), a constant ("=x") or a list of paths'],
        ),
        (
            {**BASIC, "metadata.": "x"},
            [f"map.metadata.: unknown key (known: {KNOWN_KEYS})"],
        ),
        (
            {**BASIC, "author": "customer.name"},
            [f"map.author: unknown key (known: {KNOWN_KEYS})"],
        ),
    ],
)
def test_validate_mapping_names_every_problem(mapping: Any, problems: list[str]) -> None:
    assert validate_mapping(mapping) == problems


def test_check_options_refuses_unknown_options() -> None:
    assert check_options({"map": BASIC, "mapp": {}}) == [
        "unknown option(s) mapp; a mapped source takes `map`"
    ]


def test_a_bad_map_at_request_time_is_a_config_error_not_the_senders_fault() -> None:
    with pytest.raises(ConfigError) as err:
        parse(post(b'{"id": 1}'), with_map({"id": "id"}))
    assert str(err.value) == (
        "mapped source: map.kind is required; "
        "map needs at least one of text, rating or score (a signal needs one)"
    )


# --- parsing the documented shapes ----------------------------------------------------------


def test_zapier_mention_with_stringified_values() -> None:
    raw = load("zapier_mention.json")
    assert b"\\u2026" in raw and b"\\/" in raw
    assert parse(post(raw), creds_for("mentions")) == Parsed(
        signals=[
            Signal(
                external_id="330000000001",
                kind="mention",
                title="Acme kargo gecikmesi hakkında şikayetler",
                text="… Acme'den aldığım ürün iki haftadır gelmedi …",
                author=Author(name="forum.example.com"),
                url="https://forum.example.com/t/acme-kargo/991",
                # 8 fraction digits from Zapier, read to the microsecond
                created_at=datetime(2024, 6, 12, 21, 20, 46, 226191, tzinfo=UTC),
                channel="forums",
                # "True"/"False" → booleans; numbers stay as sent; "" → left out
                metadata={"tone": "-1", "tone_score": "0.912", "important": True, "read": False},
            )
        ]
    )


def test_gorgias_ticket_with_fallbacks_and_a_big_integer_id() -> None:
    parsed = parse(post(load("gorgias_ticket.json")), creds_for("gorgias"))
    assert parsed == Parsed(
        signals=[
            Signal(
                external_id="9007199254740993",  # 2**53 + 1, kept exactly
                kind="ticket",
                title="İade talebi",
                # the survey comment is "", so the first message is used
                text="سلام، می\u200cخواهم سفارش ۱۲۳ را مرجوع کنم.",
                rating=4,  # "4"
                author=Author(name="Mina Rahimi", email="mina@example.com"),
                created_at=datetime(2024, 6, 13, 7, 0, tzinfo=UTC),
                channel="email",
                thread_key="9007199254740993",
            )
        ]
    )


def test_make_batch_keeps_the_good_items_and_reports_the_bad_one() -> None:
    parsed = parse(post(load("make_batch.json")), creds_for("make"))
    assert parsed == Parsed(
        signals=[
            Signal(
                external_id="r-1",
                kind="review",
                text="Hızlı teslimat 👍",
                rating=4,  # "4.0"
                author=Author(email="ali@example.com"),
                created_at=datetime(2024, 6, 10, 6, 13, 20, tzinfo=UTC),  # unix seconds
                channel="make",
                metadata={"account": "Acme EU"},  # from the root of the body
            ),
            Signal(
                external_id="r-3",
                kind="review",
                title="Never again",
                rating=1,
                created_at=datetime(2024, 6, 10, 8, 0, tzinfo=UTC),  # +02:00 → UTC
                channel="make",
                metadata={"account": "Acme EU"},
            ),
        ],
        errors=[ItemError(1, "rating: '4.5' is not a whole number of stars")],
    )


def test_a_top_level_array_is_a_batch() -> None:
    body = json.dumps(
        [{"id": 1, "text": "a"}, {"id": 2.5, "text": "b"}, {"id": "3", "stars": "5"}]
    ).encode()
    parsed = parse(post(body), with_map(BASIC))
    assert [s.external_id for s in parsed.signals] == ["1", "3"]
    assert parsed.errors == [
        ItemError(1, "id: 2.5 is a float and may have lost digits; send ids as text")
    ]


def test_a_single_object_that_cannot_be_read_is_a_bad_request() -> None:
    with pytest.raises(BadRequest) as err:
        parse(post(b'{"text": "no id"}'), with_map(BASIC))
    assert err.value.message == "id: nothing at 'id'"


def test_event_id_and_type_come_from_the_body_root() -> None:
    mapping = {
        **BASIC,
        "items": "data",
        "event_id": "delivery.id",
        "event_type": ["delivery.topic", "=review.batch"],
    }
    body = b'{"delivery": {"id": 77}, "data": [{"id": "a", "text": "x"}]}'
    parsed = parse(post(body), with_map(mapping))
    assert (parsed.event_id, parsed.event_type, len(parsed.signals)) == ("77", "review.batch", 1)


def test_kind_and_score_can_come_from_the_payload() -> None:
    mapping = {"id": "id", "kind": "type", "score": "nps", "score_type": "=nps", "text": "comment"}
    body = b'{"id": "s1", "type": " Survey ", "nps": "9", "comment": ""}'
    [signal] = parse(post(body), with_map(mapping)).signals
    assert signal == Signal(external_id="s1", kind="survey", score=9.0, score_type="nps")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"items": {"a": 1}}', "map.items points at an object, not an array"),
        (b"nope", "malformed JSON: Expecting value at line 1 column 1"),
        (b'{"items": [' + b"{}," * 1000 + b"{}]}", "at most 1000 items per request, got 1001"),
    ],
)
def test_malformed_bodies_are_bad_requests(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest) as err:
        parse(post(body), with_map({**BASIC, "items": "items"}))
    assert err.value.message == message


def test_a_missing_item_list_is_an_empty_delivery() -> None:
    assert parse(post(b"{}"), with_map({**BASIC, "items": "items"})) == Parsed()


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"id": True, "text": "x"}, "id: true/false is not an id"),
        ({"id": {"a": 1}, "text": "x"}, "id: expected a string or integer id, got dict"),
        ({"id": "a", "text": {"a": 1}}, "text: expected text, got an object"),
        ({"id": "a", "stars": "five"}, "rating: 'five' is not a number"),
        ({"id": "a", "stars": "0"}, "rating: '0' is not between 1 and 5"),
        ({"id": "a", "stars": True}, "rating: expected a number, got true/false"),
        (
            {"id": "a", "text": "x", "when": "last week"},
            "created_at: 'last week' is not an ISO-8601 time or unix timestamp",
        ),
        (
            {"id": "a", "text": "x", "when": 1e300},
            "created_at: '1e+300' is not an ISO-8601 time or unix timestamp",
        ),
        (
            {"id": "a", "text": "x", "kind": "complaint"},
            "kind: Input should be 'review', 'ticket', 'message', 'mention' or 'survey'",
        ),
    ],
)
def test_values_that_cannot_be_coerced_are_item_errors(item: dict[str, Any], message: str) -> None:
    mapping = {
        "items": "items",
        "id": "id",
        "kind": ["kind", "=review"],
        "text": "text",
        "rating": "stars",
        "created_at": "when",
    }
    parsed = parse(
        post(json.dumps({"items": [{"id": "ok", "text": "fine"}, item]}).encode()),
        with_map(mapping),
    )
    assert [s.external_id for s in parsed.signals] == ["ok"]
    assert parsed.errors == [ItemError(1, message)]


# --- coercion -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [("4", 4), ("4.0", 4), (4.0, 4), (" 5 ", 5), (1, 1)]
)
def test_ratings_from_strings_and_floats(value: Any, expected: int) -> None:
    assert as_rating(value, "rating") == expected


@pytest.mark.parametrize(
    ("value", "expected"), [("8", 8.0), ("0.529054", 0.529054), (7, 7.0), ("-1", -1.0)]
)
def test_scores_from_strings(value: Any, expected: float) -> None:
    assert as_number(value, "score") == expected


@pytest.mark.parametrize("value", ["nan", "inf", "", None, [1]])
def test_non_numbers_are_refused(value: Any) -> None:
    with pytest.raises(BadRequest):
        as_number(value, "score")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("True", True),
        ("false", False),
        ("FALSE", False),
        ("0", "0"),
        ("yes", "yes"),
        (3, 3),
        ({"a": 1}, {"a": 1}),
    ],
)
def test_metadata_reads_stringified_booleans_only(value: Any, expected: Any) -> None:
    assert as_loose(value, "metadata.x") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (123, "123"),
        (2**64 + 1, "18446744073709551617"),
        (12.0, "12"),
        (" abc ", "abc"),
    ],
)
def test_ids(value: Any, expected: str) -> None:
    assert as_id(value, "id") == expected


@pytest.mark.parametrize("value", [1e20, 2.5, "", "  ", None, False])
def test_ids_that_cannot_be_trusted(value: Any) -> None:
    with pytest.raises(BadRequest):
        as_id(value, "id")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1718000000, datetime(2024, 6, 10, 6, 13, 20, tzinfo=UTC)),
        ("1718000000", datetime(2024, 6, 10, 6, 13, 20, tzinfo=UTC)),
        (1718000000500, datetime(2024, 6, 10, 6, 13, 20, 500000, tzinfo=UTC)),  # milliseconds
        ("2024-06-10T06:13:20Z", datetime(2024, 6, 10, 6, 13, 20, tzinfo=UTC)),
        ("2024-06-10 09:13:20+03:00", datetime(2024, 6, 10, 6, 13, 20, tzinfo=UTC)),
        ("2024-06-10T06:13:20", datetime(2024, 6, 10, 6, 13, 20, tzinfo=UTC)),  # naive = UTC
    ],
)
def test_times(value: Any, expected: datetime) -> None:
    assert as_time(value, "created_at") == expected


# --- verification ---------------------------------------------------------------------------


def test_token_source_checks_the_shared_token() -> None:
    creds = with_map(BASIC, token=TOKEN)
    verify(post(b"{}", query={"token": TOKEN}), creds)
    verify(post(b"{}", headers={"x-cxbot-token": TOKEN}), creds)
    with pytest.raises(Unauthorized) as err:
        verify(post(b"{}", query={"token": "guess"}), creds)
    assert err.value.message == "wrong token"


def test_token_wins_when_both_are_configured() -> None:
    creds = with_map(BASIC, token=TOKEN, secret=SECRET)
    signature = sign(b"{}")
    with pytest.raises(Unauthorized) as err:
        verify(post(b"{}", {"x-cxbot-signature": signature}), creds)
    assert err.value.message == "missing token: add ?token=… to the URL or an X-Cxbot-Token header"


def test_secret_source_checks_the_cxbot_signature() -> None:
    creds = with_map(BASIC, secret=SECRET)
    raw = load("gorgias_ticket.json")
    signature = sign(raw)
    verify(post(raw, {"x-cxbot-signature": signature}), creds)
    with pytest.raises(Unauthorized) as err:
        verify(post(raw + b" ", {"x-cxbot-signature": signature}), creds)
    assert err.value.message == "signature does not match the body"
    with pytest.raises(Unauthorized) as err:
        verify(post(raw), creds)
    assert err.value.message == "missing X-Cxbot-Signature header"


def test_a_source_without_credentials_refuses_everything() -> None:
    with pytest.raises(Unauthorized) as err:
        verify(post(b"{}", query={"token": "anything"}), with_map(BASIC))
    assert (
        err.value.message
        == "this mapped source has no token or secret configured: set token_env or secret_env"
    )


json_values = fuzz.json_values()
FULL_MAP = {
    "items": "items",
    "id": ["id", "$.id"],
    "kind": ["kind", "=message"],
    "text": "text",
    "title": "title",
    "rating": "rating",
    "score": "score",
    "score_type": "st",
    "url": "url",
    "created_at": "at",
    "thread_key": "id",
    "author.email": "email",
    "metadata.x": "x",
    "event_id": "eid",
    "event_type": "etype",
}
numbers_as_text = st.from_regex(r"\A-?[0-9]{1,25}(\.[0-9]{1,3})?\Z")
items = st.fixed_dictionaries(
    {},
    optional={
        key: json_values | numbers_as_text
        for key in (
            "id",
            "kind",
            "text",
            "title",
            "rating",
            "score",
            "st",
            "url",
            "at",
            "email",
            "x",
        )
    },
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {"items": st.lists(items | json_values, max_size=4)},
        optional={"id": json_values, "eid": json_values, "etype": json_values},
    )
    | json_values
)
def test_any_json_gives_a_result_or_a_bad_request(body: Any) -> None:
    assert validate_mapping(FULL_MAP) == []
    try:
        parse(post(json.dumps(body).encode()), with_map(FULL_MAP))
    except BadRequest:
        pass

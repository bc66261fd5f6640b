"""X Account Activity API: CRC handshake, base64 signature, tweet_create_events → mentions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxbot.errors import BadRequest, HTTPError, Unauthorized
from cxbot.models import Author, Signal
from cxbot.sources import get_provider
from cxbot.sources.base import Credentials, Delivery, HandshakeReply, ItemError, Parsed
from cxbot.sources.x import PROVIDER, handshake, parse, parse_twitter_time, verify
from tests.kit import fuzz
from tests.kit import providers as kit

CONSUMER_SECRET = "x-test-consumer-secret-93kd"
CREDS = Credentials(secret=CONSUMER_SECRET)
OWN_ID = "1400000000000000001"

load = partial(kit.raw, "x")
b64_hmac = kit.Hmac(CONSUMER_SECRET, encoding="base64")  # the CRC answer and the signature
post = partial(kit.delivery, now=1_718_120_000.0)


def tweets_body(*tweets: dict[str, Any]) -> bytes:
    return json.dumps({"for_user_id": OWN_ID, "tweet_create_events": list(tweets)}).encode()


def tweet(**overrides: Any) -> dict[str, Any]:
    value = {
        "created_at": "Tue Jun 11 14:02:07 +0000 2024",
        "id_str": "1790000000000000999",
        "text": "@acme_help hi",
        "user": {"id_str": "1500000000000000042", "name": "Nima R.", "screen_name": "nima_r"},
    }
    return {**value, **overrides}


def test_provider_is_registered_with_signature_and_crc() -> None:
    assert get_provider("x") is PROVIDER
    assert (PROVIDER.auth, PROVIDER.verify, PROVIDER.handshake) == ("secret", verify, handshake)


# --- CRC ------------------------------------------------------------------------------------


def test_crc_answers_with_the_hmac_of_the_token() -> None:
    delivery = Delivery(body=b"", query={"crc_token": "Zm9vYmFy-crc-1718"}, method="GET")
    reply = handshake(delivery, CREDS)
    assert reply == HandshakeReply(
        200,
        json.dumps({"response_token": "sha256=" + b64_hmac(b"Zm9vYmFy-crc-1718")}),
        "application/json",
    )
    assert json.loads(reply.body) == {"response_token": "sha256=" + b64_hmac(b"Zm9vYmFy-crc-1718")}


@pytest.mark.parametrize(
    ("query", "creds", "error", "message"),
    [
        ({}, CREDS, BadRequest, "missing crc_token"),
        ({"crc_token": ""}, CREDS, BadRequest, "missing crc_token"),
        (
            {"crc_token": "abc"},
            Credentials(),
            Unauthorized,
            "this source has no signing secret configured",
        ),
    ],
)
def test_crc_refusals(
    query: dict[str, str], creds: Credentials, error: type[HTTPError], message: str
) -> None:
    with pytest.raises(error) as err:
        handshake(Delivery(body=b"", query=query, method="GET"), creds)
    assert err.value.message == message


# --- signature ------------------------------------------------------------------------------


def test_signature_over_the_raw_bytes_verifies() -> None:
    raw = load("tweet_create_events.json")
    assert b"\\/" in raw and b"\\u003c" in raw  # X escapes "/" and "<" on the wire
    verify(post(raw, {"x-twitter-webhooks-signature": "sha256=" + b64_hmac(raw)}), CREDS)


def test_a_one_byte_change_does_not_verify() -> None:
    raw = load("tweet_create_events.json")
    tampered = raw.replace(b"refund pls", b"refund plz")
    with pytest.raises(Unauthorized) as err:
        verify(post(tampered, {"x-twitter-webhooks-signature": "sha256=" + b64_hmac(raw)}), CREDS)
    assert (
        err.value.message
        == "x-twitter-webhooks-signature does not match the body (wrong consumer secret?)"
    )


@pytest.mark.parametrize(
    ("headers", "creds", "message"),
    [
        ({}, CREDS, "missing x-twitter-webhooks-signature header"),
        (
            # Right HMAC, wrong encoding: X sends base64, not hex.
            {"x-twitter-webhooks-signature": kit.Hmac(CONSUMER_SECRET, prefix="sha256=")(b"{}")},
            CREDS,
            "x-twitter-webhooks-signature does not match the body (wrong consumer secret?)",
        ),
        (
            {"x-twitter-webhooks-signature": "sha256=" + b64_hmac(b"{}", "access-token-secret")},
            CREDS,
            "x-twitter-webhooks-signature does not match the body (wrong consumer secret?)",
        ),
        (
            {"x-twitter-webhooks-signature": "sha256=" + b64_hmac(b"{}")},
            Credentials(),
            "this source has no signing secret configured",
        ),
    ],
    ids=["missing", "hex", "other-key", "no-secret"],
)
def test_signature_refusals(headers: dict[str, str], creds: Credentials, message: str) -> None:
    with pytest.raises(Unauthorized) as err:
        verify(post(b"{}", headers), creds)
    assert err.value.message == message


# --- parsing --------------------------------------------------------------------------------


def test_mentions_become_signals_and_our_own_reply_is_dropped() -> None:
    parsed = parse(post(load("tweet_create_events.json")), CREDS)

    common: dict[str, Any] = {"kind": "mention", "channel": "x"}
    assert parsed.signals == [
        Signal(
            # id_str, exactly: the numeric id is beyond 2**53
            external_id="1790000000000000123",
            text="@acme_help سفارشم کجاست؟ order #4411 & refund pls 🙏",  # &amp; unescaped
            author=Author(name="Nima R.", handle="@nima_r"),
            url="https://x.com/nima_r/status/1790000000000000123",
            created_at=datetime(2024, 6, 11, 14, 2, 7, tzinfo=UTC),
            metadata={
                "author_id": "1500000000000000042",
                "lang": "fa",
                "in_reply_to_screen_name": "acme_help",
                "for_user_id": OWN_ID,
                "user_has_blocked": False,
            },
            **common,
        ),
        # (tweet 1 is the subscribed account's own reply: dropped)
        Signal(
            external_id="1790000000000000125",
            # truncated: the full text comes from extended_tweet
            text=(
                "@acme_help this is the third time my package shows delivered but nothing at the "
                "door, what is going on? Kargo takip numarası çalışmıyor."
            ),
            author=Author(name="Elif Şahin", handle="@elif_s"),
            url="https://x.com/elif_s/status/1790000000000000125",
            created_at=datetime(2024, 6, 11, 15, 30, 45, tzinfo=UTC),
            metadata={
                "author_id": "1600000000000000007",
                "lang": "en",
                "for_user_id": OWN_ID,
                "user_has_blocked": False,
            },
            **common,
        ),
    ]
    # The last tweet has only a float-y numeric id: reported, never guessed from `id`.
    assert parsed.errors == [ItemError(3, "tweet has no id_str (a string of digits)")]
    assert (parsed.event_id, parsed.event_type) == (None, "tweet_create_events")


def test_id_str_is_kept_exactly_where_a_float_would_round() -> None:
    [signal] = parse(
        post(tweets_body(tweet(id=9007199254740993, id_str="9007199254740993"))), CREDS
    ).signals
    assert signal.external_id == "9007199254740993"
    assert str(int(float(9007199254740993))) != "9007199254740993"


def test_other_event_types_store_nothing() -> None:
    assert parse(post(load("favorite_events.json")), CREDS) == Parsed(event_type="favorite_events")


@pytest.mark.parametrize(
    "item",
    [
        tweet(user={"id_str": OWN_ID, "screen_name": "acme_help"}),  # our own tweet
        tweet(
            retweeted_status={"id_str": "1"}, text="RT @acme_help: our launch"
        ),  # a plain retweet
    ],
    ids=["own", "retweet"],
)
def test_tweets_that_are_not_customer_words_store_nothing(item: dict[str, Any]) -> None:
    assert parse(post(tweets_body(item)), CREDS) == Parsed(event_type="tweet_create_events")


def test_without_for_user_id_nothing_is_treated_as_our_own() -> None:
    body = json.dumps(
        {"tweet_create_events": [tweet(user={"id_str": OWN_ID, "screen_name": "acme_help"})]}
    )
    assert len(parse(post(body.encode()), CREDS).signals) == 1


def test_timestamp_ms_is_the_fallback_time() -> None:
    item = tweet(created_at=None, timestamp_ms="1718114527123")
    [signal] = parse(post(tweets_body(item)), CREDS).signals
    assert signal.created_at == datetime(2024, 6, 11, 14, 2, 7, 123000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wed Oct 10 20:19:24 +0000 2018", datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)),
        ("Sat Nov 28 05:30:03 +0000 2020", datetime(2020, 11, 28, 5, 30, 3, tzinfo=UTC)),
        ("Mon Mar 04 01:00:00 +0330 2024", datetime(2024, 3, 3, 21, 30, tzinfo=UTC)),
    ],
)
def test_twitter_times_are_read_as_utc(text: str, expected: datetime) -> None:
    parsed = parse_twitter_time(text)
    assert parsed == expected and parsed.utcoffset() is not None and not parsed.utcoffset()


@pytest.mark.parametrize(
    "text",
    [
        "2018-10-10T20:19:24Z",
        "Wed Foo 10 20:19:24 +0000 2018",
        "Wed Feb 30 20:19:24 +0000 2018",
        "",
    ],
)
def test_unreadable_times_are_bad_requests(text: str) -> None:
    with pytest.raises(BadRequest):
        parse_twitter_time(text)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("x", "tweet must be a JSON object, got str"),
        (tweet(user=None), "tweet user must be a JSON object, got NoneType"),
        (tweet(id_str="12a"), "tweet has no id_str (a string of digits)"),
        (tweet(user={"id_str": "5", "name": "n"}), "tweet user has no screen_name"),
        (tweet(text=["x"]), "tweet text must be a string"),
        (
            tweet(created_at="2024-06-11"),
            "created_at '2024-06-11' is not like 'Wed Oct 10 20:19:24 +0000 2018'",
        ),
        (tweet(text=None), "a signal needs text, a rating or a score"),
        (
            tweet(created_at=None, timestamp_ms="9" * 20),
            "timestamp_ms '99999999999999999999' is out of range",
        ),
    ],
)
def test_bad_tweets_are_item_errors(item: Any, message: str) -> None:
    parsed = parse(post(tweets_body(tweet(), item)), CREDS)
    assert [s.external_id for s in parsed.signals] == ["1790000000000000999"]
    assert parsed.errors == [ItemError(1, message)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'"hello"', "body must be a JSON object, got str"),
        (b'{"tweet_create_events": {}}', "tweet_create_events must be an array"),
        (
            b"{,}",
            "malformed JSON: Expecting property name enclosed in double quotes at line 1 column 2",
        ),
    ],
)
def test_malformed_bodies_are_bad_requests(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest) as err:
        parse(post(body), CREDS)
    assert err.value.message == message


json_values = fuzz.json_values()
tweets = st.fixed_dictionaries(
    {},
    optional={
        "id_str": json_values | st.from_regex(r"\A[0-9]{1,20}\Z"),
        "text": json_values,
        "created_at": json_values | st.just("Tue Jun 11 14:02:07 +0000 2024"),
        "timestamp_ms": json_values | st.from_regex(r"\A[0-9]{1,25}\Z"),
        "extended_tweet": json_values | st.fixed_dictionaries({"full_text": json_values}),
        "retweeted_status": json_values,
        "user": json_values
        | st.fixed_dictionaries(
            {"id_str": json_values, "screen_name": json_values, "name": json_values}
        ),
    },
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {"tweet_create_events": st.lists(tweets | json_values, max_size=4)},
        optional={"for_user_id": json_values},
    )
    | json_values
)
def test_any_json_gives_a_result_or_a_bad_request(body: Any) -> None:
    try:
        parse(post(json.dumps(body).encode()), CREDS)
    except BadRequest:
        pass

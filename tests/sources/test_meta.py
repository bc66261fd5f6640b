"""Meta (Facebook Pages, Instagram): hub.challenge handshake, X-Hub-Signature-256, batches."""

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
from cxbot.sources.meta import PROVIDER, handshake, parse, verify
from tests.kit import fuzz
from tests.kit import providers as kit

APP_SECRET = "meta-test-app-secret-0a1b"
VERIFY_TOKEN = "meta-verify-token-7c9d"
CREDS = Credentials(secret=APP_SECRET, verify_token=VERIFY_TOKEN)
PAGE = "104857600123456"

load = partial(kit.raw, "meta")
sign = kit.Hmac(APP_SECRET, prefix="sha256=")
post = partial(kit.delivery, now=1_718_000_400.0)


def get(**query: str) -> Delivery:
    return kit.delivery(b"", query=query, method="GET", now=1_718_000_400.0)


def page_body(*values: dict[str, Any], field: str = "feed") -> bytes:
    changes = [{"field": field, "value": value} for value in values]
    return json.dumps(
        {"object": "page", "entry": [{"id": PAGE, "time": 1718000000, "changes": changes}]}
    ).encode()


def comment(**overrides: Any) -> dict[str, Any]:
    value = {
        "from": {"id": "7000000000000009", "name": "Customer"},
        "message": "hello",
        "post_id": f"{PAGE}_1",
        "comment_id": "1_2",
        "created_time": 1718000000,
        "item": "comment",
        "verb": "add",
    }
    return {**value, **overrides}


def test_provider_is_registered_with_signature_and_handshake() -> None:
    assert get_provider("meta") is PROVIDER
    assert (PROVIDER.auth, PROVIDER.verify, PROVIDER.handshake) == ("secret", verify, handshake)


# --- handshake ------------------------------------------------------------------------------


def test_handshake_echoes_the_challenge_unchanged() -> None:
    reply = handshake(
        get(
            **{
                "hub.mode": "subscribe",
                "hub.challenge": "1158201444",
                "hub.verify_token": VERIFY_TOKEN,
            }
        ),
        CREDS,
    )
    assert reply == HandshakeReply(200, "1158201444", "text/plain")


@pytest.mark.parametrize(
    ("query", "creds", "error", "message"),
    [
        (
            {"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "guess"},
            CREDS,
            Unauthorized,
            "hub.verify_token does not match the configured verify token",
        ),
        (
            {"hub.mode": "subscribe", "hub.challenge": "1"},
            CREDS,
            Unauthorized,
            "hub.verify_token does not match the configured verify token",
        ),
        (
            {"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": VERIFY_TOKEN},
            Credentials(secret=APP_SECRET),
            Unauthorized,
            "this source has no verify token configured",
        ),
        (
            {"hub.mode": "unsubscribe", "hub.challenge": "1", "hub.verify_token": VERIFY_TOKEN},
            CREDS,
            BadRequest,
            "expected hub.mode=subscribe",
        ),
        (
            {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN},
            CREDS,
            BadRequest,
            "missing hub.challenge",
        ),
    ],
    ids=["wrong-token", "no-token", "not-configured", "wrong-mode", "no-challenge"],
)
def test_handshake_refusals(
    query: dict[str, str], creds: Credentials, error: type[HTTPError], message: str
) -> None:
    with pytest.raises(error) as err:
        handshake(get(**query), creds)
    assert err.value.message == message


# --- signature ------------------------------------------------------------------------------


def test_signature_over_the_raw_escaped_bytes_verifies() -> None:
    raw = load("page_feed_comment.json")
    assert b"\\u00e7" in raw and b"\\ud83d\\ude21" in raw and b"\\/" in raw  # wire-escaped
    verify(post(raw, {"x-hub-signature-256": sign(raw)}), CREDS)


def test_uppercase_hex_is_accepted() -> None:
    raw = load("page_feed_comment.json")
    verify(
        post(raw, {"x-hub-signature-256": "sha256=" + sign(raw).removeprefix("sha256=").upper()}),
        CREDS,
    )


def test_re_serialised_body_does_not_verify() -> None:
    """Signing the decoded text instead of the wire bytes is the classic Meta bug."""
    raw = load("page_feed_comment.json")
    reserialised = json.dumps(json.loads(raw), ensure_ascii=False).encode()
    assert json.loads(reserialised) == json.loads(raw)
    with pytest.raises(Unauthorized):
        verify(post(reserialised, {"x-hub-signature-256": sign(raw)}), CREDS)


def test_a_one_byte_change_does_not_verify() -> None:
    raw = load("page_feed_comment.json")
    tampered = raw.replace(b'"verb":"add"', b'"verb":"adD"')
    with pytest.raises(Unauthorized) as err:
        verify(post(tampered, {"x-hub-signature-256": sign(raw)}), CREDS)
    assert err.value.message == "X-Hub-Signature-256 does not match the body (wrong app secret?)"


@pytest.mark.parametrize(
    ("headers", "creds", "message"),
    [
        ({}, CREDS, "missing x-hub-signature-256 header"),
        # The legacy SHA-1 header alone is not enough.
        ({"x-hub-signature": "sha1=" + "0" * 40}, CREDS, "missing x-hub-signature-256 header"),
        (
            {"x-hub-signature-256": "sha256=" + "0" * 64},
            CREDS,
            "X-Hub-Signature-256 does not match the body (wrong app secret?)",
        ),
        (
            {"x-hub-signature-256": "SIGNED"},
            Credentials(verify_token=VERIFY_TOKEN),
            "this source has no signing secret configured",
        ),
    ],
    ids=["missing", "sha1-only", "wrong", "no-secret"],
)
def test_signature_refusals(headers: dict[str, str], creds: Credentials, message: str) -> None:
    with pytest.raises(Unauthorized) as err:
        verify(post(b"{}", headers), creds)
    assert err.value.message == message


def test_another_secret_does_not_verify() -> None:
    raw = load("page_feed_comment.json")
    with pytest.raises(Unauthorized):
        verify(post(raw, {"x-hub-signature-256": sign(raw, "other-secret")}), CREDS)


# --- parsing --------------------------------------------------------------------------------


def test_page_feed_comment_becomes_a_message() -> None:
    parsed = parse(post(load("page_feed_comment.json")), CREDS)
    assert parsed == Parsed(
        signals=[
            Signal(
                external_id="555000000000001_888000000000001:feed:add",
                kind="message",
                text="Kargo çok geç geldi, ürün kırık çıktı 😡 <iade> istiyorum",
                author=Author(name="Mehmet Öztürk"),
                url="https://www.facebook.com/555000000000001_888000000000001",
                created_at=datetime(2024, 6, 10, 6, 14, 55, tzinfo=UTC),
                channel="facebook",
                thread_key="104857600123456_555000000000001",
                metadata={
                    "page_id": PAGE,
                    "post_id": "104857600123456_555000000000001",
                    "parent_id": "104857600123456_555000000000001",
                    "author_id": "7000000000000001",
                    "verb": "add",
                },
            )
        ],
        event_type="page.feed",
    )


def test_page_batch_keeps_customers_drops_our_replies_and_reports_the_bad_change() -> None:
    parsed = parse(post(load("page_batch.json")), CREDS)

    sara: dict[str, Any] = {
        "author": Author(name="سارا احمدی"),
        "channel": "facebook",
        "kind": "message",
    }
    sara_meta = {
        "page_id": PAGE,
        "post_id": "104857600123456_555000000000002",
        "parent_id": "104857600123456_555000000000002",
        "author_id": "7000000000000002",
    }
    assert parsed.signals == [
        Signal(
            external_id="555000000000002_888000000000002:feed:add",
            text="سفارش من هنوز نرسیده است. لطفاً پیگیری کنید.",
            url="https://www.facebook.com/555000000000002_888000000000002",
            created_at=datetime(2024, 6, 10, 6, 16, 30, tzinfo=UTC),
            thread_key="104857600123456_555000000000002",
            metadata={**sara_meta, "verb": "add"},
            **sara,
        ),
        # The edit is a new row (different key) in the same thread as the original comment.
        Signal(
            external_id="555000000000002_888000000000002:feed:edited:1975d8496130",
            text="سفارش رسید، ممنون!",
            url="https://www.facebook.com/555000000000002_888000000000002",
            created_at=datetime(2024, 6, 10, 6, 18, 10, tzinfo=UTC),
            thread_key="104857600123456_555000000000002",
            metadata={**sara_meta, "verb": "edited"},
            **sara,
        ),
        Signal(
            external_id="9100000000000001_9200000000000001:mention:add",
            kind="mention",
            text="@Acme Store müşteri hizmetleri harika 👍",
            author=Author(name="Deniz Kaya"),
            url="https://www.facebook.com/9100000000000001_9200000000000001",
            created_at=datetime(2024, 6, 10, 6, 18, tzinfo=UTC),
            channel="facebook",
            thread_key="9100000000000001_9200000000000001",
            metadata={
                "page_id": PAGE,
                "post_id": "9100000000000001_9200000000000001",
                "author_id": "9100000000000001",
                "item": "post",
                "verb": "add",
            },
        ),
    ]
    # Index 3 counts changes across entries; the message says where it sits.
    assert parsed.errors == [
        ItemError(3, "entry[1].changes[0]: comment_id must be a non-empty string id")
    ]
    assert (parsed.event_id, parsed.event_type) == (None, "page.feed,page.mention")


def test_instagram_comment_and_thin_mention() -> None:
    parsed = parse(post(load("instagram_changes.json")), CREDS)
    assert parsed == Parsed(
        signals=[
            Signal(
                external_id="18100000000000001:comments",
                kind="message",
                text="Renk fotoğraftakinden farklı 😕 değişim mümkün mü?",
                author=Author(handle="@zeynep.dmr"),
                created_at=datetime(2024, 6, 11, 10, 0, tzinfo=UTC),  # entry.time
                channel="instagram",
                thread_key="18000000000000001",
                metadata={
                    "instagram_account_id": "17841400000000001",
                    "media_id": "18000000000000001",
                    "media_product_type": "REELS",
                    "author_id": "17841400000000777",
                },
            ),
            # (the account's own reply, change 1, is dropped)
            Signal(
                external_id="18100000000000009:mentions",
                kind="mention",
                text="(Instagram mention: the text is not in the webhook; fetch it by its id)",
                created_at=datetime(2024, 6, 11, 10, 0, tzinfo=UTC),
                channel="instagram",
                thread_key="18000000000000009",
                metadata={
                    "instagram_account_id": "17841400000000001",
                    "media_id": "18000000000000009",
                    "comment_id": "18100000000000009",
                    "needs_fetch": True,
                },
            ),
        ],
        event_type="instagram.comments,instagram.mentions",
    )


def test_a_retried_comment_keeps_its_key_and_each_edit_gets_its_own() -> None:
    def key(**overrides: Any) -> str:
        return parse(post(page_body(comment(**overrides))), CREDS).signals[0].external_id

    assert key() == key() == "1_2:feed:add"
    assert key(verb="edited", message="v2") == key(verb="edited", message="v2")
    assert len({key(), key(verb="edited", message="v2"), key(verb="edited", message="v3")}) == 3


@pytest.mark.parametrize(
    "value",
    [
        comment(verb="remove"),
        comment(verb="hide"),
        comment(item="reaction"),
        comment(item="post"),
        comment(message=None),  # a sticker or photo comment
        comment(**{"from": {"id": PAGE, "name": "Acme Store"}}),  # the Page itself
    ],
    ids=["remove", "hide", "reaction", "post", "no-text", "own-reply"],
)
def test_feed_changes_that_are_not_customer_comments_store_nothing(value: dict[str, Any]) -> None:
    assert parse(post(page_body(value)), CREDS) == Parsed(event_type="page.feed")


def test_a_page_mention_without_text_is_kept_and_marked_for_fetching() -> None:
    value = {
        "item": "comment",
        "verb": "add",
        "post_id": "9_1",
        "comment_id": "1_5",
        "sender_id": "9",
        "created_time": 1718000000,
    }
    [signal] = parse(post(page_body(value, field="mention")), CREDS).signals
    assert signal.text == "(Facebook mention: the text is not in the webhook; fetch it by its id)"
    assert signal.metadata["needs_fetch"] is True
    assert signal.external_id == "1_5:mention:add"


def test_other_objects_and_fields_are_acknowledged_without_signals() -> None:
    body = (
        b'{"object":"user","entry":[{"id":"1","time":1,'
        b'"changes":[{"field":"photos","value":{"verb":"update","object_id":"2"}}]}]}'
    )
    assert parse(post(body), CREDS) == Parsed(event_type="user.photos")
    messaging = (
        b'{"object":"page","entry":[{"id":"1","time":1,"messaging":[{"message":{"text":"hi"}}]}]}'
    )
    assert parse(post(messaging), CREDS) == Parsed(event_type="page")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "body must be a JSON object, got list"),
        (
            b'{"object": "page"}',
            'expected a Meta webhook: {"object": "page"|"instagram", "entry": [...]}',
        ),
        (
            b'{"entry": []}',
            'expected a Meta webhook: {"object": "page"|"instagram", "entry": [...]}',
        ),
        (
            b"{",
            "malformed JSON: Expecting property name enclosed in double quotes at line 1 column 2",
        ),
    ],
)
def test_malformed_bodies_are_bad_requests(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest) as err:
        parse(post(body), CREDS)
    assert err.value.message == message


def test_bad_entries_and_changes_are_item_errors() -> None:
    body = json.dumps(
        {
            "object": "page",
            "entry": [
                "oops",
                {"id": PAGE, "time": 1, "changes": [5, {"field": "feed", "value": []}]},
            ],
        }
    ).encode()
    assert parse(post(body), CREDS).errors == [
        ItemError(0, "entry[0]: entry must be a JSON object"),
        ItemError(1, "entry[1].changes[0]: change must be a JSON object, got int"),
        ItemError(2, "entry[1].changes[1]: change value must be a JSON object, got list"),
    ]


json_values = fuzz.json_values()
values = st.fixed_dictionaries(
    {},
    optional={
        "item": st.sampled_from(["comment", "post"]) | json_values,
        "verb": st.sampled_from(["add", "edited", "edit"]) | json_values,
        "from": json_values | st.fixed_dictionaries({"id": json_values, "name": json_values}),
        "message": json_values,
        "text": json_values,
        "comment_id": json_values,
        "id": json_values,
        "post_id": json_values,
        "media_id": json_values,
        "media": json_values,
        "created_time": json_values,
    },
)
changes = st.fixed_dictionaries(
    {
        "field": st.sampled_from(["feed", "mention", "comments", "mentions"]) | json_values,
        "value": values | json_values,
    }
)
entries = st.fixed_dictionaries(
    {"id": json_values, "time": json_values, "changes": st.lists(changes | json_values, max_size=3)}
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "object": st.sampled_from(["page", "instagram"]) | json_values,
            "entry": st.lists(entries | json_values, max_size=3),
        }
    )
    | json_values
)
def test_any_json_gives_a_result_or_a_bad_request(body: Any) -> None:
    try:
        parse(post(json.dumps(body).encode()), CREDS)
    except BadRequest:
        pass

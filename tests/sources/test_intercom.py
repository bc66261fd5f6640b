"""Intercom adapter: conversations (API 1.x and 2.x shapes), tickets, ratings, ping, signature."""

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
from cxbot.sources import intercom
from cxbot.sources.base import Credentials, Delivery, ItemError, Parsed
from cxbot.sources.fields import parse_time
from cxbot.sources.html import html_to_text
from cxbot.sources.intercom import verify
from tests.kit import providers as kit
from tests.kit.fuzz import json_values, scalars

SECRET = "intercom-client-secret-for-tests"
CREDS = Credentials(secret=SECRET)
REPLIED_URL = "https://app.intercom.com/a/apps/q7zx2k4m/conversations/31415926"

raw = partial(kit.raw, "intercom")
sign = kit.Hmac(SECRET, "sha1", prefix="sha1=")


def delivery(body: bytes, signature: str | None = None) -> Delivery:
    return Delivery(body=body, headers={"x-hub-signature": signature or sign(body)}, now=0.0)


def checked(body: bytes) -> Parsed:
    d = delivery(body)
    verify(d, CREDS)
    return intercom.parse(d, CREDS)


def at(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


# --- conversations ---------------------------------------------------------------------------


def test_conversation_created_v1_first_message() -> None:
    parsed = checked(raw("conversation_user_created.json"))
    assert parsed.signals == [
        Signal(
            external_id="2718281828",
            kind="ticket",
            text="پرداخت انجام شد اما سفارش ثبت نشد & پول کم شد.\nلطفاً بررسی کنید.",
            author=Author(
                name="نگار احمدی",
                email="negar.ahmadi@example.ir",
                handle="66f0a1b2c3d4e5f601234567",
            ),
            url="https://app.intercom.com/a/apps/q7zx2k4m/conversations/9007199254740995",
            created_at=at(1791019260),
            thread_key="9007199254740995",
            metadata={
                "notification_id": "notif_5b8e2f1c-3a4d-4e6f-9a0b-1c2d3e4f5a6b",
                "topic": "conversation.user.created",
            },
        )
    ]
    assert (parsed.event_id, parsed.event_type, parsed.ping) == (
        "notif_5b8e2f1c-3a4d-4e6f-9a0b-1c2d3e4f5a6b",
        "conversation.user.created",
        False,
    )


def test_conversation_created_v2_source_and_entities() -> None:
    [signal] = checked(raw("conversation_created_v2.json")).signals
    assert signal.model_dump() == {
        "external_id": "4200001",
        "kind": "ticket",
        "text": "Hi team,\nthe blender arrived broken 💔. I'd like a refund.",
        "title": "Refund for order #A-9917",
        "rating": None,
        "score": None,
        "score_type": None,
        "author": {
            "name": "Jamie Rivera",
            "email": "jamie.rivera@example.org",
            "handle": "66f0c1c2c3c4c5c6c7c8c9d0",
        },
        # v2 items have no links: the inbox URL is built from the app id.
        "url": "https://app.intercom.com/a/apps/q7zx2k4m/conversations/27182818",
        "created_at": at(1791021000),
        "channel": "email",
        "thread_key": "27182818",
        "metadata": {
            "notification_id": "notif_a1b2c3d4-0000-4000-8000-000000000001",
            "topic": "conversation.user.created",
            "delivered_as": "customer_initiated",
        },
    }


def test_reply_keeps_customer_parts_and_skips_the_admin() -> None:
    parsed = checked(raw("conversation_user_replied.json"))
    common: dict[str, Any] = {
        "kind": "ticket",
        "author": Author(name="Zeynep Koç", handle="66f0b0c0d0e0f00011223344"),
        "url": REPLIED_URL,
        "thread_key": "31415926",
    }
    meta = {
        "notification_id": "notif_0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
        "topic": "conversation.user.replied",
        "part_type": "comment",
    }
    assert parsed.signals == [
        Signal(
            external_id="5550001",
            text="Şifre sıfırlama e-postası hiç gelmedi.\nİki kez denedim.",
            created_at=at(1791020800),
            metadata=meta,
            **common,
        ),
        Signal(
            external_id="5550003",
            text="- Spam klasörüne de baktım\n- Yine yok 😕",
            created_at=at(1791020900),
            metadata=meta,
            **common,
        ),
    ]
    assert parsed.errors == []


def test_batch_with_one_bad_part_keeps_the_good_ones() -> None:
    body = json.loads(raw("conversation_user_replied.json"))
    parts = body["data"]["item"]["conversation_parts"]["conversation_parts"]
    parts[0]["created_at"] = "soon"
    parts.append("not a part")
    parsed = checked(json.dumps(body, ensure_ascii=False).encode())
    assert [s.external_id for s in parsed.signals] == ["5550003"]
    assert parsed.errors == [
        ItemError(0, "part created_at: not a readable time: 'soon'"),
        ItemError(3, "part must be an object, got str"),
    ]


def test_admin_reply_stores_nothing() -> None:
    body = json.loads(raw("conversation_user_replied.json"))
    item = body["data"]["item"]
    item["conversation_parts"]["conversation_parts"] = item["conversation_parts"][
        "conversation_parts"
    ][1:2]
    body["topic"] = "conversation.admin.replied"
    parsed = checked(json.dumps(body).encode())
    assert (parsed.signals, parsed.errors, parsed.event_type) == (
        [],
        [],
        "conversation.admin.replied",
    )


def test_rating_is_a_csat_survey_in_the_conversation_thread() -> None:
    [signal] = checked(raw("conversation_rating_added.json")).signals
    assert signal == Signal(
        external_id="31415926:rating",
        kind="survey",
        score=2,
        score_type="csat",
        text="Çözüldü ama iki gün sürdü.",
        author=Author(
            name="Zeynep Koç", email="zeynep.koc@example.com.tr", handle="66f0b0c0d0e0f00011223344"
        ),
        url=REPLIED_URL,
        created_at=at(1791030000),
        channel="conversation",
        thread_key="31415926",
        metadata={
            "notification_id": "notif_77aa88bb-99cc-4ddd-8eee-ffff00001111",
            "topic": "conversation.rating.added",
            "teammate_id": "771100",
        },
    )


def test_remark_added_later_is_text_without_a_second_score() -> None:
    body = json.loads(raw("conversation_rating_added.json"))
    body["topic"] = "conversation.rating.remarked"
    [signal] = checked(json.dumps(body).encode()).signals
    assert (
        signal.external_id,
        signal.kind,
        signal.score,
        signal.text,
        signal.metadata["csat"],
    ) == (
        "31415926:rating-remark",
        "ticket",
        None,
        "Çözüldü ama iki gün sürdü.",
        2,
    )


def test_out_of_range_rating_is_an_item_error() -> None:
    body = json.loads(raw("conversation_rating_added.json"))
    body["data"]["item"]["conversation_rating"]["rating"] = 9
    parsed = checked(json.dumps(body).encode())
    # No signal and one error: the server answers 400 with this message.
    assert (parsed.signals, parsed.errors) == (
        [],
        [ItemError(0, "conversation_rating.rating must be 1–5, got 9")],
    )


def test_ticket_reply_from_the_contact() -> None:
    [signal] = checked(raw("ticket_contact_replied.json")).signals
    assert signal == Signal(
        external_id="37400000001",
        kind="ticket",
        text="Kartım üç kez reddedildi, bankam sorun yok diyor.",
        title="Kart ödemesi reddedildi",
        author=Author(email="b.sahin@example.com.tr", handle="66f0d0d1d2d3d4d5d6d7d8d9"),
        created_at=at(1791040600),
        channel="messenger",
        thread_key="215470000000042",
        metadata={
            "notification_id": "notif_12121212-3434-4565-8787-909090909090",
            "topic": "ticket.contact.replied",
            "part_type": "comment",
        },
    )


def test_contact_event_stores_nothing() -> None:
    parsed = checked(raw("contact_created.json"))
    assert (parsed.signals, parsed.errors, parsed.ping, parsed.event_type) == (
        [],
        [],
        False,
        "contact.user.created",
    )


def test_ping_is_a_ping() -> None:
    parsed = checked(raw("ping.json"))
    assert parsed == Parsed(ping=True, event_type="ping")


def test_body_without_item_is_a_400() -> None:
    with pytest.raises(BadRequest, match="without data.item"):
        checked(b'{"type": "notification_event", "topic": "conversation.user.created"}')


# --- signature -------------------------------------------------------------------------------


def test_good_signature_passes_over_odd_whitespace() -> None:
    body = raw("conversation_user_replied.json")  # tab-indented, non-ASCII: hashed as received
    verify(delivery(body), CREDS)


def test_uppercase_hex_is_accepted() -> None:
    body = raw("ping.json")
    verify(delivery(body, sign(body).upper().replace("SHA1=", "sha1=")), CREDS)


def test_one_changed_byte_fails() -> None:
    body = raw("conversation_user_created.json")
    tampered = Delivery(
        body=body.replace(b"2718281828", b"2718281829"), headers=delivery(body).headers
    )
    with pytest.raises(Unauthorized, match="signature does not match"):
        verify(tampered, CREDS)


def test_wrong_secret_fails() -> None:
    body = raw("ping.json")
    with pytest.raises(Unauthorized, match="signature does not match"):
        verify(delivery(body, sign(body, "other-secret")), CREDS)


def test_signature_without_prefix_fails() -> None:
    body = raw("ping.json")
    with pytest.raises(Unauthorized):
        verify(delivery(body, sign(body).removeprefix("sha1=")), CREDS)


def test_missing_signature_fails() -> None:
    with pytest.raises(Unauthorized) as err:
        verify(Delivery(body=raw("ping.json")), CREDS)
    assert err.value.message == "missing X-Hub-Signature header"


# --- fuzz ------------------------------------------------------------------------------------

JSON = json_values(
    ["id", "type", "body", "author", "created_at", "rating", "user", "x"],
    leaves=scalars(12, floats=None),
    max_list=4,
    max_dict=5,
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["conversation", "ticket_ticket_part", "ping", "contact"]),
    st.sampled_from(["conversation.user.created", "conversation.rating.added", "x"]),
    st.dictionaries(
        st.sampled_from(
            ["id", "source", "conversation_message", "conversation_parts", "conversation_rating"]
            + ["user", "links", "ticket", "ticket_part", "created_at", "title"]
        ),
        JSON,
        max_size=6,
    ),
)
def test_fuzzed_items_give_400_or_a_result(
    item_type: str, topic: str, item: dict[str, Any]
) -> None:
    body = {"topic": topic, "app_id": "a1", "data": {"item": {**item, "type": item_type}}}
    try:
        intercom.parse(Delivery(body=json.dumps(body).encode()), CREDS)
    except BadRequest:
        pass


# --- the shared HTML and time helpers Intercom leans on --------------------------------------


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>Hello</p><p>World</p>", "Hello\nWorld"),
        ("<p>a&nbsp;&amp;&nbsp;b<br/>c</p>", "a & b\nc"),
        ("<ul><li>one</li><li>two</li></ul>", "- one\n- two"),
        ("<style>p{color:red}</style><p>shown</p><script>alert(1)</script>", "shown"),
        ("<p>می\u200cخواهم &#x1F600;</p>", "می\u200cخواهم 😀"),
        ("plain a < b text", "plain a < b text"),
        ("<p><img src='x.png'></p>", ""),
        ("<![if !supportLists]>x<![endif]> <p", "x <p"),  # a cut-off tag stays visible
    ],
)
def test_html_to_text(markup: str, text: str) -> None:
    assert html_to_text(markup) == text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1791019260, datetime(2026, 10, 3, 9, 21, tzinfo=UTC)),
        ("1791019260", datetime(2026, 10, 3, 9, 21, tzinfo=UTC)),
        (1518309203.872, datetime(2018, 2, 11, 0, 33, 23, 872000, tzinfo=UTC)),
        ("2026-10-03T09:21:00.123456789Z", datetime(2026, 10, 3, 9, 21, 0, 123456, tzinfo=UTC)),
        ("2026-10-03T12:21:00+03:00", datetime(2026, 10, 3, 9, 21, tzinfo=UTC)),
        ("2026-10-03T09:21", datetime(2026, 10, 3, 9, 21, tzinfo=UTC)),
        (None, None),
        ("  ", None),
    ],
)
def test_parse_time(value: Any, expected: datetime | None) -> None:
    assert parse_time(value) == expected


@pytest.mark.parametrize("value", [True, "yesterday", 1e300, [], "1.2.3"])
def test_parse_time_rejects_with_a_400(value: Any) -> None:
    with pytest.raises(BadRequest, match="not a readable time"):
        parse_time(value, "created_at")

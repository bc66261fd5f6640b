"""Mastodon admin webhooks: X-Hub-Signature sha256 hex, status and report events."""

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
from cxbot.sources.base import Credentials, Parsed
from cxbot.sources.mastodon import PROVIDER, html_to_text, parse, verify
from tests.kit import fuzz
from tests.kit import providers as kit

SECRET = "mastodon-test-webhook-secret-41f0"
CREDS = Credentials(secret=SECRET)

GULSEN = Author(name="Gülşen 🌿", handle="@gulsen@social.example.org")
STATUS_URL = "https://social.example.org/@gulsen/112600000000000001"
STATUS_URI = "https://social.example.org/users/gulsen/statuses/112600000000000001"

load = partial(kit.raw, "mastodon")
sign = kit.Hmac(SECRET, prefix="sha256=")
post = partial(kit.delivery, now=1_718_190_000.0)


def event(name: str, obj: dict[str, Any]) -> bytes:
    return json.dumps(
        {"event": name, "created_at": "2024-06-12T12:00:00.000Z", "object": obj}
    ).encode()


def status(**overrides: Any) -> dict[str, Any]:
    value = json.loads(load("status_created.json"))["object"]
    return {**value, **overrides}


def test_provider_is_registered_with_a_signature_and_no_handshake() -> None:
    assert get_provider("mastodon") is PROVIDER
    assert (PROVIDER.auth, PROVIDER.verify, PROVIDER.handshake) == ("secret", verify, None)


# --- signature ------------------------------------------------------------------------------


def test_signature_over_the_raw_bytes_verifies() -> None:
    raw = load("status_created.json")
    verify(post(raw, {"x-hub-signature": sign(raw)}), CREDS)


def test_a_one_byte_change_does_not_verify() -> None:
    raw = load("status_created.json")
    tampered = raw.replace(b"4.2.1", b"4.2.2")
    with pytest.raises(Unauthorized) as err:
        verify(post(tampered, {"x-hub-signature": sign(raw)}), CREDS)
    assert err.value.message == "X-Hub-Signature does not match the body (wrong webhook secret?)"


@pytest.mark.parametrize(
    ("headers", "creds", "message"),
    [
        ({}, CREDS, "missing x-hub-signature header"),
        # Same header name as GitHub's SHA-1 scheme, but Mastodon's value is SHA-256.
        (
            {"x-hub-signature": kit.Hmac(SECRET, "sha1", prefix="sha1=")(b"{}")},
            CREDS,
            "X-Hub-Signature does not match the body (wrong webhook secret?)",
        ),
        ({"x-hub-signature-256": sign(b"{}")}, CREDS, "missing x-hub-signature header"),
        (
            {"x-hub-signature": sign(b"{}")},
            Credentials(),
            "this source has no signing secret configured",
        ),
    ],
    ids=["missing", "sha1", "meta-header", "no-secret"],
)
def test_signature_refusals(headers: dict[str, str], creds: Credentials, message: str) -> None:
    with pytest.raises(Unauthorized) as err:
        verify(post(b"{}", headers), creds)
    assert err.value.message == message


# --- parsing --------------------------------------------------------------------------------


def test_status_created_becomes_a_mention() -> None:
    parsed = parse(post(load("status_created.json")), CREDS)
    assert parsed == Parsed(
        signals=[
            Signal(
                external_id="112600000000000001:status.created",
                kind="mention",
                # HTML → text: mention link flattened, &amp; decoded, paragraphs and <br> kept
                text="@acme uygulama yine çöktü & giriş yapamıyorum 😤\n\nSürüm 4.2.1\nAndroid 14",
                author=GULSEN,
                url=STATUS_URL,
                created_at=datetime(2024, 6, 12, 9, 41, 3, 512000, tzinfo=UTC),
                channel="mastodon",
                thread_key="112600000000000001",
                metadata={
                    "event": "status.created",
                    "status_id": "112600000000000001",
                    "account_id": "110000000000000001",
                    "language": "tr",
                    "visibility": "public",
                    "sensitive": False,
                    "uri": STATUS_URI,
                },
            )
        ],
        event_id="112600000000000001:status.created",
        event_type="status.created",
    )


def test_status_updated_is_a_new_row_per_edit_in_the_same_thread() -> None:
    parsed = parse(post(load("status_updated.json")), CREDS)
    key = "112600000000000001:status.updated:2024-06-12T09:45:00.000Z"
    assert parsed == Parsed(
        signals=[
            Signal(
                external_id=key,
                kind="mention",
                title="uygulama hatası",  # the content warning
                text="Düzeltme: sürüm 4.2.2 de aynı hatayı veriyor.",
                author=GULSEN,
                url=STATUS_URL,
                created_at=datetime(2024, 6, 12, 9, 45, tzinfo=UTC),  # edited_at
                channel="mastodon",
                thread_key="112600000000000001",
                metadata={
                    "event": "status.updated",
                    "status_id": "112600000000000001",
                    "account_id": "110000000000000001",
                    "language": "tr",
                    "visibility": "public",
                    "sensitive": False,
                    "uri": STATUS_URI,
                },
            )
        ],
        event_id=key,
        event_type="status.updated",
    )


def test_report_created_becomes_a_ticket_from_the_reporter() -> None:
    parsed = parse(post(load("report_created.json")), CREDS)
    assert parsed == Parsed(
        signals=[
            Signal(
                external_id="42:report.created",
                kind="ticket",
                title="Report: spam",
                text="Bu hesap herkese aynı linki gönderiyor.",
                author=Author(
                    name="Gülşen 🌿",
                    handle="@gulsen@social.example.org",
                    email="gulsen@example.com",
                ),
                created_at=datetime(2024, 6, 12, 11, 0, tzinfo=UTC),
                channel="mastodon",
                thread_key="report:42",
                metadata={
                    "event": "report.created",
                    "report_id": "42",
                    "category": "spam",
                    "target_account": "@spam4u@bad.example",
                    "status_ids": ["112600000000000900"],
                    "rule_ids": ["3"],
                    "forwarded": False,
                },
            )
        ],
        event_id="42:report.created",
        event_type="report.created",
    )


def test_a_report_without_comment_still_says_what_it_is_about() -> None:
    report = json.loads(load("report_created.json"))["object"]
    [signal] = parse(post(event("report.created", {**report, "comment": "  "})), CREDS).signals
    assert signal.text == "Report about @spam4u@bad.example (spam), no comment"


@pytest.mark.parametrize(
    ("name", "body", "event_id"),
    [
        ("account_approved", load("account_approved.json"), "110000000000000001:account.approved"),
        ("direct", load("status_created_direct.json"), "112600000000000002:status.created"),
        (
            "private",
            event("status.created", status(visibility="private")),
            "112600000000000001:status.created",
        ),
        (
            "boost",
            event("status.created", status(reblog=status(), content="")),
            "112600000000000001:status.created",
        ),
        (
            "media-only",
            event("status.created", status(content="<p></p>")),
            "112600000000000001:status.created",
        ),
        ("report-updated", event("report.updated", {"id": "42"}), "42:report.updated"),
    ],
)
def test_events_without_a_signal_are_acknowledged_with_nothing_stored(
    name: str, body: bytes, event_id: str
) -> None:
    parsed = parse(post(body), CREDS)
    assert parsed.signals == [] and parsed.errors == []
    assert parsed.event_id == event_id


def test_an_edit_without_edited_at_still_gets_a_distinct_key() -> None:
    first = parse(post(event("status.updated", status(edited_at=None, content="<p>v1</p>"))), CREDS)
    second = parse(
        post(event("status.updated", status(edited_at=None, content="<p>v2</p>"))), CREDS
    )
    assert first.signals[0].external_id != second.signals[0].external_id
    assert first.signals[0].external_id.startswith("112600000000000001:status.updated:")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "body must be a JSON object, got list"),
        # A custom payload template (Mastodon ≥ 4.3) does not have the standard shape.
        (
            b'{"text": "new status by gulsen"}',
            'expected a Mastodon webhook: {"event": …, "object": {…}} '
            "(with a custom payload template, use a `mapped` source instead)",
        ),
        (
            event("status.created", {"content": "<p>x</p>"}),
            "object.id must be a non-empty string id",
        ),
        (event("status.created", status(content=["x"])), "status content must be a string"),
        (
            event("status.created", status(created_at="soon")),
            "created_at: Input should be a valid datetime or date, input is too short",
        ),
    ],
)
def test_malformed_events_are_bad_requests(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest) as err:
        parse(post(body), CREDS)
    assert err.value.message == message


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Merhaba &amp; hoş geldiniz</p>", "Merhaba & hoş geldiniz"),
        ("<p>a<br>b<br />c</p><p>d</p>", "a\nb\nc\n\nd"),
        (
            '<p><a href="https://example.com/very/long/path"><span class="invisible">https://</span>'
            '<span class="ellipsis">example.com/very/</span>'
            '<span class="invisible">long/path</span></a></p>',
            "https://example.com/very/long/path",
        ),
        ("<p>سلام دوستان عزیز</p>", "سلام دوستان عزیز"),
        ("", None),
        (None, None),
    ],
)
def test_html_to_text(html: str | None, text: str | None) -> None:
    assert html_to_text(html) == text


MARKUP_BITS = [
    *"<>!/[]-&#;ab p=\"'",
    "<![CDATA[",
    "<!--",
    "&#x",
    "&#99999999;",
    "<br>",
    "</p>",
    "<![if",
]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(MARKUP_BITS), max_size=30).map("".join))
def test_html_to_text_survives_any_markup(markup: str) -> None:
    text = html_to_text(markup)
    assert text is None or isinstance(text, str)


def test_markup_that_breaks_the_html_parser_falls_back_to_stripping_tags() -> None:
    assert html_to_text("<p>ok</p><![ifx <b>bold</b>") == "ok\nbold"


json_values = fuzz.json_values()
objects = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values | st.text(min_size=1, max_size=5),
        "content": json_values | st.text().map(lambda t: f"<p>{t}</p>"),
        "visibility": st.sampled_from(["public", "direct"]) | json_values,
        "reblog": st.none() | json_values,
        "account": json_values | st.fixed_dictionaries({"acct": json_values, "url": json_values}),
        "created_at": json_values,
        "edited_at": json_values,
        "comment": json_values,
        "target_account": json_values,
        "statuses": json_values,
        "rules": json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "event": st.sampled_from(["status.created", "status.updated", "report.created"])
            | json_values,
            "object": objects | json_values,
        }
    )
    | json_values
)
def test_any_json_gives_a_result_or_a_bad_request(body: Any) -> None:
    try:
        parse(post(json.dumps(body).encode()), CREDS)
    except BadRequest:
        pass

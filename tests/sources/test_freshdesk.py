"""Freshdesk adapter: the automation-rule template, the shared token, broken templates."""

from __future__ import annotations

import hashlib
import json
from functools import partial
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxbot.errors import BadRequest, Unauthorized
from cxbot.models import Author, Signal
from cxbot.sources.base import Credentials, Delivery, Parsed
from cxbot.sources.freshdesk import PROVIDER, parse, triggered_event
from tests.kit import providers as kit

TOKEN = "fd-shared-token-1b9c"
CREDS = Credentials(token=TOKEN)
raw = partial(kit.raw, "freshdesk")


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def test_provider_authenticates_by_shared_token() -> None:
    assert (PROVIDER.name, PROVIDER.auth) == ("freshdesk", "token")


def test_ticket_created_stores_the_description_as_text() -> None:
    parsed = parse(Delivery(body=raw("ticket_created.json")), CREDS)
    text = "کد تخفیف NOWRUZ1405 را وارد کردم اما خطا می\u200cدهد.\nممنون 🌸"
    assert parsed.signals == [
        Signal(
            external_id=f"5021:created:{digest(text)}",
            kind="ticket",
            text=text,
            title="کد تخفیف کار نمی\u200cکند",
            author=Author(name="مریم نوری", email="maryam.nouri@example.ir"),
            url="https://acme.freshdesk.com/helpdesk/tickets/5021",
            channel="Email",
            thread_key="5021",
            metadata={
                "ticket_type": "Question",
                "ticket_status": "Open",
                "ticket_priority": "Medium",
            },
        )
    ]
    assert (parsed.event_id, parsed.event_type, parsed.errors) == (
        None,
        "ticket_action:created",
        [],
    )


def test_public_note_stores_the_latest_public_comment() -> None:
    parsed = parse(Delivery(body=raw("public_note.json")), CREDS)
    comment = "Hâlâ aynı hatayı alıyorum, ekran görüntüsü ekledim."
    assert [s.model_dump() for s in parsed.signals] == [
        {
            "external_id": f"5021:comment:{digest(comment)}",
            "kind": "ticket",
            "text": comment,
            "title": "İndirim kodu çalışmıyor",
            "rating": None,
            "score": None,
            "score_type": None,
            "author": {
                "name": "Kerem Aksoy",
                "email": "kerem.aksoy@example.com.tr",
                "handle": None,
            },
            "url": "https://acme.freshdesk.com/helpdesk/tickets/5021",
            "created_at": None,
            "channel": "Portal",
            "thread_key": "5021",
            "metadata": {
                "ticket_type": "Question",
                "ticket_status": "Pending",
                "ticket_priority": "Medium",
            },
        }
    ]


def test_same_comment_under_another_event_is_the_same_signal() -> None:
    note = json.loads(raw("public_note.json"))
    note["freshdesk_webhook"]["triggered_event"] = "{status:{from:Open,to:Pending}}"
    again = parse(Delivery(body=json.dumps(note).encode()), CREDS)
    first = parse(Delivery(body=raw("public_note.json")), CREDS)
    assert again.signals[0].external_id == first.signals[0].external_id


@pytest.mark.parametrize("name", ["private_note.json", "status_changed.json"])
def test_private_notes_and_bare_status_changes_store_nothing(name: str) -> None:
    parsed = parse(Delivery(body=raw(name)), CREDS)
    assert (parsed.signals, parsed.errors) == ([], [])


def test_zulip_style_template_without_comment_key_still_parses() -> None:
    ticket = json.loads(raw("ticket_created.json"))["freshdesk_webhook"]
    del ticket["ticket_latest_public_comment"], ticket["ticket_source"]
    parsed = parse(Delivery(body=json.dumps({"freshdesk_webhook": ticket}).encode()), CREDS)
    assert [s.channel for s in parsed.signals] == [None]


def test_unsubstituted_placeholders_count_as_absent() -> None:
    note = json.loads(raw("public_note.json"))
    note["freshdesk_webhook"]["ticket_latest_public_comment"] = "{{ticket.latest_public_comment}}"
    assert parse(Delivery(body=json.dumps(note).encode()), CREDS) == Parsed(
        event_type="note_type:public"
    )


def test_broken_template_json_is_a_400_saying_where() -> None:
    with pytest.raises(BadRequest) as err:
        parse(Delivery(body=raw("broken_template.json")), CREDS)
    assert err.value.message == "malformed JSON: Expecting ',' delimiter at line 5 column 32"


@pytest.mark.parametrize(
    ("ticket_id", "message"),
    [
        ("{{ticket.id}}", "ticket_id must be a Freshdesk ticket number, got '{{ticket.id}}'"),
        (None, "ticket_id must be a Freshdesk ticket number, got None"),
        (["5"], "ticket_id must be a Freshdesk ticket number, got None"),
    ],
)
def test_bad_ticket_id_is_a_400(ticket_id: Any, message: str) -> None:
    body = json.loads(raw("ticket_created.json"))
    body["freshdesk_webhook"]["ticket_id"] = ticket_id
    with pytest.raises(BadRequest) as err:
        parse(Delivery(body=json.dumps(body).encode()), CREDS)
    assert err.value.message == message


def test_wrapper_must_be_an_object() -> None:
    with pytest.raises(BadRequest, match="freshdesk_webhook must be a JSON object"):
        parse(Delivery(body=b'{"freshdesk_webhook": "oops"}'), CREDS)


@pytest.mark.parametrize(
    ("rendered", "expected"),
    [
        ("{ticket_action:created}", ("ticket_action", "created")),
        ("{note_type:public}", ("note_type", "public")),
        ("{status:{from:Open,to:Pending}}", ("status", "{from:Open,to:Pending}")),
        ("", ("", "")),
        (None, ("", "")),
    ],
)
def test_triggered_event_pseudo_json(rendered: str | None, expected: tuple[str, str]) -> None:
    assert triggered_event(rendered) == expected


# --- shared token ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "d",
    [
        Delivery(body=b"{}", query={"token": TOKEN}),
        Delivery(body=b"{}", headers={"x-cxbot-token": TOKEN}),
    ],
    ids=["query", "header"],
)
def test_token_in_query_or_header_passes(d: Delivery) -> None:
    assert PROVIDER.verify is not None
    PROVIDER.verify(d, CREDS)


@pytest.mark.parametrize(
    ("d", "message"),
    [
        (Delivery(body=b"{}", query={"token": TOKEN + "x"}), "wrong token"),
        (Delivery(body=b"{}"), "missing token: add ?token=… to the URL or an X-Cxbot-Token header"),
    ],
    ids=["wrong", "missing"],
)
def test_wrong_or_missing_token_fails(d: Delivery, message: str) -> None:
    assert PROVIDER.verify is not None
    with pytest.raises(Unauthorized) as err:
        PROVIDER.verify(d, CREDS)
    assert err.value.message == message


# --- fuzz ------------------------------------------------------------------------------------

VALUES = st.none() | st.booleans() | st.integers() | st.text(max_size=30) | st.lists(st.text())


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["triggered_event", "ticket_id", "ticket_url", "ticket_subject", "ticket_description"]
            + ["ticket_latest_public_comment", "requester_name", "requester_email"]
        ),
        VALUES,
        max_size=8,
    ),
    st.booleans(),
)
def test_fuzzed_templates_give_400_or_a_result(ticket: dict[str, Any], wrapped: bool) -> None:
    body = {"freshdesk_webhook": ticket} if wrapped else ticket
    try:
        parse(Delivery(body=json.dumps(body).encode()), CREDS)
    except BadRequest:
        pass

"""Help Scout webhooks: conversation events and satisfaction ratings.

Signature: `X-HelpScout-Signature` = base64(HMAC-SHA1(webhook secret key, raw body)). The
event name travels only in the `X-HelpScout-Event` header. No timestamp and no delivery id
are sent, so the idempotency key is the event name plus the object id (thread or rating).

Help Scout deactivates a webhook that answers 410; nothing here ever produces one.
"""

from __future__ import annotations

from typing import Any

from cxbot.errors import BadRequest, Unauthorized
from cxbot.models import Author, Signal
from cxbot.sources.base import Credentials, Delivery, Parsed, Provider
from cxbot.sources.fields import (
    clip,
    decode_json,
    dig,
    id_at,
    parse_items,
    parse_time,
    require_object,
    text_at,
)
from cxbot.sources.html import html_to_text
from cxbot.sources.signing import (
    b64,
    hmac_digest,
    require_header,
    require_secret,
    signature_matches,
)

SIGNATURE = "X-HelpScout-Signature"
EVENT = "X-HelpScout-Event"
CONVERSATION_EVENTS = frozenset({"convo.created", "convo.customer.reply.created"})
RATING_EVENT = "satisfaction.ratings"
# Help Scout rates on three faces; they land on the 1–5 CSAT scale at its ends and middle.
CSAT = {"great": 5, "okay": 3, "bad": 1}
CONVERSATION_URL = "https://secure.helpscout.net/conversation/{id}/{number}/"
SHORT_URL = "https://secure.helpscout.net/conversation/{id}/"  # ratings carry no number


def verify(delivery: Delivery, creds: Credentials) -> None:
    secret = require_secret(creds)
    given = require_header(delivery, SIGNATURE)
    expected = b64(hmac_digest(secret, delivery.body, "sha1"))
    if not signature_matches(expected, given):  # strips the whitespace some clients add
        raise Unauthorized("signature does not match the body")


def _person(person: Any) -> Author:
    """Mailbox API v2 names people `first`/`last`; older payloads `firstName`/`lastName`."""
    first = text_at(person, "first") or text_at(person, "firstName")
    last = text_at(person, "last") or text_at(person, "lastName")
    email = text_at(person, "email") or text_at(person, "emails.0.value")
    return Author(name=" ".join(p for p in (first, last) if p) or None, email=email)


# --- conversations ---------------------------------------------------------------------------


def _threads(conversation: dict[str, Any]) -> list[dict[str, Any]]:
    threads = dig(conversation, "_embedded.threads")
    if threads is None:
        threads = conversation.get("threads")  # a flattened shape seen in third-party samples
    if not isinstance(threads, list):
        return []
    return [t for t in threads if isinstance(t, dict)]


def _stamp(thread: dict[str, Any]) -> float:
    when = parse_time(thread.get("createdAt"), "thread createdAt")
    return when.timestamp() if when else float("-inf")


def _newest_customer_thread(conversation: dict[str, Any]) -> dict[str, Any] | None:
    customer = [t for t in _threads(conversation) if text_at(t, "type") == "customer"]
    if not customer:
        return None
    # Help Scout lists threads newest first, so on equal (or missing) times the first wins.
    return max(enumerate(customer), key=lambda it: (_stamp(it[1]), -it[0]))[1]


def _conversation_url(conversation: dict[str, Any]) -> str | None:
    conversation_id, number = id_at(conversation, "id"), id_at(conversation, "number")
    if not conversation_id or not number:
        return None
    return CONVERSATION_URL.format(id=conversation_id, number=number)


def _conversation_signal(conversation: dict[str, Any], event: str) -> Signal | None:
    conversation_id = id_at(conversation, "id")
    if not conversation_id:
        raise BadRequest("conversation without id")
    thread = _newest_customer_thread(conversation)
    if thread is None:
        return None  # started by an agent: no customer words yet
    thread_id = id_at(thread, "id")
    if not thread_id:
        raise BadRequest("customer thread without id")
    markup = text_at(thread, "body")
    text = html_to_text(markup) if markup else text_at(thread, "text")
    if not text:
        return None
    person = thread.get("createdBy") or thread.get("author") or conversation.get("primaryCustomer")
    return Signal(
        external_id=f"{event}:{thread_id}",
        kind="ticket",
        text=clip(text, 100_000),
        title=clip(text_at(conversation, "subject"), 2_000),
        author=_person(person),
        url=_conversation_url(conversation),
        created_at=parse_time(thread.get("createdAt"), "thread createdAt"),
        channel=text_at(conversation, "source.type"),
        thread_key=conversation_id,
        metadata=_compact(
            {
                "number": id_at(conversation, "number"),
                "mailbox_id": id_at(conversation, "mailboxId"),
                "status": text_at(conversation, "status"),
                "thread_id": thread_id,
                # Whom a reply from Slack is addressed to (cxbot/replies/helpscout.py).
                "customer_id": id_at(person, "id"),
            }
        ),
    )


# --- ratings ---------------------------------------------------------------------------------


def _rating_signal(rating: dict[str, Any]) -> Signal:
    rating_id = id_at(rating, "id")
    if not rating_id:
        raise BadRequest("rating without id")
    face = text_at(rating, "rating") or ""
    score = CSAT.get(face.lower())
    if score is None:
        raise BadRequest(f"rating must be Great, Okay or Bad, got {face[:40]!r}")
    # The legacy rating object calls the conversation a ticket.
    conversation_id = id_at(rating, "ticketId") or id_at(rating, "conversationId")
    return Signal(
        external_id=f"{RATING_EVENT}:{rating_id}",
        kind="survey",
        score=score,
        score_type="csat",
        text=clip(text_at(rating, "comments"), 100_000),
        author=_person(rating.get("customer")),
        url=SHORT_URL.format(id=conversation_id) if conversation_id else None,
        created_at=parse_time(rating.get("createdAt"), "createdAt"),
        thread_key=conversation_id,
        metadata=_compact(
            {
                "rating": face,
                "mailbox": text_at(rating, "mailbox.name"),
                "thread_id": id_at(rating, "threadId"),
                "modified_at": text_at(rating, "modifiedAt"),
            }
        ),
    )


def _compact(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


# --- parse -----------------------------------------------------------------------------------


def parse(delivery: Delivery, creds: Credentials) -> Parsed:
    event = delivery.header(EVENT)
    if not event:
        raise BadRequest(f"missing {EVENT} header: Help Scout names the event only there")
    body = require_object(decode_json(delivery.body))
    if event in CONVERSATION_EVENTS:
        parsed = parse_items([body], lambda b: _conversation_signal(b, event))
    elif event == RATING_EVENT:
        parsed = parse_items([body], _rating_signal)
    else:
        parsed = Parsed()  # customers, tags, assignments…: nothing a customer said
    if parsed.errors:
        raise BadRequest(f"{event}: {parsed.errors[0].message}")
    parsed.event_type = event
    return parsed


PROVIDER = Provider(name="helpscout", parse=parse, verify=verify, auth="secret")

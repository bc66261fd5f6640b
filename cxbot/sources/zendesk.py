"""Zendesk Support: event-subscription webhooks (fixed JSON) and cxbot's trigger template.

Signature: `X-Zendesk-Webhook-Signature` = base64(HMAC-SHA256(secret, timestamp + raw body)),
with the timestamp from `X-Zendesk-Webhook-Signature-Timestamp`. The key is the secret string
as shown in Zendesk, used verbatim although it looks like base64.

The trigger template (docs/_parts/sources-helpdesks.md) is a JSON body the admin pastes into
a trigger's webhook action: `{"cxbot": "zendesk-trigger/v1", "event": "comment" | "satisfaction",
"ticket": {...}, "author": {...}, "satisfaction": {...}}`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
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
from cxbot.sources.signing import (
    b64,
    hmac_digest,
    require_header,
    require_secret,
    signature_matches,
)

SIGNATURE = "X-Zendesk-Webhook-Signature"
TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"
# Zendesk signs the "Test webhook" sends of a webhook not yet saved with this published secret.
TEST_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
EVENT_PREFIX = "zen:event-type:"
TRIGGER_MARK = "zendesk-trigger/v1"
# Messaging actors that are not the customer: bots, triggers and agents talk in the same thread.
NOT_CUSTOMER = frozenset({"system", "trigger", "agent", "bot", "business", "integration"})
# Classic Zendesk CSAT is two-valued; it lands on the 1–5 CSAT scale at its ends.
CSAT_WORDS = {"good": 5, "bad": 1}
NO_RATING = frozenset({"", "offered", "unoffered"})
SUBDOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
OPTIONS = ("subdomain",)


def check_options(options: Mapping[str, Any]) -> list[str]:
    """Problems with a source's options, one line each, for the config loader."""
    problems = [
        f"unknown option {k!r} (known: {', '.join(OPTIONS)})" for k in options if k not in OPTIONS
    ]
    subdomain = options.get("subdomain")
    if subdomain is not None and not (isinstance(subdomain, str) and SUBDOMAIN.match(subdomain)):
        problems.append(
            f"subdomain must be the ACME in acme.zendesk.com (lower-case), got {subdomain!r}"
        )
    return problems


# --- verify ----------------------------------------------------------------------------------


def _expected(key: str, timestamp: str, body: bytes) -> str:
    return b64(hmac_digest(key, timestamp.encode() + body))


def _signed_with(key: str | None, delivery: Delivery) -> bool:
    given = delivery.header(SIGNATURE)
    timestamp = delivery.header(TIMESTAMP)
    if not key or not given or timestamp is None:
        return False
    return signature_matches(_expected(key, timestamp, delivery.body), given)


def _timestamp_seconds(value: str) -> float:
    # Zendesk sends ISO-8601 (`2021-03-25T05:09:27Z`); unix seconds are accepted too, since the
    # header is covered by the signature and some relays and test suites use them.
    try:
        parsed = parse_time(value, TIMESTAMP)
    except BadRequest:
        parsed = None
    if parsed is None:
        raise Unauthorized(f"unreadable {TIMESTAMP} header: {value[:40]!r}")
    return parsed.timestamp()


def verify(delivery: Delivery, creds: Credentials) -> None:
    secret = require_secret(creds)
    require_header(delivery, SIGNATURE)
    timestamp = require_header(delivery, TIMESTAMP)
    # A test send signed with the public test secret passes here but parse() stores nothing.
    if not (_signed_with(secret, delivery) or _signed_with(TEST_SECRET, delivery)):
        raise Unauthorized("signature does not match the timestamp and body")
    age = abs(delivery.now - _timestamp_seconds(timestamp))
    if age > creds.replay_window:
        raise Unauthorized(
            f"stale timestamp: {timestamp} is {age:.0f}s from now "
            f"(allowed {creds.replay_window:.0f}s)"
        )


def is_test_send(delivery: Delivery, creds: Credentials) -> bool:
    """Signed with Zendesk's published test secret and not with ours: a builder test send."""
    return _signed_with(TEST_SECRET, delivery) and not _signed_with(creds.secret, delivery)


# --- shared pieces ---------------------------------------------------------------------------


def _ticket_url(ticket_id: str | None, creds: Credentials) -> str | None:
    subdomain = creds.options.get("subdomain")
    if not ticket_id or not isinstance(subdomain, str) or not SUBDOMAIN.match(subdomain):
        return None
    return f"https://{subdomain}.zendesk.com/agent/tickets/{ticket_id}"


def _digest(*parts: str | None) -> str:
    joined = "\x1f".join(p or "" for p in parts)
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def _compact(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


# --- event subscriptions ---------------------------------------------------------------------


def _ticket_id(event: dict[str, Any]) -> str | None:
    subject = text_at(event, "subject") or ""
    from_subject = (
        subject.removeprefix("zen:ticket:") if subject.startswith("zen:ticket:") else None
    )
    return id_at(event, "detail.id") or from_subject


def _ticket_metadata(event: dict[str, Any]) -> dict[str, Any]:
    tags = dig(event, "detail.tags")
    return _compact(
        {
            "account_id": id_at(event, "account_id"),
            "event_id": text_at(event, "id"),
            "status": text_at(event, "detail.status"),
            "priority": text_at(event, "detail.priority"),
            "requester_id": id_at(event, "detail.requester_id"),
            "tags": tags
            if isinstance(tags, list) and all(isinstance(t, str) for t in tags)
            else None,
        }
    )


def _comment_added(event: dict[str, Any], creds: Credentials) -> Signal | None:
    comment = dig(event, "event.comment")
    if not isinstance(comment, dict):
        raise BadRequest("ticket.comment_added without event.comment")
    comment_id = id_at(comment, "id")
    if not comment_id:
        raise BadRequest("event.comment.id is missing")
    # Internal notes and agent replies are not customer voice; attachment-only comments have
    # no text to analyse.
    text = text_at(comment, "body")
    if comment.get("is_public") is False or dig(comment, "author.is_staff") is True or not text:
        return None
    ticket_id = _ticket_id(event)
    return Signal(
        external_id=comment_id,
        kind="ticket",
        text=clip(text, 100_000),
        title=clip(text_at(event, "detail.subject"), 2_000),
        author=Author(name=text_at(comment, "author.name")),
        url=_ticket_url(ticket_id, creds),
        created_at=parse_time(event.get("time"), "time"),
        channel=text_at(event, "detail.via.channel"),
        thread_key=ticket_id,
        metadata=_compact({**_ticket_metadata(event), "author_id": id_at(comment, "author.id")}),
    )


def _ticket_created(event: dict[str, Any], creds: Credentials) -> Signal | None:
    ticket_id = _ticket_id(event)
    text = text_at(event, "detail.description") or text_at(event, "detail.subject")
    if not ticket_id or not text:
        return None  # a bare "created" notice carries nothing to analyse
    return Signal(
        external_id=f"{ticket_id}:created",
        kind="ticket",
        text=clip(text, 100_000),
        title=clip(text_at(event, "detail.subject"), 2_000),
        url=_ticket_url(ticket_id, creds),
        created_at=parse_time(event.get("time"), "time"),
        channel=text_at(event, "detail.via.channel"),
        thread_key=ticket_id,
        metadata=_ticket_metadata(event),
    )


def _message_added(event: dict[str, Any], creds: Credentials) -> Signal | None:
    message_id = id_at(event, "event.message.id")
    if not message_id:
        raise BadRequest("event.message.id is missing")
    actor_type = (text_at(event, "event.actor.type") or "").lower()
    text = text_at(event, "event.message.body")
    if actor_type in NOT_CUSTOMER or not text:
        return None
    ticket_id = _ticket_id(event)
    return Signal(
        external_id=message_id,
        kind="message",
        text=clip(text, 100_000),
        author=Author(
            name=text_at(event, "event.actor.name"), handle=id_at(event, "event.actor.id")
        ),
        url=_ticket_url(ticket_id, creds),
        created_at=parse_time(event.get("time"), "time"),
        channel="messaging",
        thread_key=ticket_id,
        metadata=_compact(
            {
                "event_id": text_at(event, "id"),
                "conversation_id": text_at(event, "event.conversation_id"),
            }
        ),
    )


EVENT_BUILDERS = {
    "ticket.comment_added": _comment_added,
    "ticket.created": _ticket_created,
    "messaging_ticket.message_added": _message_added,
}


def _parse_event(event: dict[str, Any], creds: Credentials) -> Parsed:
    event_type = text_at(event, "type") or ""
    build = EVENT_BUILDERS.get(event_type.removeprefix(EVENT_PREFIX))
    parsed = parse_items([event], lambda e: build(e, creds)) if build else Parsed()
    if parsed.errors:
        raise BadRequest(f"{event_type}: {parsed.errors[0].message}")
    parsed.event_id = text_at(event, "id")
    parsed.event_type = event_type
    return parsed


# --- trigger template ------------------------------------------------------------------------


def _trigger_ticket_id(body: dict[str, Any]) -> str:
    ticket_id = id_at(body, "ticket.id")
    if not ticket_id or not ticket_id.isdigit():
        # Typically an unsubstituted `{{ticket.id}}`: the template went out without ticket data.
        raise BadRequest(f"ticket.id must be a Zendesk ticket number, got {ticket_id!r}")
    return ticket_id


def _csat_score(rating: str) -> float | None:
    word = rating.strip().lower()
    if word in NO_RATING:
        return None
    for prefix, score in CSAT_WORDS.items():
        if word.startswith(prefix):  # "Good", "Good with comment", "Bad, I'm unsatisfied"
            return score
    if word.isdigit() and 1 <= int(word) <= 5:  # 5-point scales render the number
        return int(word)
    raise BadRequest(f"satisfaction.rating: expected Good, Bad or 1–5, got {rating[:40]!r}")


def _trigger_signal(body: dict[str, Any], creds: Credentials) -> Signal | None:
    ticket_id = _trigger_ticket_id(body)
    event = text_at(body, "event")
    updated_at = text_at(body, "ticket.updated_at")
    link = text_at(body, "ticket.link")
    common: dict[str, Any] = {
        "title": clip(text_at(body, "ticket.title"), 2_000),
        "author": Author(name=text_at(body, "author.name"), email=text_at(body, "author.email")),
        "url": link if link and link.startswith("https://") else _ticket_url(ticket_id, creds),
        "created_at": parse_time(updated_at, "ticket.updated_at"),
        "channel": text_at(body, "ticket.via"),
        "thread_key": ticket_id,
        "metadata": _compact({"status": text_at(body, "ticket.status")}),
    }
    if event == "comment":
        text = text_at(body, "ticket.latest_public_comment")
        if not text:
            return None
        # No comment id placeholder exists: the update time and text identify this comment.
        key = f"{ticket_id}:comment:{_digest(updated_at, text)}"
        return Signal(external_id=key, kind="ticket", text=clip(text, 100_000), **common)
    if event == "satisfaction":
        rating = text_at(body, "satisfaction.rating") or ""
        score = _csat_score(rating)
        if score is None:
            return None  # survey offered, not yet answered
        comment = text_at(body, "satisfaction.comment")
        key = f"{ticket_id}:satisfaction:{_digest(rating.lower(), comment)}"
        common["metadata"]["rating"] = rating
        return Signal(
            external_id=key,
            kind="survey",
            text=clip(comment, 100_000),
            score=score,
            score_type="csat",
            **common,
        )
    raise BadRequest(f"event must be 'comment' or 'satisfaction', got {event!r}")


def _parse_trigger(body: dict[str, Any], delivery: Delivery, creds: Credentials) -> Parsed:
    parsed = parse_items([body], lambda b: _trigger_signal(b, creds))
    if parsed.errors:
        raise BadRequest(f"trigger body: {parsed.errors[0].message}")
    parsed.event_id = delivery.header("x-zendesk-webhook-invocation-id")
    parsed.event_type = f"trigger.{text_at(body, 'event')}"
    return parsed


# --- parse -----------------------------------------------------------------------------------


def parse(delivery: Delivery, creds: Credentials) -> Parsed:
    if is_test_send(delivery, creds):
        return Parsed(ping=True, event_type="test")
    body = require_object(decode_json(delivery.body))
    if (text_at(body, "type") or "").startswith(EVENT_PREFIX):
        return _parse_event(body, creds)
    if body.get("cxbot") == TRIGGER_MARK:
        return _parse_trigger(body, delivery, creds)
    raise BadRequest(
        "neither a Zendesk event (type zen:event-type:…) nor the cxbot trigger template "
        f'("cxbot": "{TRIGGER_MARK}"); see docs/sources.md'
    )


PROVIDER = Provider(
    name="zendesk", parse=parse, verify=verify, auth="secret", check_options=check_options
)

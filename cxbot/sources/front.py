"""Front: rule webhooks and application webhooks, told apart by the timestamp header.

- Rule webhook: `X-Front-Signature` = base64(HMAC-SHA1(company API secret, raw body)). No
  timestamp, so only the idempotency key (message id) catches replays.
- Application webhook: `X-Front-Signature` = base64(HMAC-SHA256(app signing key,
  "{X-Front-Request-Timestamp}:" + raw body)), timestamp in milliseconds, replay window applied.
  The body wraps the event: `{"type": "inbound_received", "authorization": {…}, "payload": {…}}`.
- Saving an application webhook sends a signed `{"type": "sync"}` with `X-Front-Challenge`;
  Front wants the challenge echoed in the POST answer. parse() marks it a ping and
  `challenge_reply()` builds that answer for the server.

Only inbound messages become signals: outbound replies, comments and assignments are the team's.
"""

from __future__ import annotations

import json
from typing import Any

from cxbot.errors import BadRequest, Unauthorized
from cxbot.models import Author, Signal
from cxbot.sources.base import Credentials, Delivery, HandshakeReply, Parsed, Provider
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

SIGNATURE = "X-Front-Signature"
TIMESTAMP = "X-Front-Request-Timestamp"
CHALLENGE = "X-Front-Challenge"
# Rule webhooks say `inbound`; application webhooks name the same event `inbound_received`.
INBOUND = frozenset({"inbound", "inbound_received"})
CONVERSATION_URL = "https://app.frontapp.com/open/{id}"


# --- verify ----------------------------------------------------------------------------------


def _check_fresh(timestamp: str, delivery: Delivery, creds: Credentials) -> None:
    if not timestamp.isdigit():
        raise Unauthorized(f"unreadable {TIMESTAMP} header: {timestamp[:40]!r}")
    age = abs(delivery.now - int(timestamp) / 1000)
    if age > creds.replay_window:
        raise Unauthorized(
            f"stale timestamp: {timestamp} ms is {age:.0f}s from now "
            f"(allowed {creds.replay_window:.0f}s)"
        )


def verify(delivery: Delivery, creds: Credentials) -> None:
    secret = require_secret(creds)
    given = require_header(delivery, SIGNATURE)
    timestamp = delivery.header(TIMESTAMP)
    if timestamp is None:
        expected = b64(hmac_digest(secret, delivery.body, "sha1"))
    else:
        expected = b64(hmac_digest(secret, timestamp.encode() + b":" + delivery.body))
    if not signature_matches(expected, given):
        raise Unauthorized("signature does not match the body")
    if timestamp is not None:
        _check_fresh(timestamp.strip(), delivery, creds)


def challenge_reply(delivery: Delivery) -> HandshakeReply | None:
    """The answer Front expects to a verified application-webhook validation: 200 with the
    challenge echoed as JSON. None when the delivery is not a validation."""
    challenge = delivery.header(CHALLENGE)
    if not challenge:
        return None
    return HandshakeReply(200, json.dumps({"challenge": challenge}), "application/json")


# --- parse -----------------------------------------------------------------------------------


def _sender(message: dict[str, Any]) -> Author:
    """Customers have no `author` (that names teammates); the `from` recipient is the sender,
    its handle an email address, a phone number or a social handle."""
    recipients = message.get("recipients")
    senders = [
        r for r in (recipients if isinstance(recipients, list) else []) if dig(r, "role") == "from"
    ]
    handle = text_at(senders[0], "handle") if senders else None
    is_email = handle is not None and "@" in handle and " " not in handle
    return Author(
        name=text_at(senders[0], "name") if senders else None,
        email=handle if is_email else None,
        handle=None if is_email else handle,
    )


def _inbound_signal(event: dict[str, Any]) -> Signal:
    message = dig(event, "target.data")
    if not isinstance(message, dict):
        raise BadRequest("inbound event without target.data (the message)")
    message_id = id_at(message, "id") or text_at(event, "id")
    if not message_id:
        raise BadRequest("inbound event without a message or event id")
    markup = text_at(message, "body")
    text = text_at(message, "text") or (html_to_text(markup) if markup else None)
    if not text:
        raise BadRequest(
            "the inbound message has no text: this looks like an event preview; "
            "set the Front rule to send the full event"
        )
    conversation_id = id_at(event, "conversation.id")
    return Signal(
        external_id=message_id,
        kind="ticket",
        text=clip(text, 100_000),
        title=clip(text_at(event, "conversation.subject"), 2_000),
        author=_sender(message),
        url=CONVERSATION_URL.format(id=conversation_id) if conversation_id else None,
        created_at=parse_time(message.get("created_at") or event.get("emitted_at"), "created_at"),
        channel=text_at(message, "type"),
        thread_key=conversation_id,
        metadata=_compact(
            {"event_id": text_at(event, "id"), "inbox": text_at(event, "source.data.0.name")}
        ),
    )


def _compact(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _event_of(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(event type, event): application webhooks wrap the event in `payload`."""
    payload = body.get("payload")
    if isinstance(payload, dict):
        return text_at(body, "type") or text_at(payload, "type") or "", payload
    return text_at(body, "type") or "", body


def parse(delivery: Delivery, creds: Credentials) -> Parsed:
    body = require_object(decode_json(delivery.body))
    if delivery.header(CHALLENGE) or text_at(body, "type") == "sync":
        return Parsed(ping=True, event_type="sync", reply=challenge_reply(delivery))
    event_type, event = _event_of(body)
    parsed = parse_items([event], _inbound_signal) if event_type in INBOUND else Parsed()
    if parsed.errors:
        raise BadRequest(f"{event_type}: {parsed.errors[0].message}")
    parsed.event_id = text_at(event, "id")
    parsed.event_type = event_type
    return parsed


PROVIDER = Provider(name="front", parse=parse, verify=verify, auth="secret")

"""Intercom webhooks: `notification_event` envelopes around conversations and tickets.

Signature: `X-Hub-Signature: sha1=<hex HMAC-SHA1(app client secret, raw body)>`. No timestamp
is signed, so replays are caught only by the idempotency keys (part and message ids).

One notification can carry several new conversation parts; each customer-written part is one
signal, agent, bot and system parts are not customer voice and are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
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
from cxbot.sources.signing import hmac_digest, require_header, require_secret, signature_matches

SIGNATURE = "X-Hub-Signature"
CUSTOMER_TYPES = frozenset({"user", "lead", "contact"})
INBOX_URL = "https://app.intercom.com/a/apps/{app}/conversations/{conversation}"

Build = Callable[[], Signal | None]


def verify(delivery: Delivery, creds: Credentials) -> None:
    secret = require_secret(creds)
    given = require_header(delivery, SIGNATURE)
    expected = "sha1=" + hmac_digest(secret, delivery.body, "sha1").hex()
    if not signature_matches(expected, given.strip().lower()):
        raise Unauthorized("signature does not match the body")


# --- pieces ----------------------------------------------------------------------------------


def _html_field(data: Any, path: str) -> str | None:
    markup = text_at(data, path)
    if markup is None:
        return None
    return clip(html_to_text(markup), 100_000) or None


def _is_customer(author: Any) -> bool:
    return (text_at(author, "type") or "").lower() in CUSTOMER_TYPES


def _author(author: Any, conversation: dict[str, Any]) -> Author:
    """Parts name their author, but v1 first messages and ratings carry only an id: then the
    conversation's user (v1) or the opening message's author (v2) with that id fills in."""
    author_id = id_at(author, "id")
    known = (conversation.get("user"), dig(conversation, "source.author"))
    same = next((p for p in known if author_id and id_at(p, "id") == author_id), None)
    return Author(
        name=text_at(author, "name") or text_at(same, "name"),
        email=text_at(author, "email") or text_at(same, "email"),
        handle=author_id,
    )


@dataclass(frozen=True)
class _Context:
    """What every signal of one notification shares."""

    topic: str
    notification: str | None
    sent_at: Any  # the envelope's created_at: the fallback time
    item: dict[str, Any]  # the conversation or ticket
    thread: str | None
    title: str | None
    url: str | None
    channel: str | None

    def common(self) -> dict[str, Any]:
        return {
            "title": clip(self.title, 2_000),
            "url": self.url,
            "channel": self.channel,
            "thread_key": self.thread,
        }

    def metadata(self, **extra: Any) -> dict[str, Any]:
        fields = {"notification_id": self.notification, "topic": self.topic, **extra}
        return {k: v for k, v in fields.items() if v is not None}

    def when(self, value: Any, what: str) -> Any:
        return parse_time(value, what) or parse_time(self.sent_at, "created_at")


def _conversation_context(body: dict[str, Any], item: dict[str, Any]) -> _Context:
    conversation_id = id_at(item, "id")
    if not conversation_id:
        raise BadRequest("conversation without id")
    app_id = text_at(body, "app_id")
    url = text_at(item, "links.conversation_web")
    if not url and app_id:
        url = INBOX_URL.format(app=app_id, conversation=conversation_id)
    title = (
        _html_field(item, "title")
        or _html_field(item, "source.subject")
        or _html_field(item, "conversation_message.subject")
    )
    return _Context(
        topic=text_at(body, "topic") or "",
        notification=text_at(body, "id"),
        sent_at=body.get("created_at"),
        item=item,
        thread=conversation_id,
        title=title,
        url=url,
        channel=text_at(item, "source.type"),
    )


def _ticket_context(body: dict[str, Any], ticket: dict[str, Any]) -> _Context:
    ticket_id = id_at(ticket, "id")
    if not ticket_id:
        raise BadRequest("ticket without id")
    return _Context(
        topic=text_at(body, "topic") or "",
        notification=text_at(body, "id"),
        sent_at=body.get("created_at"),
        item=ticket,
        thread=ticket_id,
        title=text_at(ticket, "ticket_attributes._default_title_"),
        url=None,  # no documented agent URL for ticket ids
        channel=text_at(ticket, "channel"),
    )


# --- conversations ---------------------------------------------------------------------------


def _part_signal(part: Any, ctx: _Context) -> Signal | None:
    if not isinstance(part, dict):
        raise BadRequest(f"part must be an object, got {type(part).__name__}")
    part_id = id_at(part, "id")
    if not part_id:
        raise BadRequest("part without id")
    text = _html_field(part, "body")
    if not _is_customer(part.get("author")) or not text:
        return None
    return Signal(
        external_id=part_id,
        kind="ticket",
        text=text,
        author=_author(part.get("author"), ctx.item),
        created_at=ctx.when(part.get("created_at"), "part created_at"),
        metadata=ctx.metadata(part_type=text_at(part, "part_type")),
        **ctx.common(),
    )


def _first_message_signal(ctx: _Context) -> Signal | None:
    # v2+ payloads put the opening message in `source`, v1 in `conversation_message`.
    message = ctx.item.get("source") or ctx.item.get("conversation_message")
    if not isinstance(message, dict):
        return None
    message_id = id_at(message, "id")
    text = _html_field(message, "body")
    if not message_id or not text or not _is_customer(message.get("author")):
        return None
    return Signal(
        external_id=message_id,
        kind="ticket",
        text=text,
        author=_author(message.get("author"), ctx.item),
        created_at=ctx.when(ctx.item.get("created_at"), "conversation created_at"),
        metadata=ctx.metadata(delivered_as=text_at(message, "delivered_as")),
        **ctx.common(),
    )


def _rater(ctx: _Context) -> Author:
    rating = ctx.item.get("conversation_rating")
    contact = dig(rating, "contact") or dig(ctx.item, "source.author") or ctx.item.get("user")
    return _author(contact, ctx.item)


def _rating_signal(ctx: _Context) -> Signal | None:
    rating = ctx.item.get("conversation_rating")
    score = dig(rating, "rating")
    if score is None:
        return None
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise BadRequest(f"conversation_rating.rating must be 1–5, got {score!r}")
    return Signal(
        # One rating per conversation: a repeated delivery of it is a duplicate.
        external_id=f"{ctx.thread}:rating",
        kind="survey",
        score=score,
        score_type="csat",
        text=clip(text_at(rating, "remark"), 100_000),
        author=_rater(ctx),
        created_at=ctx.when(dig(rating, "created_at"), "rating created_at"),
        metadata=ctx.metadata(teammate_id=id_at(rating, "teammate.id")),
        **ctx.common(),
    )


def _remark_signal(ctx: _Context) -> Signal | None:
    """A remark written after the rating arrives on its own topic. It is stored as text (no
    score), so the CSAT figure counts the rating once."""
    rating = ctx.item.get("conversation_rating")
    remark = text_at(rating, "remark")
    if not remark:
        return None
    return Signal(
        external_id=f"{ctx.thread}:rating-remark",
        kind="ticket",
        text=clip(remark, 100_000),
        author=_rater(ctx),
        created_at=ctx.when(dig(rating, "created_at"), "rating created_at"),
        metadata=ctx.metadata(csat=dig(rating, "rating")),
        **ctx.common(),
    )


def _conversation_builds(ctx: _Context) -> list[Build]:
    builds: list[Build] = []
    if ctx.topic.endswith(".created"):
        builds.append(partial(_first_message_signal, ctx))
    parts = dig(ctx.item, "conversation_parts.conversation_parts")
    if isinstance(parts, list):
        builds.extend(partial(_part_signal, part, ctx) for part in parts)
    if ctx.topic == "conversation.rating.added":
        builds.append(partial(_rating_signal, ctx))
    if ctx.topic == "conversation.rating.remarked":
        builds.append(partial(_remark_signal, ctx))
    return builds


# --- parse -----------------------------------------------------------------------------------


def parse(delivery: Delivery, creds: Credentials) -> Parsed:
    body = require_object(decode_json(delivery.body))
    topic = text_at(body, "topic")
    if topic == "ping" or dig(body, "data.item.type") == "ping":
        return Parsed(ping=True, event_type="ping")
    item = dig(body, "data.item")
    if not isinstance(item, dict):
        raise BadRequest("notification without data.item object")
    item_type = text_at(item, "type")
    ticket = item.get("ticket")
    if item_type == "conversation":
        builds = _conversation_builds(_conversation_context(body, item))
    elif item_type == "ticket_ticket_part" and isinstance(ticket, dict):
        # ticket.contact.replied and friends: the ticket plus the one new part.
        builds = [partial(_part_signal, item.get("ticket_part"), _ticket_context(body, ticket))]
    else:
        builds = []  # contacts, companies, admins…: nothing customers said
    parsed = parse_items(builds, lambda build: build())
    parsed.event_id = text_at(body, "id")
    parsed.event_type = topic
    return parsed


PROVIDER = Provider(name="intercom", parse=parse, verify=verify, auth="secret")

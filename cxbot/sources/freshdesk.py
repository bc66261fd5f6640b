"""Freshdesk: the "Trigger webhook" action of an automation rule, with cxbot's JSON template.

Freshdesk does not sign webhooks, so the source uses a shared token (`?token=…` in the URL or
an `X-Cxbot-Token` header); there is no body integrity and no replay protection beyond the
idempotency key. The template (docs/_parts/sources-helpdesks.md) keeps the key names of the
widely used Zulip template, so an existing rule can point here unchanged:

    {"freshdesk_webhook": {"triggered_event": "{{triggered_event}}", "ticket_id": "{{ticket.id}}",
     "ticket_url": …, "ticket_subject": …, "ticket_description": …,
     "ticket_latest_public_comment": …, "requester_name": …, "requester_email": …}}

Placeholders are pasted into the JSON as raw text, so a subject with a quote can break the body:
that is a 400 saying where, never a 500.
"""

from __future__ import annotations

import hashlib
from typing import Any

from cxbot.errors import BadRequest
from cxbot.models import Author, Signal
from cxbot.sources.base import Credentials, Delivery, Parsed, Provider
from cxbot.sources.fields import clip, decode_json, id_at, parse_items, require_object, text_at
from cxbot.sources.html import html_to_text
from cxbot.sources.signing import check_shared_token

WRAPPER = "freshdesk_webhook"


def triggered_event(value: str | None) -> tuple[str, str]:
    """`{ticket_action:created}` → ("ticket_action", "created"); `{status:{from:A,to:B}}` →
    ("status", "{from:A,to:B}"). Freshdesk renders these unquoted, so this is not JSON."""
    inner = (value or "").strip()
    if inner.startswith("{") and inner.endswith("}"):
        inner = inner[1:-1]
    key, _, rest = inner.partition(":")
    return key.strip(), rest.strip()


def _placeholder_free(value: str | None) -> str | None:
    # A placeholder Freshdesk did not know is left as `{{…}}`: treat it as absent.
    if value and value.startswith("{{") and value.endswith("}}"):
        return None
    return value


def _field(ticket: dict[str, Any], key: str) -> str | None:
    return _placeholder_free(text_at(ticket, key))


def _ticket_id(ticket: dict[str, Any]) -> str:
    ticket_id = id_at(ticket, "ticket_id")
    if not ticket_id or not ticket_id.isdigit():
        raise BadRequest(f"ticket_id must be a Freshdesk ticket number, got {ticket_id!r}")
    return ticket_id


def _what_to_store(ticket: dict[str, Any], event: tuple[str, str]) -> tuple[str, str] | None:
    """(label, text) of the customer's words this event carries, or None."""
    key, value = event
    if key == "ticket_action" and value == "created":
        description = _field(ticket, "ticket_description")
        return ("created", html_to_text(description)) if description else None
    if key == "note_type" and value != "public":
        return None  # private notes are the team's
    comment = _field(ticket, "ticket_latest_public_comment")
    return ("comment", html_to_text(comment)) if comment else None


def _signal(ticket: dict[str, Any], event: tuple[str, str]) -> Signal | None:
    ticket_id = _ticket_id(ticket)
    stored = _what_to_store(ticket, event)
    if stored is None or not stored[1]:
        return None
    label, text = stored
    # No delivery id exists: the ticket, what happened and the words identify a delivery, so
    # a retried or doubly fired rule is a duplicate.
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    url = _field(ticket, "ticket_url")
    return Signal(
        external_id=f"{ticket_id}:{label}:{digest}",
        kind="ticket",
        text=clip(text, 100_000),
        title=clip(_field(ticket, "ticket_subject"), 2_000),
        author=Author(
            name=_field(ticket, "requester_name"), email=_field(ticket, "requester_email")
        ),
        url=url if url and url.startswith(("https://", "http://")) else None,
        channel=_field(ticket, "ticket_source"),
        thread_key=ticket_id,
        metadata={
            k: v
            for k in ("ticket_type", "ticket_status", "ticket_priority")
            if (v := _field(ticket, k)) is not None
        },
    )


def parse(delivery: Delivery, creds: Credentials) -> Parsed:
    body = require_object(decode_json(delivery.body))
    ticket = require_object(body.get(WRAPPER, body), WRAPPER)
    event = triggered_event(_field(ticket, "triggered_event"))
    parsed = parse_items([ticket], lambda t: _signal(t, event))
    if parsed.errors:
        raise BadRequest(parsed.errors[0].message)
    parsed.event_type = ":".join(p for p in event if p) or None
    return parsed


PROVIDER = Provider(name="freshdesk", parse=parse, verify=check_shared_token, auth="token")

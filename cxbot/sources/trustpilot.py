"""Trustpilot service-review webhooks (Business app → Integrations → Developers → Webhooks).

Trustpilot does not sign its deliveries, so the source is authenticated with a shared token in
the subscription URL (`?token=…`), compared in constant time by `check_shared_token`.

One request is a batch, `{"events": [{"eventName", "version", "eventData"}, …]}`; each review
event becomes one signal and a malformed event is reported without losing the others. There is no
delivery id: the idempotency key is the review id plus the event name (see `external_id`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cxbot.errors import BadRequest
from cxbot.models import Signal
from cxbot.sources.base import Credentials, Delivery, Parsed, Provider
from cxbot.sources.fields import decode_json, parse_items, require_object
from cxbot.sources.signing import check_shared_token

CREATED = "service-review-created"
UPDATED = "service-review-updated"
# `service-review-deleted` and product-review events carry nothing to store, so they are
# acknowledged without a signal (cxbot has no deletion stage yet).
REVIEW_EVENTS = frozenset({CREATED, UPDATED})

# `eventData.link` is an API URL that needs a key; this is the page a person can open.
PUBLIC_URL = "https://www.trustpilot.com/reviews/{id}"


def parse(delivery: Delivery, creds: Credentials) -> Parsed:
    body = require_object(decode_json(delivery.body))
    events = body.get("events")
    if not isinstance(events, list):
        raise BadRequest('expected a Trustpilot batch: {"events": [...]}')
    parsed = parse_items(events, signal_from_event)
    parsed.event_type = _event_names(events)
    return parsed


def signal_from_event(event: Any) -> Signal | None:
    event = require_object(event, "event")
    name = event.get("eventName")
    if not isinstance(name, str) or not name:
        raise BadRequest("event has no eventName")
    if name not in REVIEW_EVENTS:
        return None
    data = require_object(event.get("eventData"), "eventData")
    review_id = _review_id(data.get("id"))
    consumer = data.get("consumer")
    consumer = consumer if isinstance(consumer, dict) else {}
    return Signal.model_validate(
        {
            "external_id": external_id(review_id, name, data),
            "kind": "review",
            "title": data.get("title"),
            "text": data.get("text"),
            "rating": _stars(data.get("stars")),
            "author": {"name": consumer.get("name")},
            "url": PUBLIC_URL.format(id=review_id),
            "created_at": data.get("createdAt"),
            "channel": "trustpilot",
            # An update lands in the Slack thread of the review it changes.
            "thread_key": review_id,
            "metadata": _metadata(event, data, consumer),
        }
    )


def external_id(review_id: str, name: str, data: dict[str, Any]) -> str:
    """`<review id>:<eventName>`, plus a short digest of the content for updates.

    Retries repeat the same review and content, so they collapse onto the same key; a later,
    different edit of the same review gets a new key (Trustpilot documents no update timestamp).
    """
    key = f"{review_id}:{name}"
    if name == UPDATED:
        content = [data.get("stars"), data.get("title"), data.get("text")]
        digest = hashlib.sha256(json.dumps(content).encode()).hexdigest()
        key += ":" + digest[:12]
    return key


def _review_id(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRequest("eventData.id must be a non-empty string")
    return value.strip()


def _stars(value: Any) -> Any:
    # The model would read `true` as 1 star; a boolean here is a malformed event, not a rating.
    if isinstance(value, bool):
        raise BadRequest("eventData.stars must be a number from 1 to 5")
    return value


def _metadata(
    event: dict[str, Any], data: dict[str, Any], consumer: dict[str, Any]
) -> dict[str, Any]:
    fields = {
        "event": event.get("eventName"),
        "event_version": event.get("version"),
        "language": data.get("language"),
        "is_verified": data.get("isVerified"),
        "location_id": data.get("locationId"),
        # The order/reference id given when inviting: the only way to join to a customer, as
        # Trustpilot leaves the email out of the webhook.
        "reference_id": data.get("referenceId"),
        "consumer_id": consumer.get("id"),
        "tags": data.get("tags"),
    }
    return {key: value for key, value in fields.items() if value not in (None, "", [])}


def _event_names(events: list[Any]) -> str | None:
    names: list[str] = []
    for event in events:
        name = event.get("eventName") if isinstance(event, dict) else None
        if isinstance(name, str) and name and name not in names:
            names.append(name)
    return ",".join(names) or None


PROVIDER = Provider(name="trustpilot", parse=parse, verify=check_shared_token, auth="token")

"""The documented generic format (docs/sources.md): one signal object, or an array of them.

Signing is optional: `X-Cxbot-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from cxbot.errors import BadRequest, Unauthorized
from cxbot.models import Author, Signal
from cxbot.sources.base import Credentials, Delivery, Parsed, Provider
from cxbot.sources.fields import decode_json, parse_items
from cxbot.sources.signing import hmac_digest, require_secret, signature_matches

MAX_BATCH = 1000


class GenericSignal(BaseModel):
    """The wire form; `id` becomes `external_id`."""

    model_config = ConfigDict(extra="forbid")

    # Strict: in pydantic's lax mode `true` would pass as the integer 1 and collide with id 1.
    id: StrictStr | StrictInt
    kind: str
    text: str | None = None
    title: str | None = None
    rating: int | None = None
    score: float | None = None
    score_type: str | None = None
    author: Author | None = None
    url: str | None = None
    created_at: Any = None
    channel: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    thread_key: StrictStr | StrictInt | None = None


def signal_from_generic(item: Any) -> Signal:
    if not isinstance(item, dict):
        raise BadRequest(f"each signal must be a JSON object, got {type(item).__name__}")
    wire = GenericSignal.model_validate(item)
    data = wire.model_dump(exclude={"id"}, exclude_none=True)
    data["external_id"] = wire.id
    return Signal.model_validate(data)


def verify(delivery: Delivery, creds: Credentials) -> None:
    secret = require_secret(creds)
    given = delivery.header("x-cxbot-signature")
    if not given:
        raise Unauthorized("missing X-Cxbot-Signature header")
    expected = "sha256=" + hmac_digest(secret, delivery.body).hex()
    if not signature_matches(expected, given.lower()):
        raise Unauthorized("signature does not match the body")


def parse(delivery: Delivery, creds: Credentials) -> Parsed:
    data = decode_json(delivery.body)
    if isinstance(data, dict):
        items = [data]
    elif isinstance(data, list):
        items = data
    else:
        raise BadRequest("body must be a signal object or an array of signal objects")
    if not items:
        raise BadRequest("empty array: nothing to store")
    if len(items) > MAX_BATCH:
        raise BadRequest(f"at most {MAX_BATCH} signals per request, got {len(items)}")
    parsed = parse_items(items, signal_from_generic)
    if isinstance(data, dict) and parsed.errors:
        # A single object that is wrong is a malformed body, not a batch with one bad item.
        raise BadRequest(parsed.errors[0].message)
    return parsed


PROVIDER = Provider(name="generic", parse=parse, verify=verify, auth="secret")

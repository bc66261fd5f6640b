"""Formbricks: `responseCreated` / `responseUpdated` / `responseFinished` webhooks.

Signature: Standard Webhooks. Headers `webhook-id`, `webhook-timestamp` (unix s) and
`webhook-signature`, a space-separated list of `v1,<base64 HMAC-SHA256(key, "{id}.{ts}.{body}")>`
(several during a key rotation: any match will do); key = base64-decode of the secret after
`whsec_`. The timestamp is signed, so `creds.replay_window` applies.

The test request Formbricks sends before it lets you save a webhook, `{"event": "testEndpoint"}`,
comes before the signing secret exists, so it carries no signature: that exact body is let
through unsigned and answered as a ping, storing nothing.

Body: one event object or, as the docs print it, an array of them; each becomes one signal.
`external_id` is `<response id>:<event>:<updatedAt>` because created, updated and finished
events all carry the same response id (and an update can come several times); `thread_key` is
the response id. `Parsed.event_id` is the `webhook-id` header, stable across retries.

`data.data` maps question ids to answers, without question types: which answer is a score is
told by option `score_fields` (question id -> "nps", "csat", "ces" or "rating"); other numbers
stay in `metadata["answers"]`. Text is the answers listed in option `text_fields`, or else
every string answer that is not an email, a URL or a button marker ("clicked", "accepted"...).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cxbot.errors import BadRequest, Unauthorized
from cxbot.models import SCORE_RANGES, Author, Signal
from cxbot.sources.base import Credentials, Delivery, Parsed, Provider
from cxbot.sources.fields import decode_json, dig, parse_items
from cxbot.sources.signing import (
    b64,
    hmac_digest,
    require_header,
    require_secret,
    signature_matches,
)
from cxbot.sources.survey_options import SCALES, check_survey_options, score_fields, text_fields

MAX_BATCH = 1000
TEST_EVENT = "testEndpoint"
# Fixed answers of call-to-action and consent questions: not something a customer wrote.
MARKERS = frozenset({"clicked", "dismissed", "accepted"})
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
URL = re.compile(r"https?://\S+")


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)
    created_at: datetime | None = Field(default=None, alias="createdAt")
    updated_at: datetime | None = Field(default=None, alias="updatedAt")
    survey_id: str | None = Field(default=None, alias="surveyId")
    finished: bool | None = None
    data: dict[str, Any] | None = None
    contact: dict[str, Any] | None = None
    contact_attributes: dict[str, Any] | None = Field(default=None, alias="contactAttributes")
    meta: dict[str, Any] | None = None
    survey: dict[str, Any] | None = None
    language: str | None = None


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore")

    event: str = Field(min_length=1)
    data: _Response


# --- options ---------------------------------------------------------------------------------


def _score_fields(options: Mapping[str, Any]) -> dict[str, str]:
    return score_fields(options, "question ids")


def _text_fields(options: Mapping[str, Any]) -> list[str] | None:
    found = text_fields(options, "question ids")
    return None if found is None else found


def check_options(options: Mapping[str, Any]) -> list[str]:
    return check_survey_options(options, "question ids")


# --- verify ----------------------------------------------------------------------------------


def _is_unsigned_test(delivery: Delivery) -> bool:
    """True for Formbricks' pre-save test request: exactly `{"event": "testEndpoint"}`, unsigned."""
    if delivery.header("webhook-signature") or len(delivery.body) > 200:
        return False
    try:
        data: object = json.loads(delivery.body)
    except (ValueError, RecursionError):
        return False
    return data == {"event": TEST_EVENT}


def _signing_key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise Unauthorized(
            "the configured secret is not a Formbricks whsec_<base64> secret"
        ) from None


def _timestamp(delivery: Delivery, creds: Credentials) -> str:
    raw = require_header(delivery, "webhook-timestamp").strip()
    # The length cap keeps int() away from huge digit strings (and their ValueError).
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise Unauthorized("webhook-timestamp is not a unix time in seconds")
    if abs(delivery.now - int(raw)) > creds.replay_window:
        raise Unauthorized("stale webhook-timestamp: outside the replay window")
    return raw


def verify(delivery: Delivery, creds: Credentials) -> None:
    if _is_unsigned_test(delivery):
        return
    key = _signing_key(require_secret(creds))
    msg_id = require_header(delivery, "webhook-id").strip()
    signatures = require_header(delivery, "webhook-signature")
    ts = _timestamp(delivery, creds)
    expected = b64(hmac_digest(key, f"{msg_id}.{ts}.".encode() + delivery.body))
    # Each entry is `<version>,<signature>`; only v1 (HMAC-SHA256) is ours to check.
    given = [sig for ver, _, sig in (e.partition(",") for e in signatures.split()) if ver == "v1"]
    if not any(signature_matches(expected, sig) for sig in given):
        raise Unauthorized("webhook-signature has no v1 signature matching the body")


# --- parse -----------------------------------------------------------------------------------


def _scored(scale: str, value: Any, where: str) -> dict[str, Any]:
    """`{"score", "score_type"}` or `{"rating"}` for a number on `scale`; 400 if it does not fit."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"{where} is on the {scale} scale but its answer is not a number")
    if scale == "rating":
        if value not in (1, 2, 3, 4, 5):
            raise BadRequest(f"{where}: {value!r} is not a 1-5 star rating")
        return {"rating": int(value)}
    low, high = SCORE_RANGES[scale]
    if not low <= value <= high:
        raise BadRequest(f"{where}: {value!r} is outside the {scale} scale {low:g}-{high:g}")
    return {"score": value, "score_type": scale}


def _scores(answers: dict[str, Any], score_fields: dict[str, str]) -> dict[str, Any]:
    """One score (NPS before CSAT before CES) and one star rating from the configured questions."""
    found: dict[str, dict[str, Any]] = {}
    for qid, scale in score_fields.items():
        if answers.get(qid) is not None:  # a skipped question is absent or null
            found.setdefault(scale, _scored(scale, answers[qid], f"answer {qid}"))
    best = next((found[s] for s in SCALES if s in found and s != "rating"), {})
    return {**best, **found.get("rating", {})}


def _is_free_text(value: Any) -> bool:
    if not isinstance(value, str) or not value.strip():
        return False
    text = value.strip()
    return text not in MARKERS and not EMAIL.fullmatch(text) and not URL.fullmatch(text)


def _texts(answers: dict[str, Any], text_fields: list[str] | None) -> list[str]:
    if text_fields is not None:
        values = [answers.get(qid) for qid in text_fields]
        return [v.strip() for v in values if isinstance(v, str) and v.strip()]
    return [v.strip() for v in answers.values() if _is_free_text(v)]


def _author(response: _Response, answers: dict[str, Any]) -> Author:
    attrs = response.contact_attributes or {}
    email = attrs.get("email")
    if not isinstance(email, str):
        # Anonymous link surveys have no contact; an answer that is just an address is theirs.
        found = (v.strip() for v in answers.values() if isinstance(v, str))
        email = next((v for v in found if EMAIL.fullmatch(v)), None)
    name = attrs.get("name")
    if not isinstance(name, str):
        parts = [attrs.get("firstName"), attrs.get("lastName")]
        name = " ".join(p for p in parts if isinstance(p, str) and p.strip()) or None
    return Author(email=email, name=name)


def _metadata(event: _Event) -> dict[str, Any]:
    response = event.data
    metadata: dict[str, Any] = {"event": event.event, "answers": response.data or {}}
    survey_title = (response.survey or {}).get("title")
    extras = {
        "survey_id": response.survey_id,
        "survey_title": survey_title if isinstance(survey_title, str) else None,
        "finished": response.finished,
        "language": response.language,
        "country": (response.meta or {}).get("country"),
        "contact_id": (response.contact or {}).get("id"),
    }
    metadata.update({k: v for k, v in extras.items() if v is not None})
    return metadata


def _build(item: Any, score_fields: dict[str, str], text_fields: list[str] | None) -> Signal | None:
    if not isinstance(item, dict):
        raise BadRequest(f"each event must be a JSON object, got {type(item).__name__}")
    event = _Event.model_validate(item)
    response = event.data
    answers = response.data or {}
    scored = _scores(answers, score_fields)
    texts = _texts(answers, text_fields)
    if not scored and not texts:
        return None  # e.g. a responseCreated with only a button click so far
    version = dig(item, "data.updatedAt")  # as sent: the external id must not depend on parsing
    survey_url = (response.meta or {}).get("url")
    metadata = _metadata(event)
    return Signal.model_validate(
        {
            "external_id": ":".join(
                [response.id, event.event] + ([version] if isinstance(version, str) else [])
            ),
            "kind": "survey",
            "text": "\n\n".join(texts) or None,
            "title": metadata.get("survey_title"),
            **scored,
            "author": _author(response, answers),
            "url": survey_url if isinstance(survey_url, str) else None,  # the survey's link
            "created_at": response.updated_at or response.created_at,
            "thread_key": response.id,
            "metadata": metadata,
        }
    )


def _items(data: Any) -> list[Any]:
    items = data if isinstance(data, list) else [data]
    if not items:
        raise BadRequest("empty array: nothing to store")
    if len(items) > MAX_BATCH:
        raise BadRequest(f"at most {MAX_BATCH} events per request, got {len(items)}")
    return items


def _event_type(items: list[Any]) -> str | None:
    names = [i["event"] for i in items if isinstance(i, dict) and isinstance(i.get("event"), str)]
    return ",".join(dict.fromkeys(names)) or None  # distinct names, first-seen order


def parse(delivery: Delivery, creds: Credentials) -> Parsed:
    data = decode_json(delivery.body)
    if not isinstance(data, dict | list):
        raise BadRequest("body must be an event object or an array of event objects")
    event_id = (delivery.header("webhook-id") or "").strip() or None
    if isinstance(data, dict) and data.get("event") == TEST_EVENT:
        return Parsed(event_id=event_id, event_type=TEST_EVENT, ping=True)
    items = _items(data)
    score_fields, text_fields = _score_fields(creds.options), _text_fields(creds.options)
    parsed = parse_items(items, lambda item: _build(item, score_fields, text_fields))
    if isinstance(data, dict) and parsed.errors:
        # A single object that is wrong is a malformed body, not a batch with one bad item.
        raise BadRequest(parsed.errors[0].message)
    parsed.event_id, parsed.event_type = event_id, _event_type(items)
    return parsed


PROVIDER = Provider(
    name="formbricks", parse=parse, verify=verify, auth="secret", check_options=check_options
)

"""Delighted: `survey_response.created` / `survey_response.updated` webhooks.

Signature: `X-Delighted-Webhook-Signature: sha256=<hex HMAC-SHA256(private API key, raw body)>`;
the key is the account's private API key (the source's `secret`). Nothing time-based is signed.

A response arrives first with its score (`created`) and again (`updated`) when a comment or an
additional answer is added. `external_id` is `<response id>:<event type>:<updated_at>`: the
response id alone would drop the comment as a duplicate of the score; adding the event type
keeps `created` and `updated` apart, and `updated_at` keeps a second `updated` (comment, then an
additional answer) while a retry of one delivery keeps its key. `event_id` is not used: two
deliveries about different data can share it (public sample payloads do). `thread_key` is the
response id, so the update lands in the thread of the first alert.

The payload does not say which scale the score is on. Option `survey_type` (the Delighted
project's type): "nps" (0-10, the default: Delighted's standard survey), "csat" (1-5),
"ces" (1-7), "stars" (5-star, becomes `rating`) or "other" (thumbs, smileys...: the score is kept
in metadata only). Without the option a `survey_type` in the payload is used where known.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from cxbot.errors import BadRequest, ConfigError, Unauthorized
from cxbot.models import SCORE_RANGES, Author, Signal
from cxbot.sources.base import Credentials, Delivery, Parsed, Provider
from cxbot.sources.fields import decode_json, describe_validation, require_object
from cxbot.sources.signing import hmac_digest, require_header, require_secret, signature_matches

SIGNATURE_HEADER = "x-delighted-webhook-signature"
SURVEY_TYPES = ("nps", "csat", "ces", "stars", "other")
# Delighted's own names for survey types, as a payload may carry them.
PAYLOAD_SURVEY_TYPES = {"nps": "nps", "enps": "nps", "csat": "csat", "ces": "ces"}

# Ids are non-empty text or JSON integers (kept exact as their decimal text).
Id = Annotated[StrictStr, Field(min_length=1)] | StrictInt
Number = StrictInt | StrictFloat


class _Person(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: Id | None = None
    email: str | None = None
    name: str | None = None


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: Id
    person: _Person | None = None
    survey_type: str | None = None
    score: Number | None = None
    comment: str | None = None
    permalink: str | None = None
    created_at: Number | None = None
    updated_at: Number | None = None
    person_properties: dict[str, Any] | None = None
    tags: list[Any] | None = None
    additional_answers: list[Any] | None = None


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore")

    event_type: str = Field(min_length=1)
    event_id: Id | None = None


class _ResponseEvent(_Event):
    event_data: _Response


# --- verify ----------------------------------------------------------------------------------


def verify(delivery: Delivery, creds: Credentials) -> None:
    secret = require_secret(creds)
    given = require_header(delivery, SIGNATURE_HEADER)
    algo, _, digest = given.strip().partition("=")
    if algo.lower() != "sha256" or not digest:
        raise Unauthorized("X-Delighted-Webhook-Signature must look like sha256=<hex>")
    expected = hmac_digest(secret, delivery.body).hex()
    if not signature_matches(expected, digest.lower()):
        raise Unauthorized("X-Delighted-Webhook-Signature does not match the body")


# --- parse -----------------------------------------------------------------------------------


OPTIONS = ("survey_type",)


def _configured_type(options: Mapping[str, Any]) -> str | None:
    configured = options.get("survey_type")
    if configured is not None and configured not in SURVEY_TYPES:
        raise ConfigError(f"survey_type must be one of {', '.join(SURVEY_TYPES)}")
    return None if configured is None else str(configured)


def check_options(options: Mapping[str, Any]) -> list[str]:
    """Problems with a source's options, one line each, for the config loader."""
    problems = [
        f"unknown option {k!r} (known: {', '.join(OPTIONS)})" for k in options if k not in OPTIONS
    ]
    try:
        _configured_type(options)
    except ConfigError as exc:
        problems.append(str(exc))
    return problems


def _survey_type(options: Mapping[str, Any], response: _Response) -> str:
    configured = _configured_type(options)
    if configured is not None:
        return configured
    if response.survey_type:
        return PAYLOAD_SURVEY_TYPES.get(response.survey_type.lower(), "other")
    return "nps"


def _scored(survey_type: str, score: float) -> dict[str, Any]:
    """The score as signal fields; a score off the scale means `survey_type` is wrong: 400."""
    if survey_type == "other":
        return {}
    if survey_type == "stars":
        if score not in (1, 2, 3, 4, 5):
            raise BadRequest(f"score {score!r} is not a 1-5 star rating: check survey_type")
        return {"rating": int(score)}
    low, high = SCORE_RANGES[survey_type]
    if not low <= score <= high:
        scale = f"{survey_type} scale {low:g}-{high:g}"
        raise BadRequest(f"score {score!r} is outside the {scale}: check survey_type")
    return {"score": score, "score_type": survey_type}


def _unix_time(value: float | None, where: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise BadRequest(f"{where} is not a unix time: {value!r}") from None


def _additional_answers(items: list[Any] | None) -> list[dict[str, Any]]:
    """`[{question, type, value}]` from `additional_answers`; odd entries are skipped."""
    out = []
    for item in items or []:
        if not isinstance(item, dict):
            continue
        question = item.get("question")
        question = question if isinstance(question, dict) else {}
        value = item.get("value")
        if isinstance(value, dict) and len(value) == 1:
            value = next(iter(value.values()))  # {"free_response": "..."} -> "..."
        out.append({"question": question.get("text"), "type": question.get("type"), "value": value})
    return out


def _metadata(response: _Response, survey_type: str) -> dict[str, Any]:
    person = response.person or _Person()
    metadata: dict[str, Any] = {"survey_type": survey_type}
    if response.score is not None:
        metadata["raw_score"] = response.score
    if person.id is not None:
        metadata["person_id"] = str(person.id)
    if response.person_properties:
        metadata["person_properties"] = response.person_properties
    if response.tags:
        metadata["tags"] = response.tags
    if response.additional_answers:
        metadata["additional_answers"] = _additional_answers(response.additional_answers)
    return metadata


def _external_id(event: _ResponseEvent) -> str:
    response = event.event_data
    version = response.updated_at if response.updated_at is not None else response.created_at
    parts = [str(response.id), event.event_type]
    if version is not None:
        parts.append(str(int(version)) if float(version).is_integer() else repr(version))
    return ":".join(parts)


def _build(event: _ResponseEvent, options: Mapping[str, Any]) -> Signal | None:
    response = event.event_data
    survey_type = _survey_type(options, response)
    scored = _scored(survey_type, response.score) if response.score is not None else {}
    if not scored and not (response.comment or "").strip():
        return None  # a score we cannot place and no comment: nothing a signal can carry
    updated = event.event_type.endswith(".updated") and response.updated_at is not None
    when = response.updated_at if updated else response.created_at
    person = response.person or _Person()
    return Signal.model_validate(
        {
            "external_id": _external_id(event),
            "kind": "survey",
            "text": response.comment,
            **scored,
            "author": Author(email=person.email, name=person.name),
            "url": response.permalink,
            "created_at": _unix_time(
                when, "event_data.updated_at" if updated else "event_data.created_at"
            ),
            "thread_key": response.id,
            "metadata": _metadata(response, survey_type),
        }
    )


def parse(delivery: Delivery, creds: Credentials) -> Parsed:
    data = require_object(decode_json(delivery.body))
    try:
        event = _Event.model_validate(data)
        event_id = None if event.event_id is None else str(event.event_id)
        if not event.event_type.startswith("survey_response."):
            # unsubscribe / bounce events: recorded as events, nothing to store as a signal.
            return Parsed(event_id=event_id, event_type=event.event_type)
        signal = _build(_ResponseEvent.model_validate(data), creds.options)
    except ValidationError as exc:
        raise BadRequest(describe_validation(exc)) from None
    return Parsed(
        signals=[signal] if signal else [], event_id=event_id, event_type=event.event_type
    )


PROVIDER = Provider(
    name="delighted", parse=parse, verify=verify, auth="secret", check_options=check_options
)

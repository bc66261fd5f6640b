"""Typeform: `form_response` (a submitted form) and `form_response_partial` webhooks.

Signature: `Typeform-Signature: sha256=<base64 HMAC-SHA256(secret, raw body)>` — base64, not hex.
Nothing time-based is signed, so there is no replay window: dedupe on `external_id` is the defence.

One delivery is one response and becomes at most one `survey` signal:
- `external_id` is the response `token` (`<token>:partial` for a partial response, so the full
  response that may follow is not swallowed as a duplicate); `thread_key` is the token either way.
- the score comes from the first answer whose scale is known (see `_scale_of`), NPS before CSAT
  before CES; a 5-star rating answer fills `rating`;
- long and short text answers become `text`; every answer, with its question title, is kept in
  `metadata["answers"]`, so numbers on a scale we cannot tell are kept, just not scored.

Options (extra keys of the source): `score_fields` maps a field ref or id to "nps", "csat",
"ces" or "rating"; `text_fields` lists the refs or ids whose answers make the text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cxbot.errors import BadRequest, Unauthorized
from cxbot.models import SCORE_RANGES, Author, Signal
from cxbot.sources.base import Credentials, Delivery, Parsed, Provider
from cxbot.sources.fields import decode_json, describe_validation, require_object
from cxbot.sources.signing import (
    b64,
    hmac_digest,
    require_header,
    require_secret,
    signature_matches,
)
from cxbot.sources.survey_options import SCALES, check_survey_options, score_fields, text_fields

SIGNATURE_HEADER = "typeform-signature"
RESULTS_URL = "https://admin.typeform.com/form/{form_id}/results"
TEXT_FIELD_TYPES = ("long_text", "short_text")
# opinion_scale (steps, start_at_one) -> scale, used only when the definition carries both.
OPINION_SCALES = {(11, False): "nps", (5, True): "csat", (7, True): "ces"}


class _AnswerField(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    type: str | None = None
    ref: str | None = None


class _Answer(BaseModel):
    # The value sits under a key named after `type` (`text`, `number`, `choice`, ...): keep extras.
    model_config = ConfigDict(extra="allow")

    type: str
    field: _AnswerField


class _FieldDef(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    title: str | None = None
    type: str | None = None
    ref: str | None = None
    properties: dict[str, Any] | None = None


class _Definition(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str | None = None
    fields: list[_FieldDef] | None = None


class _FormResponse(BaseModel):
    model_config = ConfigDict(extra="ignore")

    form_id: str = Field(min_length=1)
    token: str = Field(min_length=1)
    submitted_at: datetime | None = None
    landed_at: datetime | None = None
    definition: _Definition | None = None
    answers: list[_Answer] | None = None
    hidden: dict[str, Any] | None = None
    calculated: dict[str, Any] | None = None


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore")

    event_id: str = Field(min_length=1)
    event_type: str = Field(min_length=1)
    form_response: _FormResponse


# --- options ---------------------------------------------------------------------------------


def _score_fields(options: Mapping[str, Any]) -> dict[str, str]:
    return score_fields(options, "field refs or ids")


def _text_fields(options: Mapping[str, Any]) -> set[str] | None:
    found = text_fields(options, "field refs or ids")
    return None if found is None else set(found)


def check_options(options: Mapping[str, Any]) -> list[str]:
    return check_survey_options(options, "field refs or ids")


# --- verify ----------------------------------------------------------------------------------


def verify(delivery: Delivery, creds: Credentials) -> None:
    secret = require_secret(creds)
    given = require_header(delivery, SIGNATURE_HEADER)
    expected = "sha256=" + b64(hmac_digest(secret, delivery.body))
    if not signature_matches(expected, given):
        raise Unauthorized("Typeform-Signature does not match the body")


# --- parse -----------------------------------------------------------------------------------


def _answer_value(answer: _Answer) -> Any:
    value = (answer.model_extra or {}).get(answer.type)
    if answer.type == "choice" and isinstance(value, dict):
        return value.get("label") or value.get("other")
    if answer.type == "choices" and isinstance(value, dict):
        labels = value.get("labels")
        labels = list(labels) if isinstance(labels, list) else []
        return [*labels, value["other"]] if value.get("other") else labels
    return value


def _scale_of(answer: _Answer, field: _FieldDef | None, score_fields: dict[str, str]) -> str | None:
    """The scale an answer is on, only where the config or the form definition says so."""
    # Answers often carry only the field id; the ref the user configured is in the definition.
    for key in (answer.field.ref, field.ref if field else None, answer.field.id):
        if key is not None and key in score_fields:
            return score_fields[key]
    ftype = answer.field.type or (field.type if field else None)
    if ftype == "nps":
        return "nps"
    props = (field.properties if field else None) or {}
    steps, start_at_one = props.get("steps"), props.get("start_at_one")
    if ftype == "opinion_scale" and isinstance(start_at_one, bool) and isinstance(steps, int):
        return OPINION_SCALES.get((steps, start_at_one))
    # Typeform ratings come in many shapes and 3-10 steps; only 5 stars is a 1-5 star rating.
    if ftype == "rating" and steps == 5 and props.get("shape") == "star":
        return "rating"
    return None


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


def _answer_record(answer: _Answer, field: _FieldDef | None, scale: str | None) -> dict[str, Any]:
    record = {
        "field_id": answer.field.id,
        "ref": answer.field.ref or (field.ref if field else None),
        "type": answer.field.type or (field.type if field else None),
        # Titles may hold piping placeholders like {{field:ref}}: kept as written.
        "title": field.title if field else None,
        "value": _answer_value(answer),
        "scale": scale,
    }
    return {k: v for k, v in record.items() if v is not None}


def _is_text(record: dict[str, Any], text_fields: set[str] | None) -> bool:
    if not isinstance(record.get("value"), str):
        return False
    if text_fields is not None:
        return record["field_id"] in text_fields or record.get("ref") in text_fields
    return record.get("type") in TEXT_FIELD_TYPES


def _author(records: list[dict[str, Any]], hidden: dict[str, Any]) -> Author:
    """The respondent: an email answer, else hidden fields (`email`, `name`, `first_name`...)."""
    email = next((r.get("value") for r in records if r.get("type") == "email"), None)
    if not isinstance(email, str):
        email = hidden.get("email")
    name = hidden.get("name")
    if not isinstance(name, str):
        parts = [hidden.get("first_name"), hidden.get("last_name")]
        name = " ".join(p for p in parts if isinstance(p, str) and p.strip()) or None
    return Author(email=email if isinstance(email, str) else None, name=name)


def _read_answers(
    resp: _FormResponse, options: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Every answer as a metadata record, and the first scored answer of each scale."""
    fields = {f.id: f for f in (resp.definition.fields or [])} if resp.definition else {}
    score_fields = _score_fields(options)
    records: list[dict[str, Any]] = []
    scores: dict[str, dict[str, Any]] = {}
    for answer in resp.answers or []:
        field = fields.get(answer.field.id)
        scale = _scale_of(answer, field, score_fields)
        record = _answer_record(answer, field, scale)
        if scale is not None:
            # Every scaled answer is checked, so a misconfigured field fails loudly.
            where = f"field {record.get('ref') or answer.field.id}"
            scores.setdefault(scale, _scored(scale, record.get("value"), where))
        records.append(record)
    return records, scores


def _metadata(resp: _FormResponse, records: list[dict[str, Any]], partial: bool) -> dict[str, Any]:
    metadata: dict[str, Any] = {"form_id": resp.form_id, "answers": records}
    if resp.hidden:
        metadata["hidden"] = resp.hidden
    if resp.calculated and resp.calculated.get("score") is not None:
        metadata["quiz_score"] = resp.calculated["score"]  # a quiz total, never an NPS
    if partial:
        metadata["partial"] = True
    return metadata


def _build(event: _Event, options: Mapping[str, Any]) -> Signal | None:
    resp = event.form_response
    records, scores = _read_answers(resp, options)
    text_fields = _text_fields(options)
    texts = [r["value"].strip() for r in records if _is_text(r, text_fields)]
    texts = [t for t in texts if t]
    # A signal holds one score (NPS before CSAT before CES) and, besides it, one star rating.
    best = next((scores[s] for s in SCALES if s in scores and s != "rating"), {})
    best = {**best, **scores.get("rating", {})}
    if not texts and not best:
        return None  # only choices, dates...: nothing a signal can carry
    partial = event.event_type == "form_response_partial"
    return Signal.model_validate(
        {
            "external_id": f"{resp.token}:partial" if partial else resp.token,
            "kind": "survey",
            "text": "\n\n".join(texts) or None,
            "title": resp.definition.title if resp.definition else None,
            **best,
            "author": _author(records, resp.hidden or {}),
            "url": RESULTS_URL.format(form_id=quote(resp.form_id, safe="")),
            "created_at": resp.submitted_at or resp.landed_at,
            "thread_key": resp.token,
            "metadata": _metadata(resp, records, partial),
        }
    )


def parse(delivery: Delivery, creds: Credentials) -> Parsed:
    data = require_object(decode_json(delivery.body))
    try:
        event = _Event.model_validate(data)
        signal = _build(event, creds.options)
    except ValidationError as exc:
        raise BadRequest(describe_validation(exc)) from None
    return Parsed(
        signals=[signal] if signal else [], event_id=event.event_id, event_type=event.event_type
    )


PROVIDER = Provider(
    name="typeform", parse=parse, verify=verify, auth="secret", check_options=check_options
)

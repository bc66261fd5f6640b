"""SurveyMonkey (API v3 webhooks): thin notifications that carry ids, never answers.

Signature: `Sm-Signature: <base64 HMAC-SHA1(api_key + "&" + api_secret, raw body)>`. The
source's `secret` is the app's API secret; the API key (client id) comes from option `api_key`,
else from the environment variable option `api_key_env` names, else from the `Sm-Apikey` header
(safe: the key part is public, the forgery-proof part is the secret). Nothing time-based is
signed, so dedupe on `external_id` is the only replay defence.

SurveyMonkey checks the subscription URL with a HEAD request that must answer 200: `handshake`
answers it (the route must send HEAD, not only GET, to it).

`response_completed` and `response_updated` become a stub `survey` signal: text that says the
answers were not fetched, `metadata["needs_fetch"] = True` and the ids, including the API path
that returns the answers. Other events (collector changes, deleted or disqualified responses)
store nothing. `external_id` is `<response id>:<event type>:<event id>` (a response can be
updated more than once); `thread_key` is the response id.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from cxbot.errors import BadRequest, Unauthorized
from cxbot.models import Signal
from cxbot.sources.base import Credentials, Delivery, HandshakeReply, Parsed, Provider
from cxbot.sources.fields import decode_json, describe_validation, require_object
from cxbot.sources.signing import (
    b64,
    hmac_digest,
    require_header,
    require_secret,
    signature_matches,
)

SIGNATURE_HEADER = "sm-signature"
API_KEY_HEADER = "sm-apikey"
STUB_EVENTS = {"response_completed": "completed", "response_updated": "updated"}
RESOURCE_IDS = ("survey_id", "collector_id", "respondent_id", "recipient_id", "user_id")
DETAILS_PATH = "/v3/surveys/{survey_id}/responses/{response_id}/details"

# Ids are non-empty text or JSON integers (kept exact as their decimal text).
Id = Annotated[StrictStr, Field(min_length=1)] | StrictInt


def _text_id(value: Any) -> str | None:
    """An id as exact text; anything that is not a string or an integer is no id."""
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return str(value)
    return None


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore")

    event_id: Id
    event_type: str = Field(min_length=1)
    object_type: str | None = None
    object_id: Id | None = None
    event_datetime: datetime | None = None
    resources: dict[str, Any] | None = None
    name: str | None = None
    filter_type: str | None = None
    filter_id: Id | None = None


# --- options ---------------------------------------------------------------------------------

OPTIONS = ("api_key", "api_key_env")


def check_options(options: Mapping[str, Any]) -> list[str]:
    """Problems with a source's options, one line each, for the config loader."""
    problems = [
        f"unknown option {k!r} (known: {', '.join(OPTIONS)})" for k in options if k not in OPTIONS
    ]
    problems += [
        f"{k} must be a string" for k in OPTIONS if not isinstance(options.get(k, ""), str)
    ]
    return problems


# --- verify / handshake ----------------------------------------------------------------------


def _api_key(delivery: Delivery, creds: Credentials) -> str:
    # `api_key_env` is resolved by the config loader into `api_key` (nothing here reads the env).
    key = creds.options.get("api_key")
    if not key:
        key = delivery.header(API_KEY_HEADER)
    if not isinstance(key, str) or not key.strip():
        raise Unauthorized("missing Sm-Apikey header and no api_key configured")
    return key.strip()


def verify(delivery: Delivery, creds: Credentials) -> None:
    secret = require_secret(creds)
    given = require_header(delivery, SIGNATURE_HEADER)
    key = f"{_api_key(delivery, creds)}&{secret}"
    expected = b64(hmac_digest(key, delivery.body, "sha1"))
    if not signature_matches(expected, given):
        raise Unauthorized("Sm-Signature does not match the body (key is api_key&api_secret)")


def handshake(delivery: Delivery, creds: Credentials) -> HandshakeReply:
    """SurveyMonkey sends HEAD to the subscription URL when the webhook is created: 200, empty."""
    return HandshakeReply(200, "")


# --- parse -----------------------------------------------------------------------------------


def _metadata(event: _Event, response_id: str) -> dict[str, Any]:
    resources = (
        {k: _text_id(event.resources.get(k)) for k in RESOURCE_IDS} if event.resources else {}
    )
    metadata: dict[str, Any] = {"needs_fetch": True, "response_id": response_id}
    metadata.update({k: v for k, v in resources.items() if v is not None})
    survey_id = resources.get("survey_id")
    if survey_id:
        metadata["fetch_path"] = DETAILS_PATH.format(
            survey_id=quote(survey_id, safe=""), response_id=quote(response_id, safe="")
        )
    extras = {
        "webhook_name": event.name,
        "filter_type": event.filter_type,
        "filter_id": _text_id(event.filter_id),
    }
    metadata.update({k: v for k, v in extras.items() if v is not None})
    return metadata


def _stub(event: _Event) -> Signal | None:
    verb = STUB_EVENTS.get(event.event_type)
    if verb is None or event.object_type not in (None, "response"):
        return None
    if event.object_id is None:
        raise BadRequest(f"object_id: a {event.event_type} event needs the response id")
    response_id = str(event.object_id)
    return Signal(
        external_id=f"{response_id}:{event.event_type}:{event.event_id}",
        kind="survey",
        # The model needs text, a rating or a score; the answers need an API call we do not make.
        text=f"SurveyMonkey response {response_id} {verb} (details not fetched)",
        created_at=event.event_datetime,
        thread_key=response_id,
        metadata=_metadata(event, response_id),
    )


def parse(delivery: Delivery, creds: Credentials) -> Parsed:
    data = require_object(decode_json(delivery.body))
    try:
        event = _Event.model_validate(data)
        signal = _stub(event)
    except ValidationError as exc:
        raise BadRequest(describe_validation(exc)) from None
    return Parsed(
        signals=[signal] if signal else [],
        event_id=str(event.event_id),
        event_type=event.event_type,
    )


PROVIDER = Provider(
    name="surveymonkey",
    parse=parse,
    verify=verify,
    handshake=handshake,
    auth="secret",
    check_options=check_options,
)

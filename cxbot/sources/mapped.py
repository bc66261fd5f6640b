"""Any JSON webhook (Zapier, Make, Gorgias, in-house tools) read through a field map in the config.

The map lives in the source's config table (`[sources.NAME.map]`) and reaches the adapter as
`creds.options["map"]`. Each key is a signal field, each value says where to find it:

    "ticket.id"          a dotted path into the item (`dig`: keys and list indexes, `a.0.b`)
    "$.account.name"     a path from the root of the body (useful with `items`)
    "=review"            a constant
    ["a.text", "b.text"] fallbacks: the first path holding a non-empty value

Keys: `id` and `kind` (required); `text`, `title`, `rating`, `score`, `score_type`, `url`,
`created_at`, `channel`, `thread_key`, `author.name`, `author.email`, `author.handle`;
`metadata.<name>` for anything else to keep; `items` (path to a list: one signal per element);
`event_id`, `event_type` (read from the body root, describe the delivery). For `kind` and
`score_type` a bare allowed value (`kind = "review"`) is read as the constant.

Values are coerced because no-code tools stringify everything: `"4"`/`"4.0"` → 4 for a rating,
`"8"` → 8.0 for a score, `""` → missing, `"True"`/`"false"` → booleans in metadata, unix seconds
or milliseconds (number or digits) or ISO-8601 for `created_at`. Float ids are refused: JSON
floats lose digits past 2**53, so an id must arrive as a string or an integer.

Authentication depends on the credential configured (the provider says `auth=None`):
`token_env` → shared token (`?token=` or `X-Cxbot-Token`); else `secret_env` →
`X-Cxbot-Signature: sha256=<hex HMAC-SHA256 of the raw body>`; neither → every delivery is
refused, unless the source says `verify = false`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from cxbot.errors import BadRequest, ConfigError, Unauthorized
from cxbot.models import KINDS, SCORE_RANGES, Signal
from cxbot.sources.base import Credentials, Delivery, Parsed, Provider
from cxbot.sources.fields import decode_json, dig, parse_items, require_object
from cxbot.sources.generic import verify as verify_cxbot_signature
from cxbot.sources.signing import check_shared_token

MAX_BATCH = 1000
SIGNAL_KEYS = (
    "id",
    "kind",
    "text",
    "title",
    "rating",
    "score",
    "score_type",
    "url",
    "created_at",
    "channel",
    "thread_key",
    "author.name",
    "author.email",
    "author.handle",
)
BODY_KEYS = ("items", "event_id", "event_type")  # read once per delivery, from the root
REQUIRED = ("id", "kind")
METADATA = "metadata."
# Keys whose value must point at data: a constant id would make every delivery a duplicate.
NO_CONSTANT = frozenset({"id", "items", "event_id"})
# Keys where a bare allowed value is the constant itself (`kind = "review"`).
LITERALS: dict[str, tuple[str, ...]] = {"kind": KINDS, "score_type": tuple(SCORE_RANGES)}
BOOLEANS = {"true": True, "false": False}
# Above this a unix time is in milliseconds (1e11 s is the year 5138).
MILLIS_FROM = 100_000_000_000

Spec = str | list[str]


# --- the mapping ------------------------------------------------------------------------------


def validate_mapping(mapping: Any) -> list[str]:
    """Everything wrong with a field map, as readable problems; empty when it is usable.

    Meant for config load, so a bad map fails at start-up rather than on the first delivery.
    """
    if mapping is None:
        return ["a mapped source needs a [sources.NAME.map] table"]
    if not isinstance(mapping, Mapping):
        return ['map must be a table of `field = "path"` entries, e.g. [sources.NAME.map]']
    flat = flatten(mapping)
    problems: list[str] = []
    for key, spec in flat.items():
        problems.extend(_key_problems(key, spec))
    problems.extend(f"map.{key} is required" for key in REQUIRED if key not in flat)
    if not any(key in flat for key in ("text", "rating", "score")):
        problems.append("map needs at least one of text, rating or score (a signal needs one)")
    if ("score" in flat) != ("score_type" in flat):
        problems.append("map.score and map.score_type go together")
    return problems


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables become dotted keys.

    TOML reads `author.email = "…"` (unquoted) as a table `author = {email = "…"}`; both that and
    the quoted `"author.email"` form mean the same field.
    """
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _key_problems(key: str, spec: Any) -> list[str]:
    where = f"map.{key}"
    if key not in SIGNAL_KEYS and key not in BODY_KEYS:
        if not key.startswith(METADATA) or key == METADATA:
            known = ", ".join((*SIGNAL_KEYS, *BODY_KEYS, "metadata.<name>"))
            return [f"{where}: unknown key (known: {known})"]
    choices = [spec] if isinstance(spec, str) else spec
    if not isinstance(choices, list) or not choices or not all(isinstance(c, str) for c in choices):
        return [f'{where}: expected a path string ("a.b"), a constant ("=x") or a list of paths']
    problems: list[str] = []
    for choice in choices:
        constant = _constant(key, choice)
        if constant is not None:
            problems.extend(_constant_problems(key, constant))
        elif not _path_ok(choice.removeprefix("$.")):
            problems.append(f"{where}: {choice!r} is not a dotted path like 'ticket.id'")
    return problems


def _constant_problems(key: str, value: str) -> list[str]:
    where = f"map.{key}"
    if key in NO_CONSTANT:
        return [f"{where} must be a path into the body, not a constant"]
    if key in LITERALS and value not in LITERALS[key]:
        return [f"{where}: {value!r} is not one of {', '.join(LITERALS[key])}"]
    if key in ("rating", "score"):
        try:
            COERCE[key](value, where)
        except BadRequest as exc:
            return [exc.message]
    return []


def _path_ok(path: str) -> bool:
    return bool(path) and all(part.strip() for part in path.split("."))


def _constant(key: str, choice: str) -> str | None:
    """The constant a choice stands for, or None when it is a path."""
    if choice.startswith("="):
        return choice[1:]
    if key in LITERALS and choice in LITERALS[key]:
        return choice
    return None


def check_options(options: Mapping[str, Any]) -> list[str]:
    """The source's extra config keys (`map` is the only one), checked at config load."""
    problems = validate_mapping(options.get("map"))
    unknown = sorted(set(options) - {"map"})
    if unknown:
        problems.append(f"unknown option(s) {', '.join(unknown)}; a mapped source takes `map`")
    return problems


def _load_mapping(creds: Credentials) -> dict[str, Any]:
    mapping = creds.options.get("map")
    problems = validate_mapping(mapping)
    if problems or not isinstance(mapping, Mapping):
        # The sender did nothing wrong: this is the config, which the loader should have caught.
        raise ConfigError("mapped source: " + "; ".join(problems))
    return flatten(mapping)


# --- reading values ---------------------------------------------------------------------------


def lookup(key: str, spec: Spec, item: Any, root: Any) -> Any:
    """The first non-empty value among the choices of `spec`; None when none has one."""
    for choice in [spec] if isinstance(spec, str) else spec:
        constant = _constant(key, choice)
        if constant is not None:
            return constant
        if choice.startswith("$."):
            value = dig(root, choice[2:])
        else:
            value = dig(item, choice)
        if value is not None and value != "":
            return value
    return None


def as_id(value: Any, field: str) -> str:
    if isinstance(value, bool):
        raise BadRequest(f"{field}: true/false is not an id")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Only floats that are exact integers below 2**53 can be trusted as ids.
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        raise BadRequest(
            f"{field}: {value!r} is a float and may have lost digits; send ids as text"
        )
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise BadRequest(f"{field}: expected a string or integer id, got {type(value).__name__}")


def as_text(value: Any, field: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise BadRequest(f"{field}: expected text, got {_json_type(value)}")


def as_number(value: Any, field: str) -> float:
    if isinstance(value, bool):
        raise BadRequest(f"{field}: expected a number, got true/false")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise BadRequest(f"{field}: {value!r} is not a number") from None
    else:
        raise BadRequest(f"{field}: expected a number, got {_json_type(value)}")
    if not math.isfinite(number):
        raise BadRequest(f"{field}: {value!r} is not a finite number")
    return number


def as_rating(value: Any, field: str) -> int:
    number = as_number(value, field)
    if not number.is_integer():
        raise BadRequest(f"{field}: {value!r} is not a whole number of stars")
    rating = int(number)
    if not 1 <= rating <= 5:
        raise BadRequest(f"{field}: {value!r} is not between 1 and 5")
    return rating


def as_choice(value: Any, field: str) -> str:
    """`kind` / `score_type`: case and spaces do not matter; the model checks the value."""
    return as_text(value, field).strip().lower()


def as_time(value: Any, field: str) -> datetime:
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        text = str(value).strip()
        try:
            if text.replace(".", "", 1).isdigit():
                seconds = float(text)
                seconds = seconds / 1000 if seconds >= MILLIS_FROM else seconds
                return datetime.fromtimestamp(seconds, UTC)
            stamp = datetime.fromisoformat(text)
        except (ValueError, OverflowError, OSError):
            pass  # year out of range, not a date: the 400 below says what was received
        else:
            return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
    raise BadRequest(f"{field}: {str(value)[:60]!r} is not an ISO-8601 time or unix timestamp")


def as_loose(value: Any, field: str) -> Any:
    """Metadata keeps JSON values as they are, but reads Zapier's "True"/"False" as booleans."""
    if isinstance(value, str) and value.strip().lower() in BOOLEANS:
        return BOOLEANS[value.strip().lower()]
    return value


COERCE: dict[str, Callable[[Any, str], Any]] = {
    "id": as_id,
    "thread_key": as_id,
    "kind": as_choice,
    "score_type": as_choice,
    "rating": as_rating,
    "score": as_number,
    "created_at": as_time,
    "text": as_text,
    "title": as_text,
    "url": as_text,
    "channel": as_text,
    "author.name": as_text,
    "author.email": as_text,
    "author.handle": as_text,
}


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", bool: "true/false", type(None): "null"}
    return names.get(type(value), type(value).__name__)


# --- parsing ----------------------------------------------------------------------------------


def parse(delivery: Delivery, creds: Credentials) -> Parsed:
    mapping = _load_mapping(creds)
    body = decode_json(delivery.body)
    items, batch = _items(body, mapping)
    parsed = parse_items(items, lambda item: signal_from_item(item, body, mapping))
    if not batch and parsed.errors:
        # One object that cannot be read is a malformed body, not a batch with a bad item.
        raise BadRequest(parsed.errors[0].message)
    parsed.event_id = _body_value(mapping, "event_id", body, as_id)
    parsed.event_type = _body_value(mapping, "event_type", body, as_text)
    return parsed


def _items(body: Any, mapping: dict[str, Any]) -> tuple[list[Any], bool]:
    """The items to read and whether the body was a batch."""
    if "items" in mapping:
        items = lookup("items", mapping["items"], body, body)
        if items is None:
            items = []  # an empty or absent list: nothing to store this time
        if not isinstance(items, list):
            raise BadRequest(f"map.items points at {_json_type(items)}, not an array")
    elif isinstance(body, list):
        items = body
    else:
        return [require_object(body)], False
    if len(items) > MAX_BATCH:
        raise BadRequest(f"at most {MAX_BATCH} items per request, got {len(items)}")
    return items, True


def signal_from_item(item: Any, root: Any, mapping: dict[str, Any]) -> Signal:
    fields: dict[str, Any] = {"author": {}, "metadata": {}}
    for key, spec in mapping.items():
        if key in BODY_KEYS:
            continue
        value = lookup(key, spec, item, root)
        if value is None:
            if key in REQUIRED:
                raise BadRequest(f"{key}: nothing at {_describe(spec)}")
            continue
        if key.startswith(METADATA):
            fields["metadata"][key.removeprefix(METADATA)] = as_loose(value, key)
        elif key.startswith("author."):
            fields["author"][key.removeprefix("author.")] = as_text(value, key)
        else:
            fields["external_id" if key == "id" else key] = COERCE[key](value, key)
    return Signal.model_validate(fields)


def _body_value(
    mapping: dict[str, Any], key: str, body: Any, coerce: Callable[[Any, str], Any]
) -> str | None:
    if key not in mapping:
        return None
    value = lookup(key, mapping[key], body, body)
    return None if value is None else str(coerce(value, key))


def _describe(spec: Spec) -> str:
    return " or ".join(repr(choice) for choice in ([spec] if isinstance(spec, str) else spec))


# --- verification -----------------------------------------------------------------------------


def verify(delivery: Delivery, creds: Credentials) -> None:
    """Check whichever credential the source has; with none, refuse unless explicitly allowed."""
    if creds.token:
        check_shared_token(delivery, creds)
    elif creds.secret:
        verify_cxbot_signature(delivery, creds)
    else:
        # Never open by accident: accepting anything takes an explicit `verify = false`, in which
        # case the server does not call this at all.
        raise Unauthorized(
            "this mapped source has no token or secret configured: set token_env or secret_env"
        )


PROVIDER = Provider(
    name="mapped", parse=parse, verify=verify, auth=None, check_options=check_options
)

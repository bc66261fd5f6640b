"""Reading provider JSON: decoding with a clear 400, paths into nested objects, ids, times, per-item errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cxbot.errors import BadRequest
from cxbot.models import Signal
from cxbot.sources.base import ItemError, Parsed


def decode_json(body: bytes) -> Any:
    """Parse a JSON body with a 400 that says what is wrong."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"body is not valid UTF-8 (byte {exc.start})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return json.loads(text)
    except RecursionError:
        raise BadRequest("JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise BadRequest(f"malformed JSON: {exc}") from None


def require_object(data: Any, what: str = "body") -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadRequest(f"{what} must be a JSON object, got {type(data).__name__}")
    return data


def dig(data: Any, path: str) -> Any:
    """`dig(d, "a.b.0.c")`: follow keys and list indexes; None where the path does not exist."""
    cur = data
    for part in path.split("."):
        if isinstance(cur, dict):
            cur = cur.get(part)
        elif isinstance(cur, list) and part.lstrip("-").isdigit():
            i = int(part)
            cur = cur[i] if -len(cur) <= i < len(cur) else None
        else:
            return None
        if cur is None:
            return None
    return cur


def describe_validation(exc: Exception) -> str:
    """A pydantic ValidationError as one readable line: `rating: Input should be ≤ 5; …`."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return str(exc)
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


def parse_items(items: list[Any], build: Callable[[Any], Signal | None]) -> Parsed:
    """Build a signal from each item of a batch; bad items become `ItemError`s, good ones stay.

    `build` returns None for items that carry nothing to store (a status change, say).
    """
    parsed = Parsed()
    for index, item in enumerate(items):
        try:
            signal = build(item)
        except (ValueError, TypeError, KeyError, BadRequest) as exc:
            msg = exc.message if isinstance(exc, BadRequest) else describe_validation(exc)
            parsed.errors.append(ItemError(index, msg))
            continue
        if signal is not None:
            parsed.signals.append(signal)
    return parsed


def text_at(data: Any, path: str) -> str | None:
    """The string at `path`, stripped; None when absent, blank or not a string."""
    value = dig(data, path)
    if isinstance(value, str):
        return value.strip() or None
    return None


def id_at(data: Any, path: str) -> str | None:
    """An id at `path` as text. JSON ints arrive as exact Python ints, so ids beyond 2**53 stay
    exact; bools and floats are never ids."""
    value = dig(data, path)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


def parse_time(value: Any, what: str = "time") -> datetime | None:
    """ISO-8601 text (`Z` or offset, any number of fraction digits) or unix seconds (number or
    digit string) as an aware UTC datetime; None for null or blank. Anything else is a 400."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            text = value.strip()
            if text.replace(".", "", 1).isdigit():
                return datetime.fromtimestamp(float(text), UTC)
            parsed = datetime.fromisoformat(text)
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise BadRequest(f"{what}: not a readable time: {str(value)[:60]!r}")


def clip(text: str | None, limit: int) -> str | None:
    """Long provider text is cut rather than rejected: a 400 would only make the provider retry."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"

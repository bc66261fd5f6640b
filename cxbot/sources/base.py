"""What every provider adapter shares: the delivery it reads, what parsing returns, signature helpers.

A provider is one module under `cxbot/sources/` exposing a `PROVIDER = Provider(...)`; the
registry in `cxbot/sources/__init__.py` maps `type` names from the config to them.
"""

from __future__ import annotations

import base64
import hmac
import html
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from ..errors import BadRequest, Unauthorized
from ..models import Signal


@dataclass(frozen=True)
class Delivery:
    """One HTTP request as received. `headers` keys are lower-case; `body` is the raw bytes."""

    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    method: str = "POST"
    now: float = 0.0  # unix seconds at receipt; adapters with a replay window compare against it

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Credentials:
    """Secrets for one source, read from the environment variables the config names."""

    # repr=False: secrets must never reach a log line or a traceback.
    secret: str | None = field(default=None, repr=False)  # signing secret (HMAC key)
    token: str | None = field(
        default=None, repr=False
    )  # shared token for providers that do not sign
    verify_token: str | None = field(default=None, repr=False)  # Meta's hub.verify_token
    # The source's extra config keys; `x_env` keys are resolved into `x` by the config loader.
    options: Mapping[str, Any] = field(default_factory=dict, repr=False)
    replay_window: float = 300.0  # seconds a signed timestamp may be old (or ahead)


@dataclass(frozen=True)
class ItemError:
    """One bad item in a batch: reported back, the good items are still kept."""

    index: int
    message: str


@dataclass(frozen=True)
class HandshakeReply:
    status: int
    body: str
    content_type: str = "text/plain"


@dataclass
class Parsed:
    signals: list[Signal] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)
    event_id: str | None = None  # the provider's delivery id, kept in `events`
    event_type: str | None = None
    ping: bool = False  # a provider's test delivery: answer 200, store no signal
    reply: HandshakeReply | None = (
        None  # a provider that wants a special answer (Front's challenge)
    )


Verify = Callable[[Delivery, Credentials], None]
Parse = Callable[[Delivery, Credentials], Parsed]
Handshake = Callable[[Delivery, Credentials], HandshakeReply]


@dataclass(frozen=True)
class Provider:
    name: str
    parse: Parse
    verify: Verify | None = None  # None: the provider does not sign (shared token instead)
    handshake: Handshake | None = None  # answers GET /webhooks/{source}
    # Which credential the provider needs: "secret" (HMAC), "token" (shared token) or None.
    auth: str | None = "secret"
    content_types: tuple[str, ...] = ("application/json",)


# --- helpers shared by adapters -------------------------------------------------------------


def hmac_digest(key: bytes | str, message: bytes, algo: str = "sha256") -> bytes:
    if isinstance(key, str):
        key = key.encode()
    return hmac.digest(key, message, algo)  # one-shot C path, ~30% cheaper than hmac.new


def signature_matches(expected: bytes | str, given: str | None) -> bool:
    """Constant-time comparison of an expected signature with the one received."""
    if not given:
        return False
    if isinstance(expected, bytes):
        expected = expected.decode("ascii")
    return hmac.compare_digest(expected.encode(), given.strip().encode())


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def require_header(delivery: Delivery, name: str) -> str:
    value = delivery.header(name)
    if not value:
        raise Unauthorized(f"missing {name} header")
    return value


def require_secret(creds: Credentials) -> str:
    if not creds.secret:
        raise Unauthorized("this source has no signing secret configured")
    return creds.secret


def check_shared_token(delivery: Delivery, creds: Credentials) -> None:
    """For providers that cannot sign: `?token=…` in the URL or an `X-Cxbot-Token` header."""
    if not creds.token:
        raise Unauthorized("this source has no shared token configured")
    given = delivery.header("x-cxbot-token") or delivery.query.get("token")
    if not given:
        raise Unauthorized("missing token: add ?token=… to the URL or an X-Cxbot-Token header")
    if not signature_matches(creds.token, given):
        raise Unauthorized("wrong token")


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


# --- text and time helpers for the helpdesk adapters (zendesk, intercom, helpscout, front, ---
# --- freshdesk). Additive: nothing above depends on them. --------------------------------


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


class _TextExtractor(HTMLParser):
    # Tags that end a line when rendered; everything else is inline.
    BLOCKS = frozenset(
        "p div br li tr h1 h2 h3 h4 h5 h6 blockquote pre ul ol table hr section article".split()
    )
    HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n- " if tag == "li" else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Readable plain text from an HTML body: block tags become line breaks, entities are
    decoded, runs of spaces collapse. Non-breaking and zero-width characters inside words
    (Persian ZWNJ) are kept."""
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
        raw = "".join(parser.parts)
    except Exception:  # html.parser is lenient, but a body must never turn into a 500
        raw = html.unescape(re.sub(r"<[^>]*>", " ", markup))
    lines = (" ".join(line.split()) for line in raw.splitlines())
    return "\n".join(line for line in lines if line)

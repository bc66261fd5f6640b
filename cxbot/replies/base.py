"""What every provider reply client shares: the request it builds, the answer it reads.

A provider's client is one pure module under `cxbot/replies/` ending in `CLIENT = Client(...)`
(listed in `cxbot/replies/clients.py`): which signal it can answer and where (`target`), how
it authenticates (`auth`), the request for a reply (`build`) and the reply id in a success
answer (`read`). `cxbot/replies/http.py` sends it; nothing here does I/O.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cxbot.sources.polling import TokenRequest

DEFAULT_MAX_CHARS = 5000


@dataclass(frozen=True)
class ReplyRequest:
    method: str
    url: str
    headers: Mapping[str, str]
    body: Mapping[str, Any]


@dataclass(frozen=True)
class Minted:
    """A bearer token made here (App Store Connect's JWT) and when it stops being usable."""

    token: str
    expires: float


# How a request is authenticated: headers of its own (None: `build` adds them), a token made
# here, or a token exchanged at an OAuth endpoint. The HTTP layer caches the last two.
Auth = Minted | TokenRequest | None


@dataclass(frozen=True)
class Client:
    name: str  # the source type it serves
    # (options) -> True when the source has what replying needs
    configured: Callable[[Any], bool]
    # (signal row) -> the provider's id of what is answered, or None: this one cannot be
    target: Callable[[Mapping[str, Any]], str | None]
    # (options, now) -> how to authenticate
    auth: Callable[[Any, float], Auth]
    # (options, signal row, target, text, bearer token or None) -> the request
    build: Callable[[Any, Mapping[str, Any], str, str, str | None], ReplyRequest]
    # (headers, body) of a 2xx answer -> the provider's reply id, if it gives one
    read: Callable[[Mapping[str, str], bytes], str | None]
    max_chars: int = DEFAULT_MAX_CHARS
    # What the customer sees, for the modal's hint.
    shown_as: str = "a public reply"
    # The provider's reply has no id of its own (one reply per review): the review's is kept.
    keeps_target: bool = False


def option(options: Any, key: str) -> Any:
    """A key of a webhook source's options (a dict) or a poll source's (a model)."""
    if isinstance(options, Mapping):
        return options.get(key)
    return getattr(options, key, None)


def text_option(options: Any, key: str) -> str | None:
    value = option(options, key)
    if value is None or value == "":
        return None
    reveal = getattr(value, "get_secret_value", None)
    return str(reveal() if reveal else value)


def base_url(options: Any, default: str) -> str:
    return (text_option(options, "api_url") or default).rstrip("/")


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def metadata(signal: Mapping[str, Any]) -> dict[str, Any]:
    raw = signal.get("metadata")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return dict(raw) if isinstance(raw, Mapping) else {}


def thread_target(signal: Mapping[str, Any]) -> str | None:
    key = signal.get("thread_key")
    return str(key) if key else None


def external_target(signal: Mapping[str, Any]) -> str | None:
    key = signal.get("external_id")
    return str(key) if key else None


def json_body(body: bytes) -> Any:
    try:
        return json.loads(body[:2_000_000]) if body else None
    except ValueError:
        return None


def short_reason(status: int, body: bytes) -> str:
    """The provider's one-line reason for an error answer (never the whole body): App Store
    Connect's and Intercom's `errors[0]`, Google's `error.message`, Zendesk's `error` and
    `description`, OAuth's `error_description`, else the status alone."""
    data = json_body(body)
    head = f"HTTP {status}"
    if not isinstance(data, dict):
        return head
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        words = first.get("detail") or first.get("title") or first.get("message") or ""
        return f"{head} {first.get('code', '')}: {words}".strip()[:300]
    error = data.get("error")
    if isinstance(error, dict):
        return f"{head}: {error.get('message') or error.get('title') or ''}"[:300]
    detail = data.get("description") or data.get("error_description") or data.get("message")
    if isinstance(error, str):
        return (f"{head}: {error}" + (f": {detail}" if isinstance(detail, str) else ""))[:300]
    if isinstance(detail, str):
        return f"{head}: {detail}"[:300]
    return head

"""What every poll source shares: a page asked for since a cursor, the page read back.

A provider without webhooks is one module under `cxbot/sources/` ending in
`POLLER = Poller(...)`, listed in `POLLERS` (`cxbot/sources/__init__.py`). It stays pure: it
says which URL to fetch for a cursor and reads the bytes that came back into `Signal`s and the
next cursor; `cxbot/poll/` does the HTTP, the tokens, the retries and the storage.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cxbot.errors import BadRequest
from cxbot.models import Signal
from cxbot.sources.fields import describe_validation

DEFAULT_INTERVAL = "15m"


class PollOptions(BaseModel):
    """The keys every poll source takes; each provider's model adds its own."""

    model_config = ConfigDict(extra="forbid")

    type: str
    interval: str | int | float = Field(
        DEFAULT_INTERVAL, description='"15m", "1h", "30s" or seconds'
    )
    api_url: str = ""  # the provider's default when empty
    alert_after_failures: int = Field(
        5, ge=1, description="failed runs in a row before the admins hear"
    )

    @field_validator("api_url", "token_url", check_fields=False)
    @classmethod
    def _http(cls, v: str) -> str:
        if v and not v.startswith(("https://", "http://")):
            raise ValueError("must be an http:// or https:// URL")
        return v


class PollError(Exception):
    """A page the provider answered that cannot be read (the run stops; the cursor stays)."""


@dataclass(frozen=True)
class PageRequest:
    url: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TokenRequest:
    """An OAuth token asked for by a form POST; the answer is `{access_token, expires_in}`."""

    url: str
    form: Mapping[str, str]
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    signals: list[Signal]
    next: str | None  # the cursor of the next page of this run; None: the run is complete
    skipped: list[str] = field(default_factory=list)  # items that could not be read, and why


@dataclass(frozen=True)
class Query:
    """What a poll asks: the source's options, and the time of the newest review already read
    (None on a backfill): a page that reaches it ends the walk, older ones are known."""

    options: Any  # the provider's own options model
    since: datetime | None = None


# (cursor or None for the first page, query) -> the request to send
Request = Callable[[str | None, Query], PageRequest]
# (raw body, the cursor it was asked with, query) -> signals + next cursor
Read = Callable[[bytes, str | None, Query], Page]


@dataclass(frozen=True)
class Poller:
    name: str
    options: type[PollOptions]
    request: Request
    read: Read
    # A bearer token minted here, (options, now) -> (token, expiry) (App Store Connect) ...
    mint: Callable[[Any, float], tuple[str, float]] | None = None
    # ... or exchanged at an OAuth token endpoint, (options, now) -> the request (Google, Reddit).
    token_request: Callable[[Any, float], TokenRequest] | None = None


def reached(signals: list[Signal], since: datetime | None) -> bool:
    """True when a newest-first page holds a signal older than `since`: what follows is known."""
    return since is not None and any(
        s.created_at is not None and s.created_at < since for s in signals
    )


def not_older(signals: list[Signal], since: datetime | None) -> list[Signal]:
    """The signals at or after `since` (an undated one is kept: its id decides; one at the very
    instant may be a second review of that second, and dedup drops the one already stored)."""
    if since is None:
        return signals
    return [s for s in signals if s.created_at is None or s.created_at >= since]


def build(items: list[Any], make: Callable[[Any], Signal | None]) -> tuple[list[Signal], list[str]]:
    """Each item through `make`; one that fails validation is skipped with the reason."""
    signals: list[Signal] = []
    skipped: list[str] = []
    for index, item in enumerate(items):
        try:
            signal = make(item)
        except (ValueError, TypeError, KeyError, BadRequest) as exc:
            skipped.append(f"item {index}: {describe_validation(exc)}")
            continue
        if signal is not None:
            signals.append(signal)
    return signals, skipped


def label(value: Any) -> str | None:
    """The Atom-in-JSON wrapper `{"label": "..."}` unwrapped (None for anything else)."""
    if isinstance(value, Mapping):
        text = value.get("label")
        return text if isinstance(text, str) and text else None
    return None

"""Plain data shared by every stage: the normalised `Signal` and the pieces around it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

Kind = Literal["review", "ticket", "message", "mention", "survey"]
ScoreType = Literal["nps", "csat", "ces"]
KINDS: tuple[str, ...] = ("review", "ticket", "message", "mention", "survey")

# Inclusive bounds of each survey scale (standard definitions, see docs/commands.md).
SCORE_RANGES: dict[str, tuple[float, float]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


def to_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; aware ones are converted."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso_utc(value: datetime) -> str:
    """The storage form of a time: ISO-8601 UTC with a `Z`, sortable as text. One fixed width
    (`strftime("%Y")` writes year 5 as "5", which sorts after "2026")."""
    v = to_utc(value)
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v:%H:%M:%S.%f}Z"


# The window a signal's own time must fall in (docs/configuration.md, "What is stored"): nothing
# a customer wrote predates it, and a clock a little ahead is forgiven, a year ahead is not.
EARLIEST_CREATED = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_AHEAD = timedelta(days=2)

_SURROGATE = re.compile("[\ud800-\udfff]")

# Slack channel names are lowercase letters, digits, '-' and '_' (any script), at most 80; ids are
# upper-case (C…, G… private, D… direct). Anything else Slack refuses only at send time.
_CHANNEL_NAME = re.compile(r"#?[\w-]{1,80}")
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")


def check_channel(value: str) -> str:
    """A Slack channel as the config writes it ('#name', 'name' or an id), else ValueError."""
    if _CHANNEL_ID.fullmatch(value):
        return value
    if _CHANNEL_NAME.fullmatch(value) and value == value.lower():
        return value
    raise ValueError(
        f"{value!r} is not a Slack channel: write '#name' (lowercase letters, digits, '-' and '_',"
        " no spaces, at most 80) or a channel id like C0123ABCD"
    )


SlackChannel = Annotated[str, AfterValidator(check_channel)]


def storable_text(value: str) -> str:
    """Lone surrogates (a JSON `"\\udc00"`, an undecodable header byte) replaced by U+FFFD:
    they cannot be encoded as UTF-8, so SQLite and the log would refuse the whole row."""
    return value if value.isascii() else _SURROGATE.sub("\ufffd", value)


def storable_json(value: Any) -> Any:
    """`storable_text` over every key and string of a decoded JSON value."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_json(k): storable_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable_json(v) for v in value]
    return value


def _drop_nul(v: Any) -> Any:
    # NUL never means anything in a customer's words, and SQLite's text functions (FTS5, JSON,
    # LIKE) stop at it: dropped at the door so every stage sees the same text. The raw body
    # in `events` keeps it.
    return v.replace("\x00", "") if isinstance(v, str) else v


class Author(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, max_length=500)
    email: str | None = Field(default=None, max_length=320)
    handle: str | None = Field(default=None, max_length=320)

    _no_nul = field_validator("name", "email", "handle", mode="before")(_drop_nul)

    @field_validator("name", "email", "handle")
    @classmethod
    def _blank_is_none(cls, v: str | None) -> str | None:
        return v or None


class Signal(BaseModel):
    """One experience signal, whatever channel it came from.

    `external_id` is the provider's id and, per source, the idempotency key.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: str = Field(min_length=1, max_length=300)
    kind: Kind
    text: str | None = Field(default=None, max_length=100_000)
    title: str | None = Field(default=None, max_length=2_000)
    rating: int | None = Field(default=None, ge=1, le=5)
    score: float | None = None
    score_type: ScoreType | None = None
    author: Author = Field(default_factory=Author)
    url: str | None = Field(default=None, max_length=4_000)
    created_at: datetime | None = None
    channel: str | None = Field(default=None, max_length=200)
    # Groups signals about one conversation (a ticket id): later ones go in the first alert's thread.
    thread_key: str | None = Field(default=None, max_length=300)
    metadata: dict[str, Any] = Field(default_factory=dict)

    _no_nul = field_validator(
        "external_id", "text", "title", "url", "channel", "thread_key", mode="before"
    )(_drop_nul)

    @field_validator("external_id", "thread_key", mode="before")
    @classmethod
    def _ids_are_text(cls, v: Any) -> Any:
        # Provider ids beyond 2**53 must stay exact, so ints become their decimal text.
        if isinstance(v, bool):
            raise ValueError("must be a string or integer id")
        if isinstance(v, int):
            return str(v)
        return v

    @field_validator("text", "title", "url", "channel")
    @classmethod
    def _blank_is_none(cls, v: str | None) -> str | None:
        return v or None

    @field_validator("metadata", mode="before")
    @classmethod
    def _storable_metadata(cls, v: Any) -> Any:
        return storable_json(v) if isinstance(v, dict) else v

    @field_validator("created_at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        if v is None:
            return None
        v = to_utc(v)
        latest = datetime.now(UTC) + LATEST_AHEAD
        if not EARLIEST_CREATED <= v <= latest:
            raise ValueError(
                f"must be between {EARLIEST_CREATED:%Y-%m-%d} and two days from now, got {iso_utc(v)}"
            )
        return v

    @model_validator(mode="after")
    def _needs_text_or_score(self) -> Signal:
        if (self.score is None) != (self.score_type is None):
            raise ValueError("score and score_type go together")
        if self.score is not None and self.score_type is not None:
            low, high = SCORE_RANGES[self.score_type]
            if not low <= self.score <= high:
                raise ValueError(f"{self.score_type} score must be between {low:g} and {high:g}")
        if not self.text and self.score is None and self.rating is None:
            raise ValueError("a signal needs text, a rating or a score")
        return self


# --- rows the stages hand on ------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The `/cx` filters (`source:`, `kind:`, `topic:`, `lang:`, `intent:`), shared by cx,
    digest, store. Each is a column of `signals` (topic: one of its `topics`)."""

    source: str | None = None
    kind: str | None = None
    topic: str | None = None
    lang: str | None = None
    intent: str | None = None  # not a rollup key: counts with it are read from signals

    def items(self) -> list[tuple[str, str]]:
        keys = ("source", "kind", "topic", "lang", "intent")
        return [(k, v) for k in keys if (v := getattr(self, k))]


@dataclass(frozen=True)
class SignalRow:
    """One signal as the query side lists it (alerts, `/cx top`, search, the digest)."""

    id: int
    created_at: str
    source: str
    kind: str
    title: str | None
    text: str | None  # the snippet for search results
    url: str | None
    rating: int | None
    score: float | None
    score_type: str | None
    sentiment: float | None
    sentiment_label: str | None
    author: str | None
    status: str

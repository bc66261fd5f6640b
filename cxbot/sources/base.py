"""What every provider adapter shares: the delivery it reads, what parsing returns, signature helpers.

A provider is one module under `cxbot/sources/` exposing a `PROVIDER = Provider(...)`; the
registry in `cxbot/sources/__init__.py` maps `type` names from the config to them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cxbot.models import Signal


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
# Problems with a source's extra config keys (beyond type/secret_env/...), one message each.
CheckOptions = Callable[[dict[str, object]], list[str]]


@dataclass(frozen=True)
class Provider:
    name: str
    parse: Parse
    verify: Verify | None = None  # None: the provider does not sign (shared token instead)
    handshake: Handshake | None = None  # answers GET /webhooks/{source}
    # Which credential the provider needs: "secret" (HMAC), "token" (shared token) or None.
    auth: str | None = "secret"
    content_types: tuple[str, ...] = ("application/json",)
    # None: the type takes no extra keys.
    check_options: CheckOptions | None = None

"""What the provider tests share: the recorded payloads, HMAC signatures, deliveries, credentials.

from tests.kit import providers as kit

raw = partial(kit.raw, "delighted")              # raw("survey_response_created.json")
sign = kit.Hmac(API_KEY, prefix="sha256=")       # sign(body), sign(body, "another-key")
delivery = partial(kit.delivery, now=NOW)        # delivery(body, headers, method=..., now=...)
creds = kit.creds_for(API_KEY)                   # creds(**options), creds(None)
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cxbot.sources.base import Credentials, Delivery

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads"  # tests/payloads/<provider>/<name>


def raw(provider: str, name: str) -> bytes:
    """A recorded payload's bytes, exactly as the provider sent them."""
    return (PAYLOADS / provider / name).read_bytes()


@dataclass(frozen=True)
class Hmac:
    """One provider's signature scheme: HMAC with `algo` over the message, the digest written as
    hex or base64 after `prefix`. `sign(message)` uses the test key, `sign(message, key)` another;
    `header` names the header the provider sends it in (for `headers`)."""

    key: str | bytes
    algo: str = "sha256"
    encoding: Literal["hex", "base64"] = "hex"
    prefix: str = ""
    header: str | None = None

    def digest(self, message: bytes, key: str | bytes | None = None) -> bytes:
        secret = self.key if key is None else key
        secret = secret.encode() if isinstance(secret, str) else secret
        return hmac.new(secret, message, self.algo).digest()

    def __call__(self, message: bytes, key: str | bytes | None = None) -> str:
        digest = self.digest(message, key)
        text = digest.hex() if self.encoding == "hex" else base64.b64encode(digest).decode()
        return self.prefix + text

    def headers(self, message: bytes, key: str | bytes | None = None) -> dict[str, str]:
        if self.header is None:
            raise TypeError("this Hmac has no header name")
        return {self.header: self(message, key)}


def delivery(
    body: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    query: Mapping[str, str] | None = None,
    method: str = "POST",
    now: float = 0.0,
) -> Delivery:
    """A request as the listener hands it to an adapter (header names lower-case)."""
    return Delivery(body=body, headers=headers or {}, query=query or {}, method=method, now=now)


def creds_for(default_secret: str | None) -> Callable[..., Credentials]:
    """A `creds` helper: `creds(**options)` with the test secret, `creds(other, **options)` or
    `creds(None)` with another or none; the options are the source's extra config keys."""

    def creds(secret: str | None = default_secret, /, **options: Any) -> Credentials:
        return Credentials(secret=secret, options=options)

    return creds

"""Signature and token checks shared by adapters: constant-time, with a 401 that says what is wrong."""

from __future__ import annotations

import base64
import hmac

from cxbot.errors import Unauthorized
from cxbot.sources.base import Credentials, Delivery


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
    # surrogatepass: a header with undecodable bytes is a mismatch, never an encoding error.
    return hmac.compare_digest(
        expected.encode("utf-8", "surrogatepass"), given.strip().encode("utf-8", "surrogatepass")
    )


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

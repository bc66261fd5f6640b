"""App Store Connect customer reviews: `GET /v1/apps/{app_id}/customerReviews`, your own apps.

Newest first (`sort=-createdDate`, 200 a page); the next page is the answer's top-level
`links.next`, followed verbatim (an opaque `cursor=`), and that URL is the stored cursor. A
`links.next` that leaves `api_url`'s host is refused: the request carries the bearer token.

Auth is a JWT signed ES256 with the team's `.p8` key (PyJWT + cryptography): header `kid` =
key id, claims `iss` = issuer id, `aud` = `appstoreconnect-v1`, `iat`, `exp`. Apple refuses a
lifetime over 20 minutes, and a skewed clock makes 20 risky, so tokens live 15 and are reused
until a minute before they expire.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import Field, SecretStr, field_validator

from cxbot.models import Author, Signal
from cxbot.sources.fields import decode_json, parse_time
from cxbot.sources.polling import (
    Page,
    PageRequest,
    Poller,
    PollError,
    PollOptions,
    Query,
    build,
    not_older,
    reached,
)

API_URL = "https://api.appstoreconnect.apple.com"
AUDIENCE = "appstoreconnect-v1"
TOKEN_SECONDS = 15 * 60  # Apple's limit is 20 minutes
PAGE_SIZE = "200"  # the API's largest page


class Options(PollOptions):
    app_id: str = Field(min_length=1, pattern=r"^\d+$")
    key_id: str = Field(min_length=1)
    issuer_id: str = Field(min_length=1)
    private_key_env: str = Field(min_length=1)
    private_key: SecretStr | None = None  # the variable's value, filled in by the config loader

    @field_validator("private_key")
    @classmethod
    def _p256(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None:
            signing_key(v)
        return v


def signing_key(pem: SecretStr) -> ec.EllipticCurvePrivateKey:
    """The `.p8` file's text as a P-256 key; a clear error for anything else (never the key)."""
    try:
        key = load_pem_private_key(pem.get_secret_value().encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError("is not a PEM private key (paste the whole .p8 file)") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("is not an App Store Connect key (ES256, P-256)")
    return key


def mint(options: Any, now: float) -> tuple[str, float]:
    """A fresh bearer token and the time it stops being usable."""
    opts: Options = options
    if opts.private_key is None:
        raise PollError(f"environment variable {opts.private_key_env} is not set")
    issued = int(now)
    token = jwt.encode(
        {"iss": opts.issuer_id, "iat": issued, "exp": issued + TOKEN_SECONDS, "aud": AUDIENCE},
        signing_key(opts.private_key),
        algorithm="ES256",
        headers={"kid": opts.key_id, "typ": "JWT"},
    )
    return token, issued + TOKEN_SECONDS


def _base(options: Options) -> str:
    return (options.api_url or API_URL).rstrip("/")


def request(cursor: str | None, query: Query) -> PageRequest:
    options: Options = query.options
    if cursor is not None:
        return PageRequest(cursor)
    return PageRequest(
        f"{_base(options)}/v1/apps/{options.app_id}/customerReviews",
        {"sort": "-createdDate", "limit": PAGE_SIZE},
    )


def _signal(item: Any, app_id: str) -> Signal | None:
    if not isinstance(item, dict) or item.get("type") != "customerReviews":
        return None
    attrs = item.get("attributes")
    attrs = attrs if isinstance(attrs, dict) else {}
    metadata: dict[str, Any] = {}
    if attrs.get("territory"):
        metadata["territory"] = attrs["territory"]  # ISO 3166 alpha-3
    return Signal.model_validate(
        {
            "external_id": item.get("id"),
            "kind": "review",
            "rating": attrs.get("rating"),
            "title": attrs.get("title"),
            "text": attrs.get("body"),
            "author": Author(name=attrs.get("reviewerNickname")),
            # Where the team answers it: the app's Ratings and Reviews page in App Store Connect.
            "url": f"https://appstoreconnect.apple.com/apps/{app_id}/distribution/activity/ios/ratingsResponses",
            "created_at": parse_time(attrs.get("createdDate"), "createdDate"),
            "channel": "app-store",
            "metadata": metadata,
        }
    )


def _next(data: dict[str, Any], options: Options) -> str | None:
    links = data.get("links")
    following = links.get("next") if isinstance(links, dict) else None
    if not isinstance(following, str) or not following:
        return None
    if urlsplit(following)[:2] != urlsplit(_base(options))[:2]:
        raise PollError("links.next points away from api_url; refusing to send the token there")
    return following


def read(body: bytes, cursor: str | None, query: Query) -> Page:
    options: Options = query.options
    data = decode_json(body)
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise PollError("the answer has no `data` list")
    signals, skipped = build(data["data"], lambda item: _signal(item, options.app_id))
    following = None if reached(signals, query.since) else _next(data, options)
    return Page(not_older(signals, query.since), following, skipped)


POLLER = Poller(name="app_store", options=Options, request=request, read=read, mint=mint)

"""Google service-account auth for the Google pollers: the key file's JSON, checked, and the
OAuth token request signed with it (google-auth's RS256 signer; no crypto of our own).

Server-to-server OAuth: a JWT (`iss` = the service account's email, `scope`, `aud` = the token
endpoint, `iat`, `exp` at most an hour later) is posted as `grant_type=urn:ietf:params:oauth:
grant-type:jwt-bearer&assertion=…` to `token_url`, which answers `{access_token, expires_in}`.
"""

from __future__ import annotations

import json
from typing import Any

from google.auth import crypt
from google.auth import jwt as google_jwt
from pydantic import SecretStr

from cxbot.sources.polling import PollError, PollOptions, TokenRequest

TOKEN_URL = "https://oauth2.googleapis.com/token"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_SECONDS = 3600  # Google's limit


class GoogleOptions(PollOptions):
    credentials_env: str
    credentials: SecretStr | None = None  # the variable's value, filled in by the config loader
    token_url: str = TOKEN_URL


def service_account(text: SecretStr) -> dict[str, Any]:
    """The key file's JSON, or a ValueError that says what is wrong (never the key)."""
    try:
        info = json.loads(text.get_secret_value())
    except ValueError:
        raise ValueError("is not JSON (paste the whole service-account key file)") from None
    if not isinstance(info, dict) or info.get("type", "service_account") != "service_account":
        raise ValueError("is not a service-account key file (type service_account)")
    if not isinstance(info.get("client_email"), str) or not info.get("private_key"):
        raise ValueError("has no client_email or private_key")
    try:
        _signer(info)
    except (ValueError, TypeError, IndexError):
        raise ValueError("holds a private_key that is not an RSA key") from None
    return info


def _signer(info: dict[str, Any]) -> crypt.Signer:
    signer: crypt.Signer = crypt.RSASigner.from_service_account_info(info)  # type: ignore[no-untyped-call]
    return signer


def token_request(options: GoogleOptions, scope: str, now: float) -> TokenRequest:
    if options.credentials is None:
        raise PollError(f"environment variable {options.credentials_env} is not set")
    info = service_account(options.credentials)
    issued = int(now)
    assertion: bytes = google_jwt.encode(  # type: ignore[no-untyped-call]
        _signer(info),
        {
            "iss": info["client_email"],
            "scope": scope,
            "aud": options.token_url,
            "iat": issued,
            "exp": issued + ASSERTION_SECONDS,
        },  # fmt: skip
    )
    return TokenRequest(options.token_url, {"grant_type": GRANT, "assertion": assertion.decode()})

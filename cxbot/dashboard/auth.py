"""Sign-in links and session cookies for the dashboard: pure functions over a key and a clock.

A token is `base64url(json claims) . base64url(HMAC-SHA256(key, purpose . claims))`. The
purpose ("link" or "session") is inside the signed message, so a sign-in link can never be
replayed as a cookie or the other way round. Claims: `u` the Slack user id (None: the
terminal), `exp` the expiry as epoch seconds. Whether the holder is an admin is decided when a
link is exchanged for a session, from `[slack] admins` at that moment, and kept in the session.
The stdlib is enough here (no itsdangerous in the dependencies).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from cxbot.sources.signing import hmac_digest, signature_matches

LINK_HOURS = 12  # a link's default life (`cxbot dashboard-link --hours N`)
SESSION_HOURS = 12  # a session cookie's life after sign-in
MAX_TOKEN = 2048  # longer is not ours: refused before any decoding
COOKIE = "cxbot_dashboard"


@dataclass(frozen=True)
class Session:
    user: str | None  # Slack user id; None = signed in with a terminal link
    admin: bool
    expires: int  # epoch seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: str, purpose: str, body: str) -> str:
    return _b64(hmac_digest(key, f"cxbot-dashboard:{purpose}.{body}".encode()))


def sign(key: str, purpose: str, claims: dict[str, object]) -> str:
    body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_mac(key, purpose, body)}"


def verify(key: str, purpose: str, token: str | None, now: datetime) -> dict[str, object] | None:
    """The claims of a token signed with `key` for `purpose` and not expired at `now`; None
    for anything else (tampered, expired, malformed, another purpose)."""
    if not token or len(token) > MAX_TOKEN or token.count(".") != 1:
        return None
    body, mac = token.split(".")
    if not signature_matches(_mac(key, purpose, body), mac):
        return None
    try:
        claims = json.loads(_unb64(body))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(claims, dict):
        return None
    exp = claims.get("exp")
    if not isinstance(exp, int) or isinstance(exp, bool) or exp <= now.timestamp():
        return None
    return claims


def link_token(key: str, user: str | None, now: datetime, hours: float = LINK_HOURS) -> str:
    exp = int((now + timedelta(hours=hours)).timestamp())
    return sign(key, "link", {"u": user, "exp": exp})


def link_user(key: str, token: str | None, now: datetime) -> tuple[bool, str | None]:
    """(valid, user) of a sign-in link's token."""
    claims = verify(key, "link", token, now)
    if claims is None:
        return False, None
    user = claims.get("u")
    return (True, user) if user is None or isinstance(user, str) else (False, None)


def is_admin(user: str | None, admins: list[str]) -> bool:
    """The terminal is trusted like the database file it opens, as `cxbot ask` is."""
    return user is None or user in admins


def session_cookie(
    key: str, user: str | None, admin: bool, now: datetime, hours: float = SESSION_HOURS
) -> tuple[str, Session]:
    exp = int((now + timedelta(hours=hours)).timestamp())
    return sign(key, "session", {"u": user, "a": admin, "exp": exp}), Session(user, admin, exp)


def read_session(key: str, cookie: str | None, now: datetime) -> Session | None:
    claims = verify(key, "session", cookie, now)
    if claims is None:
        return None
    user, admin, exp = claims.get("u"), claims.get("a"), claims.get("exp")
    if not (user is None or isinstance(user, str)) or not isinstance(admin, bool):
        return None
    assert isinstance(exp, int)
    return Session(user, admin, exp)


def base_url(public_url: str | None, host: str, port: int) -> str:
    """Where links point: `[server] public_url`, else this server's own host and port."""
    if public_url:
        return public_url.rstrip("/")
    shown = "localhost" if host in ("0.0.0.0", "::", "") else host
    return f"http://{shown}:{port}"


def sign_in_url(base: str, token: str) -> str:
    return f"{base}/dashboard?token={token}"

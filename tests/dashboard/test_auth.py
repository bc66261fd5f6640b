"""Sign-in links and session cookies: signing, expiry, tampering, purposes kept apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cxbot.dashboard import auth

KEY = "k" * 32
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_a_link_is_valid_until_it_expires() -> None:
    token = auth.link_token(KEY, "U1", NOW, hours=12)
    assert auth.link_user(KEY, token, NOW + timedelta(hours=11, minutes=59)) == (True, "U1")
    assert auth.link_user(KEY, token, NOW + timedelta(hours=12)) == (False, None)
    terminal = auth.link_token(KEY, None, NOW)
    assert auth.link_user(KEY, terminal, NOW + timedelta(hours=11)) == (True, None)


def test_tampered_tokens_and_other_keys_are_refused() -> None:
    token = auth.link_token(KEY, "U1", NOW)
    body, mac = token.split(".")
    forged_body = auth.sign("other-key", "link", {"u": "UADMIN", "exp": 2_000_000_000})
    for bad in (
        body + "." + mac[:-1] + ("A" if mac[-1] != "A" else "B"),
        forged_body.split(".")[0] + "." + mac,
        forged_body,
        token + ".x",
        "",
        None,
        "x" * 5000,
        "%%%.%%%",
    ):
        assert auth.link_user(KEY, bad, NOW) == (False, None), bad
    assert auth.link_user("another-key", token, NOW) == (False, None)


def test_a_link_is_not_a_session_and_a_session_is_not_a_link() -> None:
    link = auth.link_token(KEY, "U1", NOW)
    cookie, session = auth.session_cookie(KEY, "U1", True, NOW)
    assert auth.read_session(KEY, link, NOW) is None
    assert auth.link_user(KEY, cookie, NOW) == (False, None)
    assert auth.read_session(KEY, cookie, NOW) == session
    assert session == auth.Session("U1", True, int((NOW + timedelta(hours=12)).timestamp()))
    assert auth.read_session(KEY, cookie, NOW + timedelta(hours=13)) is None


def test_admins_and_base_urls() -> None:
    assert auth.is_admin(None, [])  # the terminal
    assert auth.is_admin("UADMIN", ["UADMIN"]) and not auth.is_admin("U1", ["UADMIN"])
    assert auth.base_url(None, "0.0.0.0", 8080) == "http://localhost:8080"
    assert auth.base_url(None, "127.0.0.1", 9) == "http://127.0.0.1:9"
    assert auth.base_url("https://cx.example.com/", "0.0.0.0", 8080) == "https://cx.example.com"
    assert auth.sign_in_url("https://x", "a.b") == "https://x/dashboard?token=a.b"

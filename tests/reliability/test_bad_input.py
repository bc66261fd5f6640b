"""Property-based bad input against the running server and the `/cx` parser: random bytes, deep
JSON, huge strings, wrong types, invalid UTF-8, bad signatures, replayed timestamps. Never a
500, never a half-stored delivery, and the process stays up."""

from __future__ import annotations

import asyncio
import http.client
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxbot.config import load_settings
from cxbot.cx.grammar import CommandError, parse_command
from tests.kit import fuzz
from tests.kit import providers as kit
from tests.kit.support import WEB_SECRET, sign_generic, start_server

# The app runs in-process: a blocking call on its event loop fails the test (tests/kit/blocking.py).
pytestmark = pytest.mark.usefixtures("blockbuster")

ZD_SECRET = "zendesk-secret"
CONFIG = """
[database]
path = "{db}"
[server]
max_body_bytes = 65536
[sources.web]
type = "generic"
secret_env = "WEB"
[sources.open]
type = "generic"
[sources.zd]
type = "zendesk"
secret_env = "ZD"
[sources.tp]
type = "trustpilot"
verify = false
[sources.meta]
type = "meta"
verify = false
[sources.ic]
type = "intercom"
verify = false
[sources.tf]
type = "typeform"
verify = false
[sources.fb]
type = "formbricks"
verify = false
[sources.x]
type = "x"
verify = false
[sources.hs]
type = "helpscout"
verify = false
[sources.m]
type = "mapped"
verify = false
[sources.m.map]
id = "ticket.id"
text = "ticket.body"
kind = "=ticket"
"""
OPEN_SOURCES = ["open", "tp", "meta", "ic", "tf", "fb", "x", "hs", "m"]


class Live:
    def __init__(self, port: int, db: Path) -> None:
        self.port = port
        self.db = db

    def post(
        self, path: str, body: bytes, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(
                "POST",
                path,
                body=body,
                headers={"Content-Type": "application/json", **(headers or {})},
            )
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, json.loads(data) if data.startswith(b"{") else data
        finally:
            conn.close()

    def counts(self) -> tuple[int, int]:
        conn = sqlite3.connect(self.db)
        try:
            return conn.execute(
                "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM signals)"
            ).fetchone()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The real app on a loopback port, served from a thread so hypothesis can drive it."""
    tmp = tmp_path_factory.mktemp("fuzz")
    cfg = tmp / "cxbot.toml"
    cfg.write_text(CONFIG.format(db=tmp / "fuzz.db"))
    app_settings = load_settings(cfg, {"WEB": WEB_SECRET, "ZD": ZD_SECRET})
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        runner, url, _ = loop.run_until_complete(start_server(app_settings))
        box["runner"], box["port"] = runner, int(url.rsplit(":", 1)[1])
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(30)
    yield Live(box["port"], app_settings.db_path)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(30)


json_values = fuzz.json_values(
    st.text(max_size=10),
    leaves=fuzz.scalars(50, floats=fuzz.FINITE),
    max_list=5,
    max_dict=5,
    max_leaves=30,
)
generic_like = st.fixed_dictionaries(
    {
        "id": st.one_of(st.text(max_size=20), st.integers(), st.none()),
        "kind": st.sampled_from(["review", "ticket", "bogus", 5]),
    },
    optional={
        "text": st.one_of(st.text(max_size=200), st.integers(), st.none()),
        "rating": st.one_of(st.integers(-5, 10), st.text(max_size=3)),
        "score": st.one_of(st.floats(allow_nan=False), st.none()),
        "score_type": st.sampled_from(["nps", "csat", "ces", "xyz"]),
        "author": json_values,
        "created_at": st.one_of(st.text(max_size=30), st.integers()),
    },
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    generic_like.map(lambda v: json.dumps(v).encode()),
    st.integers(1, 3000).map(lambda d: b"[" * d + b"]" * d),
    st.just("\u00e9".encode("latin-1") * 10),
)
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(body=bodies, source=st.sampled_from(OPEN_SOURCES))
def test_random_bodies_never_500(live: Live, body: bytes, source: str) -> None:
    before = live.counts()
    status, answer = live.post(f"/webhooks/{source}", body)
    assert status in (200, 400), (status, answer)
    if status == 400:
        assert answer["error"] == "bad_request" and answer["message"]
        assert live.counts() == before  # nothing half-stored


@FUZZ
@given(body=bodies, signature=st.text(max_size=80))
def test_bad_signatures_are_401_and_store_nothing(live: Live, body: bytes, signature: str) -> None:
    before = live.counts()
    headers = (
        {"X-Cxbot-Signature": signature} if signature.isascii() and signature.isprintable() else {}
    )
    status, _ = live.post("/webhooks/web", body, headers)
    assert status == 401
    assert live.counts() == before


@FUZZ
@given(body=generic_like.map(lambda v: json.dumps(v).encode()))
def test_signed_generic_bodies_are_200_or_400(live: Live, body: bytes) -> None:
    status, answer = live.post("/webhooks/web", body, {"X-Cxbot-Signature": sign_generic(body)})
    assert status in (200, 400), answer


def zendesk_headers(body: bytes, stamp: str) -> dict[str, str]:
    return {
        "X-Zendesk-Webhook-Signature": kit.Hmac(ZD_SECRET, encoding="base64")(
            stamp.encode() + body
        ),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }


@FUZZ
@given(age=st.integers(301, 10**8))
def test_replayed_old_timestamps_are_refused(live: Live, age: int) -> None:
    body = b'{"type": "zen:event-type:ticket.comment_added", "id": "x"}'
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - age))
    status, answer = live.post("/webhooks/zd", body, zendesk_headers(body, stamp))
    assert status == 401
    assert "stale" in answer["message"] or "timestamp" in answer["message"], answer


def test_oversized_and_wrong_type(live: Live) -> None:
    status, _ = live.post("/webhooks/open", b"[" + b" " * 70000 + b"]")
    assert status == 413
    conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=10)
    conn.request(
        "POST",
        "/webhooks/open",
        body=b"a=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert conn.getresponse().status == 415
    conn.close()


def test_still_up_after_the_fuzzing(live: Live) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=10)
    conn.request("GET", "/healthz")
    assert conn.getresponse().status == 200
    conn.close()


@settings(max_examples=400, deadline=None)
@given(
    text=st.text(max_size=120)
    | st.lists(
        st.sampled_from(
            [
                "nps",
                "summary",
                "7d",
                "this",
                "week",
                "source:",
                "topic:x",
                "search",
                '"',
                "*",
                "NEAR(",
                "-",
                "(",
                ")",
                "mute",
                "2h",
                "customer",
                "@",
                "public",
                "2026-11-01..2026-11-15",
                "..",
                "top",
                "negative",
                "ÿ",
                "💥",
            ]
        ),
        max_size=8,
    ).map(" ".join)
)
def test_cx_parser_only_raises_command_error(text: str) -> None:
    try:
        parse_command(text)
    except CommandError as exc:
        assert str(exc)

"""Property-based attack on the whole HTTP surface of a real `cxbot serve` (issue 14): any method,
path (percent-encoded control characters, raw bytes), header bytes, content type and encoding,
and body, to /webhooks/*, /slack/events and /healthz, over a bare socket (no client library
would send most of these). Invariants, checked after every request:

- the answer is never a 5xx (nor a connection closed without an answer);
- a refusal (4xx) stores nothing: `signals` and `events` counts unchanged;
- the server's log never gets a traceback, and every line stays one line;
- /healthz still answers 200 when the run is over.

One server for the module; bounded examples so the module runs in well under a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.kit.fakeslack import FakeSlack
from tests.kit.fuzz import json_values
from tests.kit.liveserver import LiveServer, exchange, get, serve_env
from tests.kit.providers import Hmac
from tests.kit.rawhttp import request_bytes
from tests.kit.support import SLACK_SECRET, WEB_SECRET, sign_generic

CONFIG = """
timezone = "UTC"
[database]
path = "{db}"
[enrich]
worker = "thread"
[server]
body_timeout_s = 5
[sources.web]
type = "generic"
secret_env = "CXBOT_WEB_SECRET"
[sources.open]
type = "generic"
[sources.tp]
type = "trustpilot"
token_env = "TP_TOKEN"
[sources.zd]
type = "zendesk"
secret_env = "ZD_SECRET"
[sources.meta]
type = "meta"
secret_env = "META_SECRET"
verify_token_env = "META_VERIFY"
"""
ENV = {
    "CXBOT_WEB_SECRET": WEB_SECRET,
    "TP_TOKEN": "tp-token",
    "ZD_SECRET": "zd-secret",
    "META_SECRET": "meta-secret",
    "META_VERIFY": "meta-verify",
    "SLACK_SIGNING_SECRET": SLACK_SECRET,
    "SLACK_BOT_TOKEN": "xoxb-test",
}
EXAMPLES = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

ROUTES = [
    b"/webhooks/web",
    b"/webhooks/open",
    b"/webhooks/tp",
    b"/webhooks/zd",
    b"/webhooks/meta",
    b"/webhooks/nope",
    b"/slack/events",
    b"/healthz",
    b"/",
    b"",
    b"*",
    b"http://127.0.0.1/webhooks/open",
]
PIECES = [
    b"%00", b"%0a", b"%0d", b"%0d%0a", b"%1b[2J", b"%7f", b"%e9", b"%ff", b"%c3%a9", b"%ed%a0%80",
    b"%2f", b"%2e%2e", b"/..", b"//", b"%", b"%zz", b"%25", b"?", b"&", b"=", b"#", b";",
    b"?token=tp-token", b"?hub.mode=subscribe&hub.verify_token=meta-verify&hub.challenge=42",
    b"?crc_token=x", b"\xe9", b"\xff", b"\t", b"\x00", b"~", b"+", b"@",
]  # fmt: skip
HEADER_NAMES = [
    b"Content-Type", b"Content-Encoding", b"Transfer-Encoding", b"Expect", b"X-Cxbot-Signature",
    b"X-Cxbot-Token", b"X-Slack-Request-Timestamp", b"X-Slack-Signature",
    b"X-Hub-Signature-256", b"X-Zendesk-Webhook-Signature",
    b"X-Zendesk-Webhook-Signature-Timestamp", b"X-Note", b"Host", b"Cookie", b"Accept-Encoding",
]  # fmt: skip
CONTENT_TYPES = [
    b"application/json", b"application/json; charset=utf-8", b"application/json; charset=latin-1",
    b"application/json; charset=nope", b"text/plain", b"application/x-www-form-urlencoded",
    b"multipart/form-data; boundary=x", b"application/*", b"", b";;;", b"\xff\xfe",
]  # fmt: skip
ENCODINGS = [b"gzip", b"x-gzip", b"deflate", b"br", b"identity", b"gzip, gzip", b"\xe9", b""]


@dataclass
class Live:
    server: LiveServer
    db: Path
    log_offset: int = 0

    def counts(self) -> tuple[int, int]:
        conn = sqlite3.connect(self.db, timeout=30)
        try:
            signals = conn.execute("SELECT count(*) FROM signals").fetchone()[0]
            events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
            return int(signals), int(events)
        finally:
            conn.close()

    def new_log(self) -> str:
        text = self.server.log()
        fresh, self.log_offset = text[self.log_offset :], len(text)
        return fresh


@contextlib.contextmanager
def fake_slack_thread() -> Iterator[FakeSlack]:
    """The fake Slack on its own event loop in a thread: these tests are synchronous."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    fake = FakeSlack()
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(30)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("http-properties")
    config = tmp / "cxbot.toml"
    config.write_text(CONFIG.format(db=tmp / "cxbot.db"), encoding="utf-8")
    with fake_slack_thread() as fake:
        env = serve_env(ENV | {"SLACK_API_URL": fake.base_url})
        yield from _serving(LiveServer(config, env, tmp / "serve.log"), tmp)


def _serving(server: LiveServer, tmp: Path) -> Iterator[Live]:
    server.start()
    try:
        yield Live(server, tmp / "cxbot.db", len(server.log()))
        answer = get(server.port, b"/healthz")
        assert answer is not None and answer.status == 200, "unhealthy after the attack"
    finally:
        server.stop()
    assert "Traceback" not in server.log()


def check(live: Live, raw: bytes) -> int:
    before = live.counts()
    answer = exchange(live.server.port, raw)
    assert answer is not None, f"closed without an answer: {raw[:300]!r}"
    assert answer.status < 500, (answer.status, answer.body[:300], raw[:300])
    if answer.status >= 400:
        assert live.counts() == before, f"{answer.status} but something was stored: {raw[:300]!r}"
    # Log lines are written before the answer is sent; a short grace for the last one.
    time.sleep(0.002)
    fresh = live.new_log()
    assert "Traceback" not in fresh, fresh[-3000:]
    for line in fresh.splitlines():
        assert line[:4].isdigit(), f"a log line that does not start with a time: {line[:200]!r}"
    return answer.status


def _gz(data: bytes) -> bytes:
    return gzip.compress(data)


def _deflate(data: bytes) -> bytes:
    return zlib.compress(data)


methods = st.sampled_from([b"GET", b"POST", b"PUT", b"DELETE", b"HEAD", b"OPTIONS", b"PATCH"]) | (
    st.binary(min_size=1, max_size=8)
)
paths = st.builds(
    lambda route, pieces: route + b"".join(pieces),
    st.sampled_from(ROUTES),
    st.lists(st.sampled_from(PIECES) | st.binary(max_size=4), max_size=5),
)
header_values = st.binary(max_size=60).filter(lambda v: b"\r" not in v and b"\n" not in v)
headers = st.lists(
    st.tuples(
        st.sampled_from(HEADER_NAMES) | st.binary(min_size=1, max_size=12),
        st.sampled_from(CONTENT_TYPES + ENCODINGS) | header_values,
    ),
    max_size=6,
)
signal_like = st.fixed_dictionaries(
    {
        "id": st.text(min_size=1, max_size=12) | json_values(),
        "kind": st.sampled_from(["review", "ticket", "message", "mention", "survey"])
        | json_values(),
    },
    optional={
        "text": st.text(max_size=40) | json_values(),
        "rating": json_values(),
        "score": json_values(),
        "score_type": json_values(),
        "created_at": st.sampled_from(["2026-11-20T10:00:00Z", "0001-01-01", "x"]) | json_values(),
        "metadata": json_values(),
        "author": json_values(),
    },
)
# Mostly valid signals with one odd field: what gets past validation reaches the store.
valid_signal = st.fixed_dictionaries(
    {
        "id": st.text(min_size=1, max_size=12),
        "kind": st.sampled_from(["review", "ticket", "message", "mention", "survey"]),
        "text": st.text(min_size=1, max_size=60),
    },
    optional={
        "title": st.none() | st.text(max_size=20),
        "rating": st.integers(0, 6),
        "created_at": st.sampled_from(["2026-11-20T10:00:00Z", "2026-11-20", "2001-01-01T00:00Z"]),
        "metadata": json_values(max_leaves=6),
        "author": st.fixed_dictionaries({}, optional={"email": st.text(max_size=20)}),
        "channel": st.text(max_size=10),
    },
)
json_bodies = st.one_of(
    valid_signal,
    st.lists(valid_signal | signal_like, max_size=3),
    signal_like,
    json_values(max_leaves=20),
).map(lambda v: json.dumps(v).encode())
bodies = st.one_of(
    st.binary(max_size=400),
    json_bodies,
    json_bodies.map(_gz),
    json_bodies.map(_deflate),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
)


@EXAMPLES
@given(method=methods, path=paths, hdrs=headers, body=bodies)
def test_any_request_anywhere(
    live: Live, method: bytes, path: bytes, hdrs: list[tuple[bytes, bytes]], body: bytes
) -> None:
    check(live, request_bytes(method, path, hdrs, body))


@EXAMPLES
@given(
    route=st.sampled_from([b"/webhooks/web", b"/webhooks/open"]),
    content_type=st.just(b"application/json") | st.sampled_from(CONTENT_TYPES),
    encoding=st.none() | st.sampled_from(ENCODINGS),
    body=json_bodies | bodies,
    extra=st.lists(st.tuples(st.sampled_from(HEADER_NAMES), header_values), max_size=2),
)
def test_signed_webhook_bodies(
    live: Live,
    route: bytes,
    content_type: bytes,
    encoding: bytes | None,
    body: bytes,
    extra: list[tuple[bytes, bytes]],
) -> None:
    # Correctly signed, so the parser, the validators and the store see every body.
    hdrs = [(b"Content-Type", content_type), (b"X-Cxbot-Signature", sign_generic(body).encode())]
    if encoding is not None:
        hdrs.append((b"Content-Encoding", encoding))
    check(live, request_bytes(b"POST", route, hdrs + extra, body))


form_values = st.text(max_size=30) | json_values(max_leaves=8).map(json.dumps)
slack_forms = st.dictionaries(
    st.sampled_from(["command", "text", "user_id", "payload", "team_id", "response_url", "type"])
    | st.text(max_size=6),
    form_values,
    max_size=5,
)


@EXAMPLES
@given(
    form=slack_forms,
    raw=st.none() | st.binary(max_size=200),
    content_type=st.sampled_from(CONTENT_TYPES),
    stamp=st.none() | st.sampled_from([b"abc", b"-1", b"99999999999999999999", b"\xe9"]),
)
def test_signed_slack_requests(
    live: Live,
    form: dict[str, str],
    raw: bytes | None,
    content_type: bytes,
    stamp: bytes | None,
) -> None:
    from urllib.parse import urlencode

    body = raw if raw is not None else urlencode(form).encode()
    now = str(int(time.time())).encode()
    timestamp = stamp or now
    sig = Hmac(SLACK_SECRET, prefix="v0=")(b"v0:" + timestamp + b":" + body)
    hdrs = [
        (b"Content-Type", content_type),
        (b"X-Slack-Request-Timestamp", timestamp),
        (b"X-Slack-Signature", sig.encode()),
    ]
    check(live, request_bytes(b"POST", b"/slack/events", hdrs, body))

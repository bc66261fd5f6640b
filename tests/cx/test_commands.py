"""The `/cx` grammar over many phrasings (good and bad), and `ask` end to end on a real file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from cxbot.alerts.records import list_mutes
from cxbot.alerts.rules import AlertRule, SpikeRule
from cxbot.cx.ask import DigestRequest, Write, ask
from cxbot.cx.grammar import Command, CommandError, parse_command, parse_duration
from cxbot.models import Filters, iso_utc
from cxbot.periods import parse_period
from cxbot.slack.fmt import MAX_BLOCKS, MAX_SECTION, Answer, build
from cxbot.store.writer import connect, migrate
from tests.kit.postgres import Engine

IST = ZoneInfo("Europe/Istanbul")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def period(text: str) -> Any:
    return parse_period(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Command("help")),
        ("   ", Command("help")),
        ("help", Command("help")),
        ("HELP nps", Command("help", args=("nps",))),
        ("?", Command("help")),
        ("help stars", Command("help", args=("rating",))),
        ("/cx summary", Command("summary")),
        ("summary", Command("summary")),
        ("Summary 30d", Command("summary", period("30d"))),
        ("summary this week", Command("summary", period("this week"))),
        ("summary last 7 days", Command("summary", period("7d"))),
        ("overview 90d", Command("summary", period("90d"))),
        (
            "summary source:appstore 7d kind:review public",
            Command(
                "summary", period("7d"), Filters(source="appstore", kind="review"), public=True
            ),
        ),
        ("30d", Command("summary", period("30d"))),
        ("last week", Command("summary", period("last week"))),
        ("source:appstore", Command("summary", filters=Filters(source="appstore"))),
        ("nps", Command("nps")),
        ("NPS 90d source:typeform", Command("nps", period("90d"), Filters(source="typeform"))),
        ("nps last week", Command("nps", period("last week"))),
        ("nps 365d source:X", Command("nps", period("365d"), Filters(source="X"))),
        (
            "csat 2026-11-01..2026-11-15 lang:DE",
            Command("csat", period("2026-11-01..2026-11-15"), Filters(lang="de")),
        ),
        ("ces 24h", Command("ces", period("24h"))),
        ("rating 30d kind:Review", Command("rating", period("30d"), Filters(kind="review"))),
        ("stars 7d", Command("rating", period("7d"))),
        ("sentiment topic:billing", Command("sentiment", filters=Filters(topic="billing"))),
        ("volume 12h language:en", Command("volume", period("12h"), Filters(lang="en"))),
        ("count yesterday", Command("volume", period("yesterday"))),
        ("nps this month public", Command("nps", period("this month"), public=True)),
        ("top negative", Command("top")),
        ("top negative 24h source:x", Command("top", period("24h"), Filters(source="x"))),
        ("top", Command("top")),
        ("worst 7d", Command("top", period("7d"))),
        ("topics 30d", Command("topics", period("30d"))),
        ("topic", Command("topics")),
        ("search refund", Command("search", args=("refund",))),
        ("search refund 30d", Command("search", period("30d"), args=("refund",))),
        (
            'search "double charged" kind:ticket',
            Command("search", filters=Filters(kind="ticket"), args=('"double', 'charged"')),
        ),
        ("search NEAR( * - ( )", Command("search", args=("NEAR(", "*", "-", "(", ")"))),
        ("search https://example.com/x", Command("search", args=("https://example.com/x",))),
        ("find refund", Command("search", args=("refund",))),
        ("customer ana@example.com", Command("customer", args=("ana@example.com",))),
        (
            "customer <mailto:ana@example.com|ana@example.com>",
            Command("customer", args=("ana@example.com",)),
        ),
        ("customer @ana", Command("customer", args=("@ana",))),
        ("who @ana public", Command("customer", args=("@ana",), public=True)),
        ("mute bad-review 2h", Command("mute", args=("bad-review",), duration=timedelta(hours=2))),
        ("mute angry-text 1w", Command("mute", args=("angry-text",), duration=timedelta(days=7))),
        ("unmute bad-review", Command("unmute", args=("bad-review",))),
        ("alerts", Command("alerts")),
        ("rules", Command("alerts")),
        ("digest", Command("digest")),
        ("digest send", Command("digest", args=("send",))),
        ("public", Command("help", public=True)),
    ],
)
def test_parses(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "says", "suggestion"),
    [
        ("npss", "did you mean `nps`", "nps"),
        ("sumary 7d", "did you mean `summary`", "summary"),
        ("serch refund", "did you mean `search`", "search"),
        ("custmer @ana", "did you mean `customer`", "customer"),
        ("xyzzy", "I don't know `xyzzy`", "help"),
        ("nps 7d 30d", "Two periods", "nps 30d"),
        ("nps 0d", "at least", "nps 7d"),
        ("nps 2026-11-15..2026-11-01", "ends before it starts", "nps 7d"),
        ("nps source:", "needs a value", "nps source:appstore"),
        ("nps kind:reviw", "did you mean `kind:review`", "nps kind:review"),
        ("nps lang:english", "language code", "nps lang:en"),
        ("nps sorce:appstore", "did you mean `source:`", "nps source:appstore"),
        ("nps foo:bar", "Unknown filter", "nps"),
        ("nps blah", "doesn't take", "nps 7d"),
        ("nps weak", "did you mean `week`", None),
        ("summary source:a source:b", "given twice", None),
        ("top positive", "negative signals only", "top negative 7d"),
        ("search", "What should I search for", "search refund"),
        ("search 30d", "What should I search for", "search refund"),
        ("customer", "one email or handle", "customer @ana"),
        ("customer a b", "one email or handle", "customer @ana"),
        ("mute bad-review", "Usage", "mute bad-review 2h"),
        ("mute bad-review forever", "not a duration", "mute RULE 2h"),
        ("mute bad-review 100d", "from 1 minute to 90 days", "mute RULE 1d"),
        ("mute <!channel> 2h", "not a rule name", "alerts"),
        ("unmute", "Usage", "alerts"),
        ("alerts please", "takes no arguments", "alerts"),
        ("digest now", "Usage", "digest"),
    ],
)
def test_bad_phrasings_explain(text: str, says: str, suggestion: str | None) -> None:
    with pytest.raises(CommandError) as info:
        parse_command(text)
    if says == "did you mean `week`":
        assert "doesn't take" in info.value.message
        return
    assert says in info.value.message
    if suggestion is not None:
        assert info.value.suggestion == suggestion


def test_parse_duration() -> None:
    assert parse_duration("30m") == timedelta(minutes=30)
    assert parse_duration("2H") == timedelta(hours=2)
    assert parse_duration("90d") == timedelta(days=90)
    with pytest.raises(CommandError):
        parse_duration("0m")


def test_admin_only() -> None:
    assert parse_command("mute a 1h").admin_only
    assert parse_command("unmute a").admin_only
    assert parse_command("digest send").admin_only
    assert not parse_command("digest").admin_only
    assert not parse_command("alerts").admin_only


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_parses_or_explains(text: str) -> None:
    try:
        assert isinstance(parse_command(text), Command)
    except CommandError as exc:
        assert exc.message


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "nps",
                "summary",
                "search",
                "7d",
                "this",
                "week",
                "source:",
                "kind:x",
                "lang:e",
                "public",
                '"',
                "*",
                "(",
                "NEAR(",
                "-",
                "2026-11-01..2026-11-02",
                "top",
                "negative",
                "mute",
                "1h",
            ]
        ),
        max_size=6,
    )
)
def test_word_salad_parses_or_explains(words: list[str]) -> None:
    try:
        parse_command(" ".join(words))
    except CommandError as exc:
        assert exc.message


# --- rendering ---------------------------------------------------------------------------------


def test_build_keeps_to_slack_limits() -> None:
    long = "\n".join("line " + "x" * 100 for _ in range(2000))
    answer = build(lambda f: [("section", long)] * 3)
    assert answer.blocks is not None and len(answer.blocks) <= MAX_BLOCKS
    for block in answer.blocks:
        text = block["text"]["text"] if block["type"] == "section" else block["elements"][0]["text"]
        assert len(text) <= MAX_SECTION


# --- ask, end to end ---------------------------------------------------------------------------


@pytest.fixture
def db(engine: Engine) -> Iterator[Database]:
    database = engine.connect()
    migrate(database)
    yield database
    database.conn.close()


def add(db: Database, hours_ago: float, **fields: Any) -> None:
    created = iso_utc(NOW - timedelta(hours=hours_ago))
    row: dict[str, Any] = {
        "source": "appstore",
        "provider": "generic",
        "kind": "review",
        "external_id": f"{hours_ago}-{json.dumps(fields)}",
        "created_at": created,
        "received_at": created,
        "lang": "en",
        "sentiment_label": "neutral",
        "topics": "[]",
    }
    row.update(fields)
    db.execute(
        f"INSERT INTO signals ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
        list(row.values()),
    )


RULES = [
    AlertRule(name="bad-review", channel="#cx", kinds=["review"], max_rating=2),
    SpikeRule(name="neg-spike", channel="#cx"),
]


def answer(db: Database, text: str, **kw: Any) -> Answer:
    reply = ask(db, text, now=NOW, tz=IST, rules=RULES, **kw)
    assert isinstance(reply, Answer), reply
    return reply


def texts(a: Answer) -> str:
    parts = [a.text]
    for block in a.blocks or []:
        parts.append(
            block["text"]["text"] if block["type"] == "section" else block["elements"][0]["text"]
        )
    return "\n".join(parts)


@pytest.fixture
def filled(db: Database) -> Database:
    add(
        db,
        5,
        rating=1,
        sentiment_label="negative",
        sentiment=-0.8,
        text="<!channel> *refund* now @here <https://evil.example|click>",
        topics='["billing"]',
        url="https://apps.example/r/1",
    )
    add(
        db,
        30,
        rating=5,
        sentiment_label="positive",
        sentiment=0.7,
        text="love it",
        topics='["billing", "login"]',
    )
    add(db, 40, source="typeform", kind="survey", score_type="nps", score=10.0)
    add(db, 41, source="typeform", kind="survey", score_type="nps", score=3.0)
    add(db, 200, source="typeform", kind="survey", score_type="nps", score=9.0)
    return db


@pytest.mark.parametrize(
    "text",
    [
        "",
        "help",
        "help nps",
        "help nothing",
        "summary",
        "summary 30d public",
        "nps 30d",
        "csat",
        "ces",
        "rating 24h",
        "sentiment this week",
        "volume 90d",
        "volume 365d",
        "top negative",
        "topics 30d",
        "search refund",
        'search " * NEAR( - ( ) AND 😀 پول',
        "customer @nobody",
        "alerts",
        "summary source:appstor",
        "nps kind:ticket",
        "npss",
        "30d",
        "summary all",
        "volume 2026-11-01..2026-11-20",
        "topics topic:billing",
        "search refund source:typeform",
    ],
)
def test_every_verb_answers(filled: Database, text: str) -> None:
    a = answer(filled, text)
    assert a.text and a.blocks and len(a.blocks) <= MAX_BLOCKS
    assert "Traceback" not in a.text and "Sorry" not in a.text
    assert "<!channel>" not in texts(a) and "<https://evil" not in texts(a)
    assert "@here" not in texts(a)
    assert a.public is text.endswith("public")


def test_summary_numbers(filled: Database) -> None:
    a = answer(filled, "summary 7d")
    assert "Summary · last 7 days" in a.text
    assert "4 signals" in a.text and "+300%" in a.text  # 4 vs 1 the week before
    assert "NPS  ±0 (n=2)  ·  -100 pts vs previous" in a.text
    assert "Rating  3.00★ (n=2)" in a.text
    assert "25% negative" in a.text


def test_metric_has_trend_and_sample(filled: Database) -> None:
    a = answer(filled, "nps 30d source:typeform")
    assert "NPS · last 30 days · `source:typeform`" in a.text
    assert "(n=3)" in a.text and "Trend (daily):" in a.text


def test_escaping_in_lists(filled: Database) -> None:
    a = answer(filled, "top negative")
    assert "∗refund∗" in texts(a)  # formatting characters of user text are inert look-alikes
    assert "&lt;https://evil.example|click&gt;" in texts(a)
    assert "<https://apps.example/r/1|open>" in texts(a)  # our own link, in blocks
    assert "refund" in a.plain and "<!channel>" in a.plain  # the terminal shows the original


def test_search_marks_matches(filled: Database) -> None:
    a = answer(filled, "search refund")
    assert "∗*refund*∗" in texts(a)  # the match in bold, the user's asterisks inert
    assert "Newest first." in a.text


def test_empty_filters_suggest(filled: Database) -> None:
    assert "did you mean `source:appstore`" in answer(filled, "summary source:appstor").text
    assert "did you mean `topic:billing`" in answer(filled, "summary topic:biling").text


def test_unknown_word_suggests(filled: Database) -> None:
    a = answer(filled, "npss 7d")
    assert "did you mean `nps`?" in a.text and a.public is False
    assert "/cx nps" in a.text


def test_mute_needs_admin_and_returns_a_write(filled: Database) -> None:
    denied = answer(filled, "mute bad-review 2h", user_id="U2", admins=["U1"])
    assert "Only admins" in denied.text
    reply = ask(
        filled, "mute bad-review 2h", now=NOW, tz=IST, rules=RULES, user_id="U1", admins=["U1"]
    )
    assert isinstance(reply, Write) and reply.command.verb == "mute"
    done = reply.apply(filled)
    assert "bad-review" in done.text and "muted until 20 Nov 17:00" in done.text
    assert [(m.rule, m.muted_by) for m in list_mutes(filled, NOW)] == [("bad-review", "U1")]
    assert "muted until" in answer(filled, "alerts").text
    unmute = ask(filled, "unmute bad-review", now=NOW, tz=IST, rules=RULES)  # terminal: trusted
    assert isinstance(unmute, Write) and "unmuted" in unmute.apply(filled).text
    assert "did you mean `bad-review`" in answer(filled, "mute bad-reveiw 1h").text
    assert isinstance(ask(filled, "mute neg-spike 1h", now=NOW, tz=IST, rules=RULES), Write)


def test_digest_is_left_to_the_caller(filled: Database) -> None:
    assert ask(filled, "digest", now=NOW, tz=IST) == DigestRequest(send=False)
    assert "Only admins" in answer(filled, "digest send", user_id="U2", admins=["U1"]).text
    assert ask(
        filled, "digest send", now=NOW, tz=IST, user_id="U1", admins=["U1"]
    ) == DigestRequest(send=True)


def test_failures_are_apologies_not_tracebacks(tmp_path: Path) -> None:
    bare = connect(tmp_path / "empty.db")  # no schema: every query fails
    a = ask(bare, "summary", now=NOW, tz=IST)
    assert isinstance(a, Answer) and "Sorry" in a.text


def test_alerts_lists_rules(filled: Database) -> None:
    a = answer(filled, "alerts")
    assert "bad-review → #cx — kinds = review, max_rating = 2" in a.plain
    assert "neg-spike" in a.text


def test_help_for_every_verb(filled: Database) -> None:
    from cxbot.cx.grammar import USAGE, VERBS

    assert set(USAGE) == set(VERBS)
    for verb in VERBS:
        a = answer(filled, f"help {verb}")
        assert f"/cx {verb}" in a.text and "Examples:" in a.text


def test_every_verb_is_documented() -> None:
    from cxbot.cx.grammar import VERBS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "commands.md").read_text(encoding="utf-8")
    for verb in VERBS:
        assert f"| `{verb}" in doc, verb


def test_write_confirmations_keep_public(filled: Database) -> None:
    reply = ask(filled, "mute bad-review 1h public", now=NOW, tz=IST, rules=RULES)
    assert isinstance(reply, Write) and reply.apply(filled).public is True
    reply = ask(filled, "unmute bad-review", now=NOW, tz=IST, rules=RULES)
    assert isinstance(reply, Write) and reply.apply(filled).public is False

"""`/cx … intent:NAME` on both engines: parsed and checked, counted from signals (intent is not
a rollup key) exactly as a raw count would, in every verb that takes filters."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlite_utils import Database

from cxbot.cx.ask import ask
from cxbot.cx.grammar import CommandError, parse_command
from cxbot.cx.help import FILTER_HELP
from cxbot.cx.queries import stats, top_negative, topic_stats
from cxbot.models import Filters, iso_utc
from cxbot.periods import Window
from cxbot.slack.fmt import Answer
from cxbot.store.rollup import raw_counts
from cxbot.store.writer import migrate
from tests.kit.postgres import Engine

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
IST = ZoneInfo("Europe/Istanbul")
INTENTS = ("complaint", "question", "request", "praise", "churn_risk", None)


@pytest.fixture
def db(engine: Engine) -> Iterator[Database]:
    database = engine.connect()
    migrate(database)
    yield database
    database.conn.close()


def add(db: Database, created: datetime, n: int, **fields: Any) -> None:
    row: dict[str, Any] = {
        "source": "appstore",
        "provider": "generic",
        "kind": "review",
        "external_id": f"x{n}",
        "created_at": iso_utc(created),
        "received_at": iso_utc(created),
        "lang": "en",
        "sentiment_label": "neutral",
        "topics": "[]",
        **fields,
    }
    db.execute(
        f"INSERT INTO signals ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
        list(row.values()),
    )


def test_parsed_and_refused_with_a_suggestion() -> None:
    assert parse_command("volume 30d intent:Churn_Risk").filters == Filters(intent="churn_risk")
    with pytest.raises(CommandError) as info:
        parse_command("volume intent:complain")
    assert "did you mean `intent:complaint`?" in str(info.value)
    assert "complaint, question, request, praise, churn_risk" in str(info.value)
    with pytest.raises(CommandError, match="needs a value, e.g. `intent:complaint`"):
        parse_command("volume intent:")
    assert "intent:" in FILTER_HELP


def test_counts_equal_raw_counts_over_whole_and_partial_days(db: Database) -> None:
    rnd = random.Random(13)
    start = NOW - timedelta(days=20)
    for n in range(300):
        label = rnd.choice(["negative", "neutral", "positive"])
        created = start + timedelta(minutes=rnd.randint(0, 20 * 1440))
        topics = rnd.choice(["[]", '["billing"]', '["billing", "login"]'])
        add(db, created, n, intent=rnd.choice(INTENTS), sentiment_label=label, topics=topics,
            sentiment=-0.5 if label == "negative" else 0.2, rating=rnd.randint(1, 5))  # fmt: skip
    windows = [
        Window(NOW - timedelta(days=7), NOW, ""),  # whole days read from the rollup otherwise
        Window(NOW - timedelta(days=15, hours=5), NOW - timedelta(days=3, hours=2), ""),
    ]
    for w in windows:
        prev = Window(w.start - w.duration, w.start, "")
        for intent in ("complaint", "churn_risk"):
            f = Filters(intent=intent)
            got = stats(db, w, prev, f)
            raw = raw_counts(db, w.start, w.end, f)
            assert (got.current.n, got.current.negative) == (raw.n, raw.negative) and raw.n > 0
            by_hand = db.execute(
                "SELECT count(*) FROM signals WHERE intent = ? AND created_at >= ?"
                " AND created_at < ?",
                [intent, iso_utc(w.start), iso_utc(w.end)],
            ).fetchone()[0]
            assert got.current.n == by_hand
            assert got.before is not None
            assert got.before.n == raw_counts(db, prev.start, prev.end, f).n
            for t in topic_stats(db, w, prev, f):
                both = Filters(topic=t.topic, intent=intent)
                assert t.n == raw_counts(db, w.start, w.end, both).n
            worst = top_negative(db, w, f, limit=50)
            assert worst and all(r.sentiment_label == "negative" for r in worst)
            ids = [r.id for r in worst]
            marks = ", ".join("?" for _ in ids)
            kept = db.execute(
                f"SELECT count(*) FROM signals WHERE intent = ? AND id IN ({marks})",
                [intent, *ids],
            ).fetchone()[0]
            assert kept == len(ids)


def test_every_filtering_verb_answers_with_intent(db: Database) -> None:
    add(db, NOW - timedelta(hours=3), 1, intent="churn_risk", text="closing my account",
        sentiment_label="negative", sentiment=-0.7, rating=1)  # fmt: skip
    add(db, NOW - timedelta(hours=4), 2, intent="praise", text="lovely", rating=5)
    for text in ("summary intent:churn_risk", "volume 7d intent:churn_risk",
                 "sentiment intent:churn_risk", "top negative intent:churn_risk",
                 "topics intent:praise", "search account intent:churn_risk"):  # fmt: skip
        reply = ask(db, text, now=NOW, tz=IST)
        assert isinstance(reply, Answer) and "Sorry" not in reply.text, (text, reply)
    volume = ask(db, "volume 7d intent:churn_risk", now=NOW, tz=IST)
    assert isinstance(volume, Answer) and " 1 " in volume.text
    found = ask(db, "search account intent:praise", now=NOW, tz=IST)
    assert isinstance(found, Answer) and "closing my account" not in found.text

"""decide_alerts over a real migrated SQLite file: which rows a batch of enriched signals owes."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlite_utils import Database

from cxbot.alerts.decide import decide_alerts
from cxbot.alerts.rules import AlertPolicy, AlertRule, VipList
from cxbot.slack.sinks import ConsoleSink
from cxbot.store.writer import migrate
from tests.kit.postgres import Engine

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BAD = AlertRule(name="bad", channel="#cx", max_rating=2, max_per_window=2, window_minutes=10)


@pytest.fixture
def db(engine: Engine) -> Iterator[Database]:
    database = engine.connect()
    migrate(database)
    for i in range(1, 5):  # the stored signals the outbox rows point at
        database.execute(
            "INSERT INTO signals (id, source, provider, kind, external_id, created_at,"
            " received_at) VALUES (?, 'web', 'generic', 'review', ?, ?, ?)",
            [i, str(i), "2026-11-20T11:59:00.000000Z", "2026-11-20T11:59:00.000000Z"],
        )
    yield database
    database.conn.close()


def signal(i: int, rating: int) -> dict[str, Any]:
    return {"created_at": "2026-11-20T11:59:00.000000Z","id": i, "source": "web", "provider": "generic", "kind": "review", "text": "x",
            "rating": rating, "customer_id": None, "thread_key": None,
            "sentiment_label": "negative" if rating <= 2 else "positive", "topics": []}  # fmt: skip


def owed(db: Database) -> list[tuple[Any, ...]]:
    return db.execute(
        "SELECT kind, dedup_key, signal_id, status, rollup_id IS NOT NULL FROM outbox ORDER BY id"
    ).fetchall()


def test_a_matching_signal_owes_one_alert_and_deciding_again_owes_nothing(db: Database) -> None:
    policy = AlertPolicy(rules=[BAD], spikes=[], vip=VipList())
    new = decide_alerts(db, [signal(1, 1), signal(2, 5)], NOW, policy)
    assert owed(db) == [("alert", "alert:1:#cx", 1, "pending", 0)]
    assert new == [db.execute("SELECT id FROM outbox").fetchone()[0]]
    assert decide_alerts(db, [signal(1, 1)], NOW, policy) == []
    assert len(owed(db)) == 1


def test_over_the_throttle_alerts_are_held_under_one_summary(db: Database) -> None:
    policy = AlertPolicy(rules=[BAD], spikes=[], vip=VipList())
    decide_alerts(db, [signal(i, 1) for i in range(1, 5)], NOW, policy)
    bucket = int(NOW.timestamp() // 600)
    assert owed(db) == [
        ("alert", "alert:1:#cx", 1, "pending", 0),
        ("alert", "alert:2:#cx", 2, "pending", 0),
        ("rollup", f"rollup:bad:#cx:{bucket}", None, "pending", 0),
        ("alert", "alert:3:#cx", 3, "held", 1),
        ("alert", "alert:4:#cx", 4, "held", 1),
    ]


def test_a_muted_rule_owes_nothing(db: Database) -> None:
    db.execute(
        "INSERT INTO mutes (rule, until, muted_by, created_at)"
        " VALUES ('bad', '2026-11-21T00:00:00.000000Z', 'U1', 'T')"
    )
    policy = AlertPolicy(rules=[BAD], spikes=[], vip=VipList())
    assert decide_alerts(db, [signal(1, 1)], NOW, policy) == []
    assert owed(db) == []


async def test_the_console_sink_prints_where_and_what() -> None:
    out = io.StringIO()
    sink = ConsoleSink(out)
    message = {"text": "1-star review", "blocks": None}
    assert await sink.post("#cx", message, thread_ts=None, outbox_id=1) == ("#cx", "console.1")
    assert await sink.post("#cx", message, thread_ts="console.1", outbox_id=2) == (
        "#cx",
        "console.2",
    )
    assert await sink.find_posted("#cx", 1, 0.0, None) is None
    text = out.getvalue()
    assert text.startswith("── to #cx ──\n")
    assert "── to #cx (thread console.1) ──\n" in text

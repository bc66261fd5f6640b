"""outbox/rows.py: the only writer of outbox rows, its keys, and the digest-status trigger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlite_utils import Database

from cxbot.outbox import rows
from cxbot.outbox.worker import next_due_per_channel
from cxbot.store.writer import migrate
from tests.kit.postgres import Engine

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(engine: Engine) -> Iterator[Database]:
    database = engine.connect()
    migrate(database)
    yield database
    database.conn.close()


def test_every_key_format_is_built_in_one_place() -> None:
    assert rows.alert_key(7, "#cx") == "alert:7:#cx"
    assert rows.held_summary_key("bad", "#cx", 12) == "rollup:bad:#cx:12"
    assert rows.spike_key("neg", "zendesk", 3) == "spike:neg:zendesk:3"
    assert rows.update_key(5, "assigned", "U1") == "update:5:assigned:U1"
    assert rows.digest_key("2026-W47", "#weekly") == "digest:2026-W47:#weekly"


def test_owing_twice_writes_one_row(db: Database) -> None:
    key = rows.alert_key(1, "#cx")
    first = rows.owe(db, kind="alert", dedup_key=key, channel="#cx", now=NOW, rule="r")
    again = rows.owe(db, kind="alert", dedup_key=key, channel="#cx", now=NOW, rule="r")
    assert first is not None and again is None
    assert rows.is_owed(db, key) and rows.id_of(db, key) == first
    [row] = rows.owed_rows(db)
    assert (row["kind"], row["status"], row["next_attempt_at"], row["created_at"]) == (
        "alert",
        "pending",
        "2026-11-20T12:00:00.000000Z",
        "2026-11-20T12:00:00.000000Z",
    )


def test_owed_rows_are_pending_or_sending_in_id_order(db: Database) -> None:
    ids = [rows.owe(db, kind="spike", dedup_key=f"k{i}", channel="#cx", now=NOW) for i in range(4)]
    assert None not in ids
    rows.mark(db, ids[1], status="sent", sent_at="T")
    rows.mark(db, ids[2], status="sending")
    rows.mark(db, ids[3], status="failed")
    assert [r["id"] for r in rows.owed_rows(db)] == [ids[0], ids[2]]


def test_a_digest_outcome_is_copied_by_the_trigger(db: Database) -> None:
    db.execute(
        "INSERT INTO digests (period, channel, status, created_at) VALUES"
        " ('2026-W47', '#weekly', 'queued', 'T0'), ('2026-W47', '#other', 'queued', 'T0')"
    )
    oid = rows.owe(
        db, kind="digest", dedup_key=rows.digest_key("2026-W47", "#weekly"), channel="#weekly",
        now=NOW,
    )  # fmt: skip
    assert oid is not None
    status = "SELECT channel, status, sent_at FROM digests ORDER BY channel"
    rows.mark(db, oid, status="sending")
    assert db.execute(status).fetchall() == [
        ("#other", "queued", None),
        ("#weekly", "queued", None),
    ]
    rows.mark(db, oid, status="sent", sent_at="T1")
    assert db.execute(status).fetchall() == [("#other", "queued", None), ("#weekly", "sent", "T1")]


def test_an_alert_row_never_touches_digests(db: Database) -> None:
    db.execute(
        "INSERT INTO digests (period, channel, status, created_at)"
        " VALUES ('2026-W47', '#cx', 'queued', 'T0')"
    )
    oid = rows.owe(db, kind="alert", dedup_key="digest:2026-W47:#cx", channel="#cx", now=NOW)
    assert oid is not None
    rows.mark(db, oid, status="sent", sent_at="T1")
    assert db.execute("SELECT status FROM digests").fetchall() == [("queued",)]


def test_a_waiting_row_holds_back_its_channel_but_not_others() -> None:
    def row(i: int, ch: str, due: datetime, kind: str = "alert") -> dict[str, object]:
        return {"id": i, "channel": ch, "kind": kind,
                "next_attempt_at": due.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}  # fmt: skip

    later = NOW + timedelta(minutes=5)
    lanes = next_due_per_channel(
        [
            row(1, "#a", NOW),
            row(2, "#a", later),  # waits (a retry): #a's later rows wait behind it
            row(3, "#a", NOW),
            row(4, "#b", later, kind="rollup"),  # a held-alerts summary waits for its window
            row(5, "#b", NOW),  # ... without holding back the channel
        ],
        NOW,
    )
    assert {ch: [r["id"] for r in lane] for ch, lane in lanes.items()} == {"#a": [1], "#b": [5]}

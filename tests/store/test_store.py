"""The writer thread's batching, and intake's batched statements, on a real SQLite file and
on a real PostgreSQL database (the `engine` fixture runs each test on both)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlite_utils import Database

from cxbot.errors import ServiceUnavailable
from cxbot.models import Author, Signal
from cxbot.store.intake import DeliveryRecord, signal_row, store_deliveries, store_delivery
from cxbot.store.writer import Writer
from tests.kit.postgres import Engine

GATE = threading.Event()  # holds the writer busy so the next jobs queue up behind it
HELD = threading.Event()  # set once the writer is inside `hold`
CALLS: list[list[int]] = []  # the items each call of `double_all` was given


def hold(db: Database) -> None:
    HELD.set()
    GATE.wait(5)


def double_all(db: Database, items: list[int]) -> list[int]:
    CALLS.append(list(items))
    for item in items:
        if item < 0:
            raise ValueError(f"negative item {item}")
        db.execute("INSERT INTO mutes (rule, until, created_at) VALUES (?, 'x', 'x')", [f"r{item}"])
    return [2 * item for item in items]


@pytest.fixture
def writer(engine: Engine) -> Iterator[Writer]:
    GATE.clear()
    HELD.clear()
    CALLS.clear()
    w = engine.writer()
    w.start()
    w.engine = engine  # the tests read what it committed through their own connection
    yield w
    GATE.set()
    w.close()


def _mutes(writer: Writer) -> list[str]:
    db = writer.engine.connect()  # type: ignore[attr-defined]
    try:
        return sorted(r[0] for r in db.execute("SELECT rule FROM mutes").fetchall())
    finally:
        db.conn.close()


def test_queued_items_run_as_one_call_and_each_gets_its_own_result(writer: Writer) -> None:
    blocker = writer.submit(hold)
    assert HELD.wait(5)  # the writer took the blocker alone; the next batch queues up
    futures = [writer.submit_many(double_all, i) for i in range(1, 6)]
    GATE.set()
    blocker.result(5)
    assert [f.result(5) for f in futures] == [2, 4, 6, 8, 10]
    assert CALLS == [[1, 2, 3, 4, 5]]
    assert writer.commits == 2  # the blocker's batch, then all five in one
    assert _mutes(writer) == ["r1", "r2", "r3", "r4", "r5"]


def test_a_failing_item_fails_alone_and_the_others_commit(writer: Writer) -> None:
    blocker = writer.submit(hold)
    assert HELD.wait(5)
    futures = [writer.submit_many(double_all, i) for i in (1, -2, 3)]
    GATE.set()
    blocker.result(5)
    assert futures[0].result(5) == 2
    assert futures[2].result(5) == 6
    with pytest.raises(ValueError, match="negative item -2"):
        futures[1].result(5)
    # The group call failed, then each item ran alone; the group's partial rows were undone.
    assert CALLS == [[1, -2, 3], [1], [-2], [3]]
    assert _mutes(writer) == ["r1", "r3"]


def test_plain_jobs_between_items_keep_their_place(writer: Writer) -> None:
    order: list[str] = []

    def plain(db: Database) -> str:
        order.append(f"plain after {len(CALLS)} call(s)")
        return "plain"

    blocker = writer.submit(hold)
    assert HELD.wait(5)
    first = writer.submit_many(double_all, 1)
    middle = writer.submit(plain)
    last = writer.submit_many(double_all, 2)
    GATE.set()
    blocker.result(5)
    assert (first.result(5), middle.result(5), last.result(5)) == (2, "plain", 4)
    assert CALLS == [[1], [2]]
    assert order == ["plain after 1 call(s)"]


async def test_write_many_from_the_event_loop(writer: Writer) -> None:
    results = await asyncio.gather(*(writer.write_many(double_all, i) for i in range(20)))
    assert results == [2 * i for i in range(20)]
    assert sum(len(c) for c in CALLS) == 20


async def test_a_caller_that_stops_waiting_is_skipped_and_spares_the_rest(writer: Writer) -> None:
    blocker = writer.submit(hold)
    assert await asyncio.to_thread(HELD.wait, 5)  # the writer took the blocker alone
    tasks = [asyncio.create_task(writer.write_many(double_all, i)) for i in (1, 2, 3)]
    await asyncio.sleep(0.05)  # all three queued behind it
    tasks[1].cancel()
    GATE.set()
    await asyncio.wrap_future(blocker)
    assert [await tasks[0], await tasks[2]] == [2, 6]
    assert tasks[1].cancelled()
    assert CALLS == [[1, 3]]
    assert _mutes(writer) == ["r1", "r3"]


async def test_a_stopped_writer_refuses_with_503(engine: Engine) -> None:
    w = engine.writer()
    w.start()
    w.close()
    with pytest.raises(ServiceUnavailable, match="writer is not running"):
        await w.write_many(double_all, 1)
    with pytest.raises(ServiceUnavailable, match="writer is not running"):
        w.submit(hold).result(1)


# --- intake -------------------------------------------------------------------------------


def _signal(external_id: str, **fields: Any) -> Signal:
    return Signal(external_id=external_id, kind="review", **({"text": "late"} | fields))


def _record(*signals: Signal, source: str = "web", body: str = "{}") -> DeliveryRecord:
    return DeliveryRecord(
        source=source,
        provider="generic",
        received_at="2026-11-20T10:00:00Z",
        body=body,
        headers={"content-type": "application/json", "authorization": "Bearer s3cret"},
        content_type="application/json",
        delivery_id="d-" + "-".join(s.external_id for s in signals),
        signals=signals,
    )


@pytest.fixture
def db(engine: Engine) -> Iterator[Database]:
    conn = engine.migrated()  # the writer creates and migrates the database
    yield conn
    conn.conn.close()


def test_a_retry_in_the_same_batch_is_a_duplicate_of_the_first(db: Database) -> None:
    stored = store_deliveries(
        db,
        [
            _record(_signal("a"), _signal("b")),
            _record(_signal("b"), _signal("c")),  # b: the provider retried alongside
            _record(_signal("a"), source="other"),  # same id, another source: a new signal
        ],
    )
    a, b, c, a_other = (
        db.execute("SELECT id FROM signals WHERE source = ? AND external_id = ?", key).fetchone()[0]
        for key in (("web", "a"), ("web", "b"), ("web", "c"), ("other", "a"))
    )
    assert [(s.ids, s.accepted, s.duplicates, s.new_ids) for s in stored] == [
        ([a, b], 2, 0, [a, b]),
        ([b, c], 1, 1, [c]),
        ([a_other], 1, 0, [a_other]),
    ]
    events = db.execute("SELECT id, accepted, duplicates FROM events ORDER BY id").fetchall()
    assert events == [(s.event_id, s.accepted, s.duplicates) for s in stored]
    # A later batch sees them all as duplicates.
    again = store_deliveries(db, [_record(_signal("c"), _signal("a"))])
    assert (again[0].ids, again[0].accepted, again[0].duplicates) == ([c, a], 0, 2)
    assert db.execute("SELECT count(*) FROM signals").fetchone()[0] == 4


def test_batched_rows_hold_exactly_what_came_in(db: Database, engine: Engine) -> None:
    tricky = 'quote " backslash \\ nul \x00 emoji 😡 persian سلام tab\t newline\n'
    signals = [
        _signal(
            "x1",
            text=tricky,
            title="T",
            rating=1,
            author=Author(name="Ünal", email="U@Example.com", handle="@u"),
            url="https://example.com/r/1",
            channel="web",
            thread_key="t-1",
            metadata={"nested": {"list": [1, 2.5, None, True]}, "s": tricky},
        ),
        _signal("x2", text=None, score=9.5, score_type="nps"),
        _signal("x3", text="x" * 100_000),
    ]
    assert signals[0].text == tricky.replace("\x00", "").strip()  # NUL dropped at the door
    body = '{"whole": "body ' + tricky + '"}'  # the raw body keeps it, byte for byte
    stored = store_deliveries(db, [_record(*signals, body=body)])[0]
    columns = list(signal_row(signals[0], source="", provider="", received_at="", event_id=0))
    for signal, signal_id in zip(signals, stored.ids, strict=True):
        got = db.execute(
            f"SELECT {', '.join(columns)} FROM signals WHERE id = ?", [signal_id]
        ).fetchone()
        expected = signal_row(
            signal,
            source="web",
            provider="generic",
            received_at="2026-11-20T10:00:00Z",
            event_id=stored.event_id,
        )
        assert dict(zip(columns, got, strict=True)) == expected
        if not engine.is_pg:  # SQLite's columns take any type: check what was stored
            types = db.execute(
                "SELECT typeof(rating), typeof(score) FROM signals WHERE id = ?", [signal_id]
            ).fetchone()
            assert types == (
                "integer" if signal.rating is not None else "null",
                "real" if signal.score is not None else "null",
            )
    event = db.execute(
        "SELECT body, headers, delivery_id, outcome FROM events WHERE id = ?", [stored.event_id]
    ).fetchone()
    # PostgreSQL text cannot hold NUL: there the raw body keeps everything else exactly.
    kept = body.replace("\x00", "\ufffd") if engine.is_pg else body
    assert event == (kept, '{"content-type": "application/json"}', "d-x1-x2-x3", "stored")


def test_one_at_a_time_and_batched_store_the_same_rows(engine: Engine) -> None:
    records = [_record(_signal(f"s{i % 7}", rating=1 + i % 5), _signal(f"t{i}")) for i in range(30)]
    dumps = []
    for name, batched in (("one.db", False), ("many.db", True)):
        db = engine.another(name).migrated()
        if batched:
            results = store_deliveries(db, records)
        else:
            results = [store_delivery(db, r) for r in records]
        rows = db.execute("SELECT * FROM signals ORDER BY id").fetchall()
        events = db.execute("SELECT * FROM events ORDER BY id").fetchall()
        rollup = db.execute("SELECT * FROM daily_rollup ORDER BY 1, 2, 3, 4").fetchall()
        fts = (
            db.execute(
                "SELECT id FROM signals WHERE to_tsvector('simple', coalesce(title, '') || ' '"
                " || coalesce(text, '')) @@ to_tsquery('simple', 'late') ORDER BY id"
            ).fetchall()
            if engine.is_pg
            else db.execute("SELECT rowid, text FROM signals_fts ORDER BY rowid").fetchall()
        )
        dumps.append((results, rows, events, rollup, fts))
        db.conn.close()
    assert dumps[0] == dumps[1]
    assert len(dumps[0][1]) == 37  # 7 distinct s-ids + 30 t-ids

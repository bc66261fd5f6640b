"""Retention of raw deliveries (issue 14, defect 4): `prune_events` on a real SQLite file, and the
daily job's loop over bounded steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cxbot.config import RetentionConfig
from cxbot.listener.housekeeping import prune_once
from cxbot.models import Signal, iso_utc
from cxbot.store.intake import DeliveryRecord, store_delivery
from cxbot.store.retention import prune_events
from cxbot.store.writer import Store, connect, migrate

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _deliver(db: object, day: datetime, ext: str) -> None:
    signal = Signal(external_id=ext, kind="review", text="slow", rating=2, created_at=day)
    store_delivery(
        db,  # type: ignore[arg-type]
        DeliveryRecord(
            source="web", provider="generic", received_at=iso_utc(day), body="{}", signals=[signal]
        ),
    )


def test_prune_events_deletes_old_deliveries_and_keeps_their_signals(tmp_path: Path) -> None:
    db = connect(tmp_path / "r.db")
    migrate(db)
    for age in (40, 31, 29, 1):
        _deliver(db, NOW - timedelta(days=age), f"s{age}")
    db.conn.commit()
    assert prune_events(db, NOW - timedelta(days=30), limit=1) == 1
    assert prune_events(db, NOW - timedelta(days=30)) == 1
    assert prune_events(db, NOW - timedelta(days=30)) == 0
    db.conn.commit()
    kept = [r[0] for r in db.execute("SELECT received_at FROM events ORDER BY id").fetchall()]
    assert kept == [iso_utc(NOW - timedelta(days=29)), iso_utc(NOW - timedelta(days=1))]
    signals = db.execute("SELECT external_id, event_id IS NULL FROM signals ORDER BY id").fetchall()
    assert signals == [("s40", 1), ("s31", 1), ("s29", 0), ("s1", 0)]
    db.conn.close()


async def test_the_daily_job_prunes_in_steps_until_done(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    db = connect(path)
    migrate(db)
    for i in range(7):
        _deliver(db, NOW - timedelta(days=60, minutes=i), f"old{i}")
    _deliver(db, NOW, "new")
    db.conn.commit()
    db.conn.close()
    store = Store(path)
    store.open()
    try:
        assert await prune_once(store, RetentionConfig(events_days=30), NOW, step=2) == 7
        assert (
            await prune_once(store, RetentionConfig(events_days=0), NOW + timedelta(days=999)) == 0
        )
        assert await prune_once(store, RetentionConfig(events_days=30), NOW) == 0
        remaining = await store.read(lambda d: d.execute("SELECT count(*) FROM events").fetchone())
        assert remaining == (1,)
    finally:
        store.close()

"""A small data set with hand-computed digest figures (tests/digest/test_digest.py checks them):
signals in 2026-W47 and 2026-W46, Europe/Istanbul (UTC+3 all year), alerts and their answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from cxbot.models import iso_utc


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- a small data set with hand-computed figures --------------------------------------------------

_ids = iter(range(1, 10**6))


def add(db: Database, at: datetime, **fields: Any) -> int:
    row: dict[str, Any] = {
        "source": "appstore",
        "provider": "generic",
        "kind": "review",
        "external_id": str(next(_ids)),
        "created_at": iso_utc(at),
        "received_at": iso_utc(at),
        "sentiment_label": "neutral",
        "topics": "[]",
        **fields,
    }
    row["topics"] = json.dumps(row["topics"]) if isinstance(row["topics"], list) else row["topics"]
    cur = db.execute(
        f"INSERT INTO signals ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})"
        " RETURNING id",
        list(row.values()),
    )
    return int(cur.fetchone()[0])


def review(db: Database, at: datetime, rating: int, sentiment: float, **kw: Any) -> int:
    label = "negative" if sentiment < 0 else "positive"
    return add(db, at, rating=rating, sentiment=sentiment, sentiment_label=label, **kw)


def survey(db: Database, at: datetime, kind: str, *scores: float, **kw: Any) -> None:
    for i, score in enumerate(scores):
        add(
            db,
            at + timedelta(minutes=i),
            source="typeform",
            kind="survey",
            score_type=kind,
            score=score,
            **kw,
        )


def alert(db: Database, signal_id: int, at: datetime, channel: str = "#cx-alerts") -> None:
    db.execute(
        "INSERT INTO outbox (kind, dedup_key, channel, signal_id, status, next_attempt_at,"
        " created_at) VALUES ('alert', ?, ?, ?, 'sent', ?, ?)",
        [f"alert:{signal_id}:{channel}", channel, signal_id, iso_utc(at), iso_utc(at)],
    )


def answered(db: Database, signal_id: int, ack: datetime, resolved: datetime | None) -> None:
    db.execute(
        "UPDATE signals SET acknowledged_at = ?, resolved_at = ? WHERE id = ?",
        [iso_utc(ack), iso_utc(resolved) if resolved else None, signal_id],
    )


def fill(database: Database) -> None:
    """The data set of tests/digest/test_digest.py's docstring, with the figures computed there."""
    w47, w46 = utc(2026, 11, 17, 9), utc(2026, 11, 10, 9)  # Tuesdays, mid-week
    # W47. NPS: 6 promoters, 2 passives, 4 detractors -> (6 - 4) / 12 = +16.7. Two answers sit
    # on the week's local edges: Mon 00:30 and Sun 23:59 Istanbul (both on Sunday in UTC).
    survey(database, w47, "nps", 10, 10, 9, 9, 8, 7)
    survey(database, utc(2026, 11, 15, 21, 30), "nps", 9)
    survey(database, utc(2026, 11, 22, 20, 59), "nps", 9)
    survey(database, w47, "nps", 6, 5, 3, 0, topics=["billing"])
    survey(database, w47, "csat", 5, 4, 4, 2, 1)  # 3 of 5 good: 60%
    survey(database, w47, "ces", 7, 5, 3)  # mean 5.00
    review(database, w47, 5, 0.6)
    review(database, w47, 4, 0.4)
    r3 = review(database, w47, 2, -0.5, topics=["login"], text="Login loops <!channel> *now*")
    r4 = review(database, w47, 1, -0.8, topics=["login"], url="https://apps.example/r/4")
    tickets = {"source": "zendesk", "kind": "ticket", "topics": ["billing"]}
    t1 = add(database, w47, sentiment=-0.7, sentiment_label="negative", **tickets)
    add(database, w47, sentiment=-0.3, sentiment_label="negative", **tickets)
    # W46. NPS: 7 promoters, 2 passives, 1 detractor -> +60. CSAT 3 of 4: 75%. CES 6.00.
    survey(database, w46, "nps", 10, 10, 10, 9, 9, 9, 9, 8, 7, 2)
    survey(database, w46, "csat", 5, 5, 4, 3)
    survey(database, w46, "ces", 6, 6)
    old = review(database, w46, 5, 0.7)
    review(database, w46, 5, 0.5)
    review(database, w46, 2, -0.4)
    add(database, w46, sentiment=0.1, **tickets)
    # Not in either week: Mon 23 Nov 00:00 Istanbul is W48.
    add(database, utc(2026, 11, 22, 21), source="x", kind="mention", sentiment_label="negative")
    # Alerts: three first raised in W47 (one never answered); `old` was alerted in W46.
    for sid in (r3, r4, t1):
        alert(database, sid, w47)
    alert(database, old, w46)
    answered(database, r3, w47 + timedelta(minutes=30), None)
    answered(database, r4, w47 + timedelta(minutes=90), w47 + timedelta(hours=5))
    answered(database, old, w47, w47)
    alert(database, r3, w47 + timedelta(days=1), "#vip")  # a second channel: still one signal

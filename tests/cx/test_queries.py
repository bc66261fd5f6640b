"""Queries against a real SQLite file and a real PostgreSQL database (the `engine` fixture):
the rollup stays exact, windows are exact, lists are right, on both engines alike."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlite_utils import Database

from cxbot.alerts.records import list_mutes, mute_rule, unmute_rule
from cxbot.cx.queries import (
    TopicStats,
    customer_profile,
    fts_query,
    search,
    stats,
    top_negative,
    topic_stats,
)
from cxbot.metrics import COUNT_FIELDS, METRICS, Counts
from cxbot.models import Filters, iso_utc
from cxbot.periods import Window, day_start
from cxbot.store.reads import known_topics, known_values, topic_list
from cxbot.store.rollup import (
    id_bounds,
    plan,
    raw_counts,
    rollup_timezone,
    set_rollup_timezone,
    window_counts,
)
from cxbot.store.writer import migrate
from tests.kit.postgres import Engine

NY = ZoneInfo("America/New_York")
IST = ZoneInfo("Europe/Istanbul")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
EVERYTHING = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


@pytest.fixture
def db(engine: Engine) -> Iterator[Database]:
    database = engine.connect()
    migrate(database)
    yield database
    database.conn.close()


_seq = iter(range(1, 10**9))


def add(db: Database, created_at: datetime, **fields: Any) -> int:
    row: dict[str, Any] = {
        "source": "appstore",
        "provider": "generic",
        "kind": "review",
        "external_id": str(next(_seq)),
        "created_at": iso_utc(created_at),
        "received_at": iso_utc(created_at),
        "lang": "en",
        "sentiment_label": "neutral",
        "topics": "[]",
    }
    row.update(fields)
    if isinstance(row["topics"], list):
        row["topics"] = json.dumps(row["topics"])
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    sql = f"INSERT INTO signals ({cols}) VALUES ({marks}) RETURNING id"
    return int(db.execute(sql, list(row.values())).fetchone()[0])


def assert_same(a: Counts, b: Counts) -> None:
    for f in COUNT_FIELDS:
        assert getattr(a, f) == pytest.approx(getattr(b, f), abs=1e-9), f


def random_signals(
    db: Database, rnd: random.Random, n: int, start: datetime, span: timedelta
) -> list[int]:
    ids = []
    for _ in range(n):
        kind = rnd.choice(["review", "survey", "ticket", "mention"])
        fields: dict[str, Any] = {
            "source": rnd.choice(["appstore", "zendesk", "typeform"]),
            "kind": kind,
            "lang": rnd.choice(["en", "de", None]),
            "sentiment_label": rnd.choice(["negative", "neutral", "positive", "unscored", None]),
            "sentiment": rnd.choice([None, round(rnd.uniform(-1, 1), 3)]),
            "topics": rnd.choice(
                [
                    [],
                    ["billing"],
                    ["billing", "login"],
                    ["login", "login"],
                    "not json",
                    '{"a": "b"}',
                    ["billing", 3],
                ]
            ),
        }
        if kind == "review":
            fields["rating"] = rnd.randint(1, 5)
        if kind == "survey":
            st = rnd.choice(["nps", "csat", "ces"])
            top = {"nps": 10, "csat": 5, "ces": 7}[st]
            fields.update(score_type=st, score=float(rnd.randint(0 if st == "nps" else 1, top)))
        created = start + timedelta(seconds=rnd.randint(0, int(span.total_seconds())))
        ids.append(add(db, created, **fields))
    return ids


def test_migrations_apply_once(db: Database) -> None:
    assert migrate(db) == []
    assert rollup_timezone(db).key == "UTC"


def test_rollup_matches_raw_after_inserts_updates_deletes(db: Database) -> None:
    rnd = random.Random(3)
    start = datetime(2026, 10, 25, tzinfo=UTC)  # across the end of DST in New York
    ids = random_signals(db, rnd, 300, start, timedelta(days=14))
    for i in rnd.sample(ids, 80):  # enrichment, re-labelling and edits
        db.execute(
            "UPDATE signals SET sentiment_label = 'negative', sentiment = -0.5,"
            " topics = '[\"shipping\"]', lang = 'fr' WHERE id = ?",
            [i],
        )
    for i in rnd.sample(ids, 20):
        db.execute(
            "UPDATE signals SET created_at = ? WHERE id = ?",
            [iso_utc(start + timedelta(days=rnd.randint(0, 13))), i],
        )
    for i in rnd.sample(ids, 30):
        db.execute("DELETE FROM signals WHERE id = ?", [i])
    db.execute("UPDATE signals SET status = 'resolved'")  # not a watched column: no change
    for tz in (None, NY, IST):
        if tz is not None:
            assert set_rollup_timezone(db, tz)
        for topic in (None, "billing", "login", "shipping"):
            for extra in ({}, {"source": "typeform"}, {"kind": "review", "lang": "de"}):
                f = Filters(topic=topic, **extra)
                whole = window_counts(db, [EVERYTHING], f)[0]
                assert_same(whole, raw_counts(db, *EVERYTHING, f))
        # Day by day, in the rollup's zone, too.
        zone = rollup_timezone(db)
        d = start.astimezone(zone).date()
        for _ in range(15):
            a, b = day_start(d, zone), day_start(d + timedelta(days=1), zone)
            assert plan(a, b, zone).raws == ()
            assert_same(window_counts(db, [(a, b)], Filters())[0], raw_counts(db, a, b, Filters()))
            d += timedelta(days=1)
    assert not set_rollup_timezone(db, IST)  # same zone: nothing to do
    # Every signal's id lies within the id bounds of its day.
    for sid, created in db.execute("SELECT id, created_at FROM signals").fetchall():
        at = datetime.fromisoformat(created)
        bounds = id_bounds(db, at, at + timedelta(microseconds=1))
        assert bounds is not None and bounds[0] <= sid <= bounds[1]


def test_topics_counted_once_per_signal(db: Database) -> None:
    add(db, NOW - timedelta(hours=1), topics=["login", "login", "billing"])
    add(db, NOW - timedelta(hours=1), topics="not json")
    f = Filters(topic="login")
    assert window_counts(db, [EVERYTHING], f)[0].n == 1
    assert raw_counts(db, *EVERYTHING, f).n == 1
    assert known_topics(db) == ["billing", "login"]


def test_random_windows_are_exact(db: Database) -> None:
    rnd = random.Random(11)
    start = datetime(2026, 3, 1, tzinfo=UTC)  # New York's DST starts on 8 March
    random_signals(db, rnd, 400, start, timedelta(days=20))
    set_rollup_timezone(db, NY)
    windows = []
    for _ in range(60):
        a = start + timedelta(minutes=rnd.randint(0, 20 * 1440))
        b = a + timedelta(minutes=rnd.choice([1, 90, 700, 1440, 3000, 9000, 20000]))
        windows.append((a, b))
    for f in (Filters(), Filters(source="zendesk"), Filters(topic="billing", lang="en")):
        got = window_counts(db, windows, f)
        for (a, b), counts in zip(windows, got, strict=True):
            assert_same(counts, raw_counts(db, a, b, f))


def test_plan_reads_the_cheaper_side_of_partial_days() -> None:
    d0 = day_start(datetime(2026, 11, 2).date(), NY)
    h = timedelta(hours=1)
    # Whole days: rollup only.
    p = plan(d0, d0 + 48 * h, NY)
    assert p.days is not None and p.raws == ()
    # Starting 2 hours into a day: read the day minus its first 2 hours.
    p = plan(d0 + 2 * h, d0 + 48 * h, NY)
    assert p.raws == ((d0, d0 + 2 * h, -1),)
    # Starting 20 hours in: read just the 4 hours inside.
    p = plan(d0 + 20 * h, d0 + 48 * h, NY)
    assert p.raws == ((d0 + 20 * h, d0 + 24 * h, 1),)
    # Inside one day: raw when short, day minus both sides when long.
    assert plan(d0 + h, d0 + 3 * h, NY).days is None
    p = plan(d0 + h, d0 + 23 * h, NY)
    assert p.days is not None and [r[2] for r in p.raws] == [-1, -1]
    assert plan(d0, d0, NY) == plan(d0 + h, d0, NY)


def test_stats_hand_computed(db: Database) -> None:
    set_rollup_timezone(db, IST)
    t = NOW - timedelta(days=2)
    for score in (10, 9, 7, 3):
        add(db, t, source="typeform", kind="survey", score_type="nps", score=float(score))
    for score in (5, 4, 2):
        add(db, t, source="typeform", kind="survey", score_type="csat", score=float(score))
    add(db, t, source="typeform", kind="survey", score_type="ces", score=6.0)
    add(db, t, source="typeform", kind="survey", score_type="ces", score=3.0)
    add(db, t, rating=5, sentiment_label="positive", sentiment=0.8)
    add(db, t, rating=2, sentiment_label="negative", sentiment=-0.6)
    add(db, NOW - timedelta(days=9), rating=1, sentiment_label="negative")  # previous period
    window = Window(NOW - timedelta(days=7), NOW, "last 7 days")
    prev = Window(NOW - timedelta(days=14), window.start, "previous")
    s = stats(db, window, prev, Filters())
    c = s.current
    assert c.n == 11
    assert METRICS["nps"].value(c) == 25.0  # (2 - 1) / 4
    assert METRICS["csat"].value(c) == pytest.approx(200 / 3)
    assert METRICS["ces"].value(c) == 4.5
    assert METRICS["rating"].value(c) == 3.5
    assert METRICS["sentiment"].value(c) == pytest.approx(0.1)
    assert (c.negative, c.neutral, c.positive) == (1, 9, 1)
    assert s.before is not None and s.before.n == 1 and s.before.rating_sum == 1
    only = stats(db, window, None, Filters(source="typeform", kind="survey"))
    assert only.current.n == 9 and only.before is None


def test_trend_buckets_add_up(db: Database) -> None:
    from cxbot.periods import buckets

    set_rollup_timezone(db, IST)
    rnd = random.Random(5)
    random_signals(db, rnd, 200, NOW - timedelta(days=30), timedelta(days=30))
    window = Window(NOW - timedelta(days=30), NOW, "")
    s = stats(db, window, None, Filters(), buckets(window, IST))
    assert sum(b.n for b in s.trend) == s.current.n == 200


def test_topic_stats_rank_and_compare(db: Database) -> None:
    for _ in range(6):
        add(db, NOW - timedelta(days=1), topics=["billing"], sentiment_label="negative")
    for _ in range(2):
        add(db, NOW - timedelta(days=1), topics=["login"])
        add(db, NOW - timedelta(days=10), topics=["login", "billing"])
    window = Window(NOW - timedelta(days=7), NOW, "")
    prev = Window(NOW - timedelta(days=14), window.start, "")
    rows = topic_stats(db, window, prev, Filters())
    assert rows == [TopicStats("billing", 6, 6, 2, 0), TopicStats("login", 2, 0, 2, 0)]
    assert topic_stats(db, window, prev, Filters(topic="login")) == [rows[1]]
    assert topic_stats(db, window, None, Filters(source="zendesk")) == []


def test_topic_stats_match_topic_filters_on_random_windows(db: Database) -> None:
    rnd = random.Random(8)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    random_signals(db, rnd, 400, start, timedelta(days=20))
    set_rollup_timezone(db, NY)
    for _ in range(15):
        a = start + timedelta(minutes=rnd.randint(0, 20 * 1440))
        w = Window(a, a + timedelta(minutes=rnd.choice([90, 1440, 5000, 12000])), "")
        p = Window(w.start - w.duration, w.start, "")
        for f in (Filters(), Filters(lang="de"), Filters(source="appstore")):
            for r in topic_stats(db, w, p, f):
                for win, n, neg in ((w, r.n, r.negative), (p, r.before_n, r.before_negative)):
                    c = raw_counts(db, win.start, win.end, Filters(topic=r.topic, **_no_topic(f)))
                    assert (n, neg) == (c.n, c.negative)


def _no_topic(f: Filters) -> dict[str, str]:
    return {k: v for k, v in f.items() if k != "topic"}


def test_topic_list_reads_like_json_each() -> None:
    assert topic_list('["a", "b", "a", 3, "", null]') == ["a", "b"]
    assert topic_list('{"x": "a"}') == ["a"] and topic_list('"a"') == ["a"]
    assert topic_list("not json") == [] and topic_list(None) == []


def test_top_negative_worst_first(db: Database) -> None:
    t = NOW - timedelta(hours=5)
    mild = add(db, t, sentiment_label="negative", sentiment=-0.3, rating=None)
    star1 = add(db, t - timedelta(minutes=1), sentiment_label="negative", sentiment=-0.2, rating=1)
    words = add(db, t - timedelta(hours=1), sentiment_label="negative", sentiment=-0.9)
    add(db, t, sentiment_label="positive", sentiment=0.9)
    old = add(db, NOW - timedelta(days=30), sentiment_label="negative", sentiment=-1.0)
    detractor = add(
        db,
        t,
        kind="survey",
        source="typeform",
        score_type="nps",
        score=0.0,
        sentiment_label="negative",
    )
    window = Window(NOW - timedelta(days=7), NOW, "")
    rows = top_negative(db, window, Filters())
    # Ties at -1 (1 star, NPS 0): newest first.
    assert [r.id for r in rows] == [detractor, star1, words, mild]
    assert [r.id for r in top_negative(db, window, Filters(source="typeform"))] == [detractor]
    assert len(top_negative(db, window, Filters(), limit=2)) == 2
    # A long period walks the severity index instead: the same order.
    long = Window(NOW - timedelta(days=20), NOW, "")
    assert [r.id for r in top_negative(db, long, Filters())] == [detractor, star1, words, mild]
    quarter = Window(NOW - timedelta(days=90), NOW, "")
    assert [r.id for r in top_negative(db, quarter, Filters())] == [
        detractor,
        star1,
        old,
        words,
        mild,
    ]
    assert [r.id for r in top_negative(db, quarter, Filters(kind="survey"))] == [detractor]


HOSTILE = [
    '"',
    "*",
    "NEAR(",
    "-",
    "(",
    ")",
    "AND",
    "OR",
    "NOT",
    '"refund',
    'refund"',
    'a"b',
    "^",
    "title:",
    ":",
    "refund*",
    "-refund",
    "😀",
    "پول",
    "{x}",
    "'",
    ";",
    "\\",
    "NEAR",
    "(refund",
    "col:refund",
    '""',
    "+",
]


def test_search_newest_first_and_safe(db: Database) -> None:
    old = add(db, NOW - timedelta(days=40), text="I want a refund now")
    new = add(db, NOW - timedelta(days=1), text="Refund please, the app crashed", title="Bad")
    add(db, NOW - timedelta(days=1), text="all good")
    fa = add(db, NOW - timedelta(days=2), text="پول من را برگردانید لطفا", lang="fa")
    r = search(db, ["refund"], None, Filters())
    assert [s.id for s in r.rows] == [new, old] and not r.more
    assert r.rows[0].text is not None and "\x02Refund\x03" in r.rows[0].text
    week = Window(NOW - timedelta(days=7), NOW, "")
    assert [s.id for s in search(db, ["refund"], week, Filters()).rows] == [new]
    assert search(db, ["refund"], None, Filters(source="zendesk")).rows == []
    assert search(db, ["refund"], None, Filters(), limit=1).more
    assert [s.id for s in search(db, ["پول"], None, Filters()).rows] == [fa]
    for word in HOSTILE:
        search(db, [word], None, Filters())  # never raises
        search(db, [word, "refund"], week, Filters(topic="x"))
    assert search(db, ["NEAR(", "refund"], None, Filters()).rows == []  # "near" is a word too
    assert [s.id for s in search(db, ["refund", "*"], None, Filters()).rows] == [new, old]
    assert search(db, ["😀", "-"], None, Filters()).match is None


def test_search_orders_by_the_signals_own_time(db: Database) -> None:
    today = add(db, NOW - timedelta(hours=1), text="refund today")
    also_today = add(db, NOW - timedelta(hours=1), text="refund same hour")
    # A backfill arrives after today's signal: newer ids, older dates, out of order.
    last_year = add(db, NOW - timedelta(days=365), text="refund last year")
    last_week = add(db, NOW - timedelta(days=7), text="refund last week")
    order = [also_today, today, last_week, last_year]  # ties: the later arrival first
    assert [s.id for s in search(db, ["refund"], None, Filters()).rows] == order
    first = search(db, ["refund"], None, Filters(), limit=1)
    assert [s.id for s in first.rows] == [also_today] and first.more
    year = Window(NOW - timedelta(days=400), NOW, "")
    assert [s.id for s in search(db, ["refund"], year, Filters(), limit=3).rows] == order[:3]


def test_search_in_a_window_finds_backfilled_and_moved_signals(db: Database) -> None:
    old = add(db, NOW - timedelta(days=40), text="refund one")
    add(db, NOW - timedelta(days=1), text="refund two")
    back = add(db, NOW - timedelta(days=39), text="refund backfilled")  # newer id, old date
    moved = add(db, NOW - timedelta(days=1), text="refund moved")
    gone = add(db, NOW - timedelta(days=41), text="refund deleted")
    db.execute(
        "UPDATE signals SET created_at = ? WHERE id = ?",
        [iso_utc(NOW - timedelta(days=38)), moved],
    )
    db.execute("DELETE FROM signals WHERE id = ?", [gone])
    window = Window(NOW - timedelta(days=45), NOW - timedelta(days=30), "")
    for zone in (IST, NY):
        set_rollup_timezone(db, zone)
        assert [s.id for s in search(db, ["refund"], window, Filters()).rows] == [moved, back, old]
    empty = Window(NOW - timedelta(days=100), NOW - timedelta(days=90), "")
    assert id_bounds(db, empty.start, empty.end) is None
    assert search(db, ["refund"], empty, Filters()).rows == []


def test_fts_query_quotes_every_word() -> None:
    assert fts_query(["refund", 'a"b', "NEAR(", "*"]) == '"refund" "a""b" "NEAR("'
    assert fts_query(["*", "-", "😀"]) is None


def _customer(db: Database, email: str, handle: str) -> int:
    cid = int(
        db.execute(
            "INSERT INTO customers (email, name, first_seen, last_seen, signal_count, avg_sentiment)"
            " VALUES (?, 'Ana', ?, ?, 3, -0.2) RETURNING id",
            [email, iso_utc(NOW - timedelta(days=90)), iso_utc(NOW - timedelta(days=1))],
        ).fetchone()[0]
    )
    db.execute(
        "INSERT INTO customer_handles (provider, handle, customer_id) VALUES ('x', ?, ?)",
        [handle, cid],
    )
    return cid


def test_customer_profile(db: Database) -> None:
    cid = _customer(db, "ana@example.com", "@ana")
    other = _customer(db, "bob@example.com", "bob")
    a = add(
        db, NOW - timedelta(days=90), customer_id=cid, sentiment=-0.5, sentiment_label="negative"
    )
    b = add(
        db, NOW - timedelta(days=2), customer_id=cid, source="zendesk", kind="ticket", sentiment=0.1
    )
    add(
        db,
        NOW - timedelta(days=1),
        customer_id=cid,
        source="zendesk",
        kind="ticket",
        status="resolved",
    )
    add(db, NOW - timedelta(days=1), customer_id=other)
    for sid, status in ((a, "sent"), (b, "failed")):
        db.execute(
            "INSERT INTO outbox (kind, dedup_key, channel, signal_id, rules, status,"
            " next_attempt_at, created_at) VALUES ('alert', ?, '#cx', ?, '[\"bad\"]', ?,"
            " ?, ?)",
            [f"k{sid}", sid, status, iso_utc(NOW), iso_utc(NOW)],
        )
    since = NOW - timedelta(days=366)
    for who in ("ana@example.com", "ANA@example.com", "@ana", "ana"):
        p = customer_profile(db, who, since=since)
        assert p is not None and p.id == cid, who
    p = customer_profile(db, "@ana", since=since)
    assert p is not None
    assert [(c.source, c.n, c.negative) for c in p.channels] == [
        ("zendesk", 2, 0),
        ("appstore", 1, 1),
    ]
    assert p.open_alert_count == 2 and {x.signal.id for x in p.open_alerts} == {a, b}
    assert p.open_alerts[0].rules == ["bad"]
    assert [pt[1] for pt in p.sentiment_points] == [-0.5, 0.1]
    assert len(p.recent) == 3 and p.handles == [("x", "@ana")]
    db.execute("UPDATE signals SET status = 'resolved' WHERE id = ?", [a])
    p2 = customer_profile(db, "ana@example.com", since=since)
    assert p2 is not None and p2.open_alert_count == 1
    assert customer_profile(db, "@bob", since=since) is not None
    assert customer_profile(db, "nobody@example.com", since=since) is None
    assert customer_profile(db, "@nobody", since=since) is None


def test_known_values(db: Database) -> None:
    add(db, NOW, source="zendesk", kind="ticket")
    add(db, NOW, source="appstore")
    assert known_values(db, "source") == ["appstore", "zendesk"]
    assert known_values(db, "kind") == ["review", "ticket"]
    assert known_values(db, "text; DROP TABLE signals") == []


def test_mutes(db: Database) -> None:
    until = NOW + timedelta(hours=2)
    mute_rule(db, "bad-review", until, "U1", NOW)
    mute_rule(db, "bad-review", NOW + timedelta(hours=5), "U2", NOW)  # again: replaces
    mute_rule(db, "old", NOW - timedelta(hours=1), "U1", NOW - timedelta(hours=3))
    mutes = list_mutes(db, NOW)
    assert [(m.rule, m.until, m.muted_by) for m in mutes] == [
        ("bad-review", iso_utc(NOW + timedelta(hours=5)), "U2")
    ]
    assert unmute_rule(db, "bad-review", NOW) is True
    assert unmute_rule(db, "bad-review", NOW) is False
    assert unmute_rule(db, "old", NOW) is False  # expired: removed, but was not in force
    assert list_mutes(db, NOW) == []

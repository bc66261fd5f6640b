"""`/cx` latency on big databases: generate N signals over two years, then time `ask`.

For each N it builds a fresh SQLite file through the real migrations (rollup triggers and FTS
included), fills it with executemany in large transactions (synchronous=OFF while generating;
the FTS and rollup triggers are set aside during the bulk load and the FTS index and the rollup
rebuilt after it, then the triggers put back, which is much faster than row by row), then
times each query end to end (parse, query, render) on a read-only connection as the reader
thread uses it, with `now` moved a little between runs so partial-day edges vary. Prints the
generation time, DB size, p50/p99 per query, and the write cost of the rollup triggers.

    python benchmarks/queries.py                      # 1M and 10M
    python benchmarks/queries.py --rows 1000000 --runs 50 --dir /tmp/cxbench --keep
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlite_utils import Database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cxbot.cx.ask import ask  # noqa: E402
from cxbot.models import iso_utc  # noqa: E402
from cxbot.store.rollup import rebuild_rollup, set_rollup_timezone
from cxbot.store.writer import connect, migrate  # noqa: E402

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SPAN = timedelta(days=730)
# (source, kind, share, score types): ids grow with time, as they do when signals arrive live.
SOURCES = [
    ("appstore", "review", 25),
    ("playstore", "review", 15),
    ("trustpilot", "review", 10),
    ("zendesk", "ticket", 20),
    ("intercom", "message", 10),
    ("typeform", "survey", 12),
    ("x", "mention", 8),
]
LANGS = [("en", 60), ("de", 10), ("fr", 8), ("es", 7), ("tr", 6), ("fa", 4), ("pt", 3), ("it", 2)]
TOPICS = [
    "billing",
    "shipping",
    "login",
    "checkout",
    "performance",
    "support",
    "pricing",
    "refunds",
    "onboarding",
    "notifications",
    "search",
    "privacy",
]
WORDS = (
    "the app order account delivery support team update screen payment card time help "
    "week issue problem great love slow fast crash email password store price plan feature "
    "again still never always thanks please broken works easy hard waiting days"
).split()
COLUMNS = (
    "source",
    "provider",
    "kind",
    "external_id",
    "customer_id",
    "author_name",
    "author_email",
    "title",
    "text",
    "rating",
    "score",
    "score_type",
    "url",
    "created_at",
    "received_at",
    "lang",
    "sentiment",
    "sentiment_label",
    "topics",
    "enriched_at",
)


def _cumulative(weights: list[int]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


SOURCE_CUM = _cumulative([s[2] for s in SOURCES])
LANG_CUM = _cumulative([w for _, w in LANGS])
RATING_CUM = _cumulative([12, 8, 10, 25, 45])
TOPIC_COUNT_CUM = _cumulative([30, 40, 20, 10])


BATCH = 50_000
_POOL: list[tuple[str, str]] = []


def _texts() -> list[tuple[str, str]]:
    """A pool of texts (3% mention "refund"): cheap to draw from, realistic FTS doclists."""
    if not _POOL:
        rnd = random.Random(99)
        for _ in range(20_000):
            words = rnd.choices(WORDS, k=rnd.randint(8, 30))
            if rnd.random() < 0.03:
                words.insert(rnd.randrange(len(words)), "refund")
            _POOL.append((" ".join(words[:5]), " ".join(words)))
    return _POOL


Batch = tuple[list[tuple[object, ...]], dict[int, tuple[str, str, int]]]


def _make_batch(job: tuple[int, int, int, int]) -> Batch:
    """Rows first..first+BATCH of n (deterministic), and (first, last, count) per customer."""
    index, n, customers, seed = job
    rnd = random.Random(seed * 1_000_003 + index)
    pool = _texts()
    start = NOW - SPAN
    step = SPAN / n
    rows: list[tuple[object, ...]] = []
    seen: dict[int, tuple[str, str, int]] = {}
    for i in range(index * BATCH, min(n, (index + 1) * BATCH)):
        stamp = iso_utc(start + step * i)
        source, kind, _ = rnd.choices(SOURCES, cum_weights=SOURCE_CUM)[0]
        lang = rnd.choices(LANGS, cum_weights=LANG_CUM)[0][0]
        rating = score = score_type = None
        if kind == "review":
            rating = rnd.choices((1, 2, 3, 4, 5), cum_weights=RATING_CUM)[0]
        if kind == "survey":
            score_type = rnd.choices(("nps", "csat", "ces"), (60, 25, 15))[0]
            top = {"nps": 10, "csat": 5, "ces": 7}[score_type]
            score = float(rnd.randint(0 if score_type == "nps" else 1, top))
        sentiment: float | None = max(-1.0, min(1.0, rnd.gauss(0.15, 0.5)))
        if rnd.random() < 0.03:
            sentiment = None
        if sentiment is None:
            label = "unscored"
        else:
            label = "negative" if sentiment < -0.2 else "positive" if sentiment > 0.2 else "neutral"
        title, text = pool[int(rnd.random() * len(pool))]
        topics = rnd.sample(TOPICS, rnd.choices((0, 1, 2, 3), cum_weights=TOPIC_COUNT_CUM)[0])
        cid = None
        if rnd.random() < 0.6:  # a heavy-tailed customer: a few have hundreds of signals
            cid = 1 + int(customers * rnd.random() ** 1.5)
            first, _, count = seen.get(cid, (stamp, stamp, 0))
            seen[cid] = (first, stamp, count + 1)
        rows.append((
            source, source, kind, str(i), cid, f"User {cid}" if cid else None,
            f"user{cid}@example.com" if cid else None,
            title if kind in ("review", "ticket") else None, text, rating, score, score_type,
            f"https://example.com/{source}/{i}", stamp, stamp, lang, sentiment, label,
            json.dumps(topics), stamp,
        ))  # fmt: skip
    return rows, seen


def generate(path: Path, n: int, tz: ZoneInfo, seed: int = 7) -> dict[str, float]:
    db = connect(path)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1000000")
    db.execute("PRAGMA temp_store = MEMORY")
    migrate(db)
    set_rollup_timezone(db, tz)
    triggers = dict(
        db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'signals'"
        ).fetchall()
    )
    for name in triggers:
        db.execute(f"DROP TRIGGER {name}")
    customers = max(100, n // 20)
    totals: dict[int, tuple[str, str, int]] = {}
    sql = f"INSERT INTO signals ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
    began = time.perf_counter()
    jobs = ((i, n, customers, seed) for i in range((n + BATCH - 1) // BATCH))
    # One process makes rows while this one inserts them: the box has two cores.
    with multiprocessing.get_context("fork").Pool(1) as maker:
        for done, (rows, seen) in enumerate(maker.imap(_make_batch, jobs), 1):
            for cid, (first, last, count) in seen.items():
                before = totals.get(cid)
                totals[cid] = (
                    (before[0], last, before[2] + count) if before else (first, last, count)
                )
            _flush(db, sql, rows, {c: totals[c] for c in seen})
            if done * BATCH % 1_000_000 == 0:
                rate = done * BATCH / (time.perf_counter() - began)
                print(f"  … {done * BATCH:,} signals ({rate:,.0f}/s)", file=sys.stderr, flush=True)
    times = {"load": time.perf_counter() - began}
    began = time.perf_counter()
    db.execute("INSERT INTO signals_fts (signals_fts) VALUES ('rebuild')")
    times["fts rebuild"] = time.perf_counter() - began
    began = time.perf_counter()
    with db.atomic():
        rebuild_rollup(db)
    times["rollup rebuild"] = time.perf_counter() - began
    for statement in triggers.values():
        db.execute(statement)
    db.execute("PRAGMA optimize")
    db.conn.close()
    return times


def _flush(
    db: Database,
    sql: str,
    rows: list[tuple[object, ...]],
    customers: dict[int, tuple[str, str, int]],
) -> None:
    conn = db.conn
    conn.execute("BEGIN")
    # Customers referenced by this batch must exist first (foreign keys are on).
    conn.executemany(
        "INSERT INTO customers (id, email, name, first_seen, last_seen, signal_count)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen,"
        " signal_count = excluded.signal_count",
        [(c, f"user{c}@example.com", f"User {c}", *v) for c, v in customers.items()],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO customer_handles (provider, handle, customer_id) VALUES (?, ?, ?)",
        [("x", f"@user{c}", c) for c in customers],
    )
    conn.executemany(sql, rows)
    conn.execute("COMMIT")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def time_queries(
    path: Path, tz: ZoneInfo, runs: int, n: int
) -> list[tuple[str, float, float, float]]:
    db = connect(path, readonly=True)
    rnd = random.Random(1)
    heavy = db.execute("SELECT id FROM customers ORDER BY signal_count DESC LIMIT 1").fetchone()[0]
    customers = max(100, n // 20)
    queries = [
        "summary 7d",
        "summary 90d",
        "nps 365d source:typeform",
        "search refund",
        "customer",
        "summary this week",
        "csat 30d",
        "sentiment 30d topic:billing",
        "topics 30d",
        "top negative 7d",
        "search refund 30d kind:ticket",
        "search refund 24h",
        "search refund 2025-01-01..2025-01-31",
        "summary 365d",
        "nps 365d",
        "topics 90d",
        "top negative 90d",
    ]
    results = []
    for q in queries:
        times = []
        for r in range(runs + 2):
            now = NOW - timedelta(minutes=rnd.randint(0, 24 * 60))
            text = q
            if q == "customer":  # the heaviest customer on every 5th run, else a random one
                cid = heavy if r % 5 == 0 else rnd.randint(1, customers)
                text = f"customer user{cid}@example.com" if r % 2 else f"customer @user{cid}"
            began = time.perf_counter()
            reply = ask(db, text, now=now, tz=tz)
            elapsed = (time.perf_counter() - began) * 1000
            if r >= 2:  # two warm-up runs
                times.append(elapsed)
            if r == 2 and "Sorry" in getattr(reply, "text", ""):
                print(f"  ! {q}: {reply}", file=sys.stderr)
        results.append((q, statistics.median(times), percentile(times, 0.99), max(times)))
    db.conn.close()
    return results


def trigger_cost(tmp: Path, n: int = 50_000, repeat: int = 3) -> dict[str, float]:
    """µs per signal to insert and to enrich (update), with and without the rollup triggers,
    with SQLite's default temp_store (statement journals in files) and temp_store=MEMORY.
    Each figure is the median of `repeat` fresh databases (single runs are noisy)."""
    samples: dict[str, list[float]] = {}
    rows = [
        ("web", "generic", "review", str(i), f"some text number {i}", 3,
         iso_utc(NOW - timedelta(seconds=n - i)), "x")
        for i in range(n)
    ]  # fmt: skip
    for _ in range(repeat):
        for memory in (False, True):
            for with_rollup in (False, True):
                key = ("with rollup" if with_rollup else "without rollup") + (
                    ", temp_store=MEMORY" if memory else ""
                )
                insert, enrich = _write_cost(tmp / "triggers.db", rows, with_rollup, memory)
                samples.setdefault(f"insert {key}", []).append(insert)
                samples.setdefault(f"enrich {key}", []).append(enrich)
    return {k: statistics.median(v) for k, v in sorted(samples.items())}


def _write_cost(
    path: Path, rows: Sequence[tuple[object, ...]], with_rollup: bool, memory: bool
) -> tuple[float, float]:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    db = connect(path)
    migrate(db)
    if memory:
        db.execute("PRAGMA temp_store = MEMORY")
    if not with_rollup:
        for name in ("signals_rollup_insert", "signals_rollup_update", "signals_rollup_delete"):
            db.execute(f"DROP TRIGGER {name}")
    began = time.perf_counter()
    db.execute("BEGIN")
    db.conn.executemany(
        "INSERT INTO signals (source, provider, kind, external_id, text,"
        " rating, created_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.execute("COMMIT")
    insert = (time.perf_counter() - began) / len(rows) * 1e6
    began = time.perf_counter()
    db.execute("BEGIN")
    # What enrichment does to each new signal: language, sentiment, label, two topics.
    db.conn.executemany(
        "UPDATE signals SET lang = 'en', sentiment = 0.3, sentiment_label ="
        " 'positive', topics = '[\"billing\",\"login\"]' WHERE id = ?",
        [(i + 1,) for i in range(len(rows))],
    )
    db.execute("COMMIT")
    enrich = (time.perf_counter() - began) / len(rows) * 1e6
    db.conn.close()
    return insert, enrich


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="signals (repeatable)")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/cxbench"))
    parser.add_argument("--tz", default="Europe/Istanbul")
    parser.add_argument("--keep", action="store_true", help="reuse an existing DB of that size")
    args = parser.parse_args()
    tz = ZoneInfo(args.tz)
    args.dir.mkdir(parents=True, exist_ok=True)
    for n in args.rows or [1_000_000, 10_000_000]:
        path = args.dir / f"signals-{n}.db"
        if not (args.keep and path.exists()):
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
            times = generate(path, n, tz)
            total = sum(times.values())
            parts = ", ".join(f"{k} {v:,.0f} s" for k, v in times.items())
            print(f"\n{n:,} signals: generated in {total:,.0f} s ({parts})")
        else:
            print(f"\n{n:,} signals: reusing {path}")
        size = sum(
            Path(str(path) + s).stat().st_size for s in ("", "-wal") if Path(str(path) + s).exists()
        )
        print(f"database size {size / 2**30:.2f} GiB; timezone {tz.key}; {args.runs} runs each")
        print(f"{'query':<40} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for q, p50, p99, worst in time_queries(path, tz, args.runs, n):
            print(f"{q:<40} {p50:>8.1f} {p99:>8.1f} {worst:>8.1f}", flush=True)
    print("\nwrite cost per signal (µs, median of 3), 50k signals in one transaction:")
    for name, micros in trigger_cost(args.dir).items():
        print(f"  {name:<44} {micros:>7.1f}")


if __name__ == "__main__":
    main()

"""`cxbot db copy` on a large SQLite database: its time, and `/cx` answers before and after.

Builds an SQLite database of N signals (stored through intake, enrichment columns written as
the enrichment stage writes them: varied languages, sentiment, topics, ratings and scores,
over a year), copies it into the given empty PostgreSQL database with `cxbot db copy`, and
compares the answers of a set of `/cx` questions on both engines: they must be identical.

    python benchmarks/db_copy.py --database-url postgresql://… [--signals 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cxbot.config import load_settings
from cxbot.cx.ask import answer
from cxbot.enrich.rows import write_enrichment
from cxbot.models import Author, Signal, iso_utc
from cxbot.store.intake import DeliveryRecord, store_deliveries
from cxbot.store.writer import Store, Writer, writer_for

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
QUESTIONS = [
    "summary last 30 days",
    "summary last 365 days",
    "summary this week",
    "nps last 90 days",
    "rating last 90 days source:appstore",
    "sentiment last 30 days lang:de",
    "topics last 30 days",
    "top negative last 7 days",
    "top negative last 365 days",
    "search refund last 30 days",
    "volume last 365 days kind:review",
]
TOPICS = [[], ["billing"], ["billing", "login"], ["shipping"], ["app", "login"]]


def build(path: Path, n: int, seed: int = 3) -> None:
    rnd = random.Random(seed)
    writer = Writer(path, synchronous="normal")
    writer.start()
    try:
        for start in range(0, n, 2000):
            recs, enrich = [], []
            signals = []
            for i in range(start, min(n, start + 2000)):
                kind = rnd.choice(["review", "ticket", "survey", "mention"])
                fields: dict[str, object] = {}
                if kind == "review":
                    fields["rating"] = rnd.randint(1, 5)
                if kind == "survey":
                    fields.update(score=float(rnd.randint(0, 10)), score_type="nps")
                created = NOW - timedelta(seconds=rnd.randint(0, 365 * 86400))
                signals.append(Signal(
                    external_id=f"s{i}", kind=kind, created_at=created,
                    text=rnd.choice(["refund please", "late again", "great app", "login broken"]),
                    author=Author(email=f"user{i % 3000}@example.com"), **fields,  # type: ignore[arg-type]
                ))  # fmt: skip
            source = rnd.choice(["appstore", "zendesk", "typeform"])
            recs.append(DeliveryRecord(source, "generic", iso_utc(NOW), "{}", signals=signals))
            stored = writer.submit(lambda db, r=recs: store_deliveries(db, r)).result()
            for signal_id in stored[0].ids:
                label = rnd.choice(["negative", "neutral", "positive", "unscored"])
                value = None if label == "unscored" else round(rnd.uniform(-1, 1), 3)
                topics = json.dumps(rnd.choice(TOPICS))
                lang = rnd.choice(["en", "de", "tr", "fa"])
                enrich.append([signal_id, lang, value, label, "text", topics, 0, iso_utc(NOW)])
            writer.submit(lambda db, v=enrich: write_enrichment(db, v)).result()
    finally:
        writer.close()


async def answers(config: Path, env: dict[str, str]) -> tuple[list[str], float]:
    settings = load_settings(config, env)
    store = Store(writer_for(settings.db_path, settings.file.database, settings.tz))
    store.open()
    try:
        t0 = time.perf_counter()
        out = [
            (await answer(settings, store, q, None, NOW, terminal=True)).plain for q in QUESTIONS
        ]
        return out, time.perf_counter() - t0
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="an empty PostgreSQL database")
    parser.add_argument("--signals", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "big.db"
        config = Path(tmp) / "cxbot.toml"
        config.write_text(f'timezone = "Europe/Istanbul"\n[database]\npath = "{db}"\n')
        t0 = time.perf_counter()
        build(db, args.signals)
        built = time.perf_counter() - t0
        before, t_sqlite = asyncio.run(answers(config, {}))
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "cxbot", "db", "copy", "--to", args.database_url,
             "--config", str(config)],
            capture_output=True, text=True, check=False, env={**os.environ},
        )  # fmt: skip
        copied = time.perf_counter() - t0
        print(done.stdout, done.stderr[-300:] if done.returncode else "", sep="")
        after, t_pg = asyncio.run(answers(config, {"DATABASE_URL": args.database_url}))
    same = [q for q, a, b in zip(QUESTIONS, before, after, strict=True) if a == b]
    print(
        f"# {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}:"
        f" {args.signals} signals built in {built:.1f}s; `cxbot db copy` {copied:.1f}s"
        f" (exit {done.returncode}); {len(QUESTIONS)} /cx answers: SQLite {t_sqlite:.2f}s,"
        f" PostgreSQL {t_pg:.2f}s; identical: {len(same)}/{len(QUESTIONS)}"
    )
    for q, a, b in zip(QUESTIONS, before, after, strict=True):
        if a != b:
            print(f"DIFFERENT: {q}\n--- SQLite\n{a}\n--- PostgreSQL\n{b}")
    sys.exit(0 if len(same) == len(QUESTIONS) and done.returncode == 0 else 1)


if __name__ == "__main__":
    main()

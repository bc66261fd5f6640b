"""Intent on every signal, on both engines: computed by the Enricher, stored with the enrichment
(m006), handed to the rules (`intents = [...]`), and refilled by `cxbot reprocess`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from cxbot.alerts.rules import AlertPolicy, AlertRule, VipList
from cxbot.enrich import Enricher, EnrichSettings
from cxbot.enrich.rows import pending
from cxbot.enrich.worker import apply_enrichment
from cxbot.models import Signal
from cxbot.store.intake import DeliveryRecord, store_deliveries
from tests.kit.postgres import Engine

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)

# Written for this test: one per intent (and one with none), in four languages.
TEXTS = {
    "c-en": ("I am closing my account and moving to another bank.", "churn_risk"),
    "r-tr": ("Uygulamaya karanlık mod ekler misiniz?", "request"),
    "q-fa": ("ساعت کاری پشتیبانی چنده؟", "question"),
    "p-ar": ("شكرا جزيلا، الخدمة ممتازة", "praise"),
    "k-en": ("The parcel came two weeks late and the box was crushed.", "complaint"),
    "n-en": ("Ordered the usual.", None),
}


def _store(db: object, texts: dict[str, tuple[str, str | None]]) -> None:
    signals = [
        Signal(external_id=key, kind="review", text=text, created_at=NOW)
        for key, (text, _) in texts.items()
    ]
    record = DeliveryRecord(
        source="web", provider="generic", received_at="2026-11-20T10:00:00Z", body="{}",
        signals=signals,
    )  # fmt: skip
    store_deliveries(db, [record])  # type: ignore[arg-type]


def test_intent_is_stored_and_alerts_on_it(engine: Engine) -> None:
    db = engine.migrated()
    _store(db, TEXTS)
    rows = pending(db, limit=100)
    results = Enricher(EnrichSettings(), ROOT).enrich_many(rows)
    churn = AlertRule(name="churn", channel="#retention", intents=["churn_risk"])
    owed = apply_enrichment(db, rows, results, NOW, AlertPolicy([churn], [], VipList()))
    stored = dict(db.execute("SELECT external_id, intent FROM signals").fetchall())
    assert stored == {key: want for key, (_, want) in TEXTS.items()}
    alerted = db.execute(
        "SELECT s.external_id FROM outbox o JOIN signals s ON s.id = o.signal_id"
        " WHERE o.kind = 'alert' AND o.channel = '#retention'"
    ).fetchall()
    assert [r[0] for r in alerted] == ["c-en"] and len(owed) == 1


def test_reprocess_fills_intent_and_scores_what_the_ensemble_left(
    engine: Engine, tmp_path: Path
) -> None:
    """An upgrade: signals enriched before m006 (intent NULL) by the English-only ensemble
    (Persian unscored); `cxbot reprocess` with the new default fills both in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CXBOT", "SLACK"))}
    env.pop("DATABASE_URL", None)
    env.update(engine.env(), CXBOT_DB=str(engine.path))  # the SQLite file, or unused
    env["CXBOT_CONFIG"] = str(tmp_path / "cxbot.toml")
    base = '[sources.web]\ntype = "generic"\n'
    (tmp_path / "cxbot.toml").write_text(base + '[enrich]\nanalyser = "ensemble"\n')
    lines = tmp_path / "s.jsonl"
    lines.write_text(
        json.dumps({"id": "fa", "kind": "review", "text": "سفارشم هنوز نرسیده، خیلی بد بود"})
        + "\n"
        + json.dumps({"id": "en", "kind": "review", "text": "Please add an export to CSV."})
        + "\n"
    )

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cxbot", *args],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip

    assert cli("ingest", str(lines)).returncode == 0
    db = engine.connect()
    db.execute("UPDATE signals SET intent = NULL")  # as stored before m006
    before = db.execute("SELECT external_id, sentiment_label, intent FROM signals").fetchall()
    assert sorted(tuple(r) for r in before) == [("en", "neutral", None), ("fa", "unscored", None)]

    (tmp_path / "cxbot.toml").write_text(base)  # the upgrade: the default analyser
    done = cli("reprocess")
    assert done.returncode == 0, done.stderr[-2000:]
    after = db.execute("SELECT external_id, sentiment_label, intent FROM signals").fetchall()
    assert sorted(tuple(r) for r in after) == [
        ("en", "neutral", "request"),
        ("fa", "negative", "complaint"),
    ]

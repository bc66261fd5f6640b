"""The shipped config scores Persian and Turkish out of the box, through the real app.

The app runs in a subprocess of its own: config/cxbot.toml as shipped (default analyser, scorer
in a separate process), only CXBOT_DB pointed at a temporary file. Reviews are posted over
loopback like any provider's; the subprocess then reports the stored labels, and whether the
web process itself ever imported the encoder (it must not: the model loads in the scorer).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import asyncio, json, sqlite3, sys
from pathlib import Path
from cxbot.config import load_settings
from tests.kit.support import serving

REVIEWS = [
    {"id": "fa-1", "kind": "review", "text": "سفارشم دو هفته است نرسیده و پشتیبانی هم جواب نمیده، خیلی بد"},
    {"id": "tr-1", "kind": "review", "text": "Kargo çok geç geldi, ürün kırık çıktı, berbat bir deneyim"},
    {"id": "fa-2", "kind": "review", "text": "خیلی سریع رسید و کیفیتش عالی بود، ممنون"},
    {"id": "tr-2", "kind": "review", "text": "Harika bir ürün, çok memnun kaldım, teşekkürler"},
]

async def main() -> None:
    settings = load_settings(Path("config/cxbot.toml"), {"CXBOT_DB": sys.argv[1]})
    async with serving(settings) as server:
        status, body = await server.post("/webhooks/web", REVIEWS)
        assert status == 200, (status, body)

        def read():
            with sqlite3.connect(sys.argv[1]) as db:
                return db.execute(
                    "SELECT external_id, lang, sentiment_label, sentiment_source FROM signals"
                    " WHERE enriched_at IS NOT NULL ORDER BY id"
                ).fetchall()

        for _ in range(1200):  # the scorer process loads the model first: allow a minute
            got = await asyncio.to_thread(read)
            if len(got) == len(REVIEWS):
                break
            await asyncio.sleep(0.05)
    print(json.dumps({
        "rows": got,
        "analyser": settings.file.enrich.analyser,
        "worker": settings.file.enrich.worker,
        "encoder_in_web_process": "cxbot.enrich.analysers.e5np" in sys.modules,
    }))

asyncio.run(main())
"""


def test_persian_and_turkish_reviews_get_a_sentiment_with_the_shipped_config(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CXBOT_", "SLACK_"))}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "cxbot.db")],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert (report["analyser"], report["worker"]) == ("multilingual", "process")
    assert [tuple(r) for r in report["rows"]] == [
        ("fa-1", "fa", "negative", "text"),
        ("tr-1", "tr", "negative", "text"),
        ("fa-2", "fa", "positive", "text"),
        ("tr-2", "tr", "positive", "text"),
    ]
    assert report["encoder_in_web_process"] is False

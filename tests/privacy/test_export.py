"""`cxbot export QUERY`: as many rows as `/cx volume QUERY` counts, on both engines, as CSV
(spreadsheet-safe) or JSON lines; a bad query is refused with the grammar's own message."""

from __future__ import annotations

import asyncio
import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cxbot.cx.ask import ask
from cxbot.slack.fmt import Answer
from tests.kit.postgres import Engine
from tests.kit.support import WEB_SECRET, MakeSettings, serving
from tests.privacy.test_erase import cli

pytestmark = pytest.mark.usefixtures("blockbuster")


def signal(n: int, kind: str, text: str) -> dict[str, Any]:
    return {"id": f"x{n}", "kind": kind, "rating": 1 + n % 5, "text": text,
            "author": {"name": f"P{n}", "email": f"p{n}@example.com"}}  # fmt: skip


BATCH = [
    signal(1, "review", '=HYPERLINK("http://evil.example") great app'),
    signal(2, "review", "Line one\nline two, with a comma"),
    signal(3, "ticket", "Where is my order?"),
    signal(4, "review", "Çok güzel, teşekkürler"),
]


def volume(engine: Engine, query: str, tz: ZoneInfo) -> str:
    reply = ask(engine.connect(), f"volume {query}", now=datetime.now(UTC), tz=tz)
    assert isinstance(reply, Answer)
    return reply.plain


async def test_export_matches_cx_volume_and_is_safe_in_a_spreadsheet(
    engine: Engine, make_settings: MakeSettings, tmp_path: Path
) -> None:
    settings = make_settings("", {"CXBOT_WEB_SECRET": WEB_SECRET, **engine.env()})
    config = tmp_path / "cxbot.toml"
    async with serving(settings) as server:
        assert (await server.post("/webhooks/web", BATCH, sign=True))[0] == 200
    out = tmp_path / "reviews.csv"
    done = await asyncio.to_thread(
        cli, config, engine, "export", "30d", "kind:review", "--output", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert "wrote 3 signal(s)" in done.stderr
    with out.open(newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert len(table) == 3
    assert "3 signals" in await asyncio.to_thread(volume, engine, "30d kind:review", settings.tz)
    by_id = {r["external_id"]: r for r in table}
    assert by_id["x1"]["text"].startswith("'=HYPERLINK")  # not a formula when opened
    assert by_id["x2"]["text"] == "Line one\nline two, with a comma"
    assert by_id["x4"]["text"] == "Çok güzel, teşekkürler"

    lines = await asyncio.to_thread(cli, config, engine, "export", "all", "--format", "jsonl")
    assert lines.returncode == 0, lines.stderr
    items = [json.loads(line) for line in lines.stdout.splitlines()]
    assert sorted(i["external_id"] for i in items) == ["x1", "x2", "x3", "x4"]
    assert items[0]["text"] == BATCH[0]["text"]  # JSON lines keep the text as written

    bad = await asyncio.to_thread(cli, config, engine, "export", "kind:nonsense")
    assert bad.returncode == 2 and "is not a kind" in bad.stderr

"""`cxbot db copy --to URL`: an SQLite database filled by `cxbot ingest` moves into PostgreSQL
with every row, and `/cx` answers exactly as before; running it again changes nothing."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from cxbot.cli import main
from cxbot.config import load_settings
from cxbot.cx.ask import answer
from cxbot.store.writer import Store, writer_for
from tests.kit.postgres import Databases

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
QUESTIONS = [
    "summary last 30 days",
    "summary this week",
    "summary last 7 days source:web",
    "rating last 30 days kind:review",
    "sentiment last 30 days",
    "topics last 30 days",
    "top negative last 30 days",
    "search refund last 30 days",
    "search app",
    "customer ana@example.com",
    "volume last 90 days",
]
WORDS = ["refund please", "the app crashed at checkout", "great support, thank you",
         "late delivery again", "login does not work", "uygulama çöktü", "پول من را برگردانید"]  # fmt: skip


def signals(n: int, seed: int = 7) -> list[dict[str, object]]:
    rnd = random.Random(seed)
    out: list[dict[str, object]] = []
    for i in range(n):
        kind = rnd.choice(["review", "ticket", "survey", "mention"])
        row: dict[str, object] = {
            "id": f"s{i}",
            "kind": kind,
            "text": f"{rnd.choice(WORDS)} #{i}",
            "created_at": (NOW - timedelta(minutes=rnd.randint(0, 60 * 24 * 80))).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "author": {"email": rnd.choice(["ana@example.com", "bob@example.com", None])},
        }
        if kind == "review":
            row["rating"] = rnd.randint(1, 5)
        if kind == "survey":
            row.update(score=rnd.randint(0, 10), score_type="nps")
        out.append(row)
    return out


def fill(tmp_path: Path, n: int) -> Path:
    """A config and an SQLite database filled (and enriched) by `cxbot ingest`."""
    config = tmp_path / "cxbot.toml"
    config.write_text(
        f'timezone = "Europe/Istanbul"\n[enrich]\nworker = "thread"\n[database]\n'
        f'path = "{tmp_path / "cxbot.db"}"\n[sources.web]\ntype = "generic"\n',
        encoding="utf-8",
    )
    lines = tmp_path / "signals.jsonl"
    lines.write_text("\n".join(json.dumps(s) for s in signals(n)) + "\n", encoding="utf-8")
    done = CliRunner().invoke(
        main, ["ingest", str(lines), "--source", "web", "--config", str(config)]
    )
    assert done.exit_code == 0, done.output
    return config


async def answers(config: Path, env: dict[str, str]) -> list[str]:
    settings = load_settings(config, env)
    store = Store(writer_for(settings.db_path, settings.file.database, settings.tz))
    store.open()
    try:
        return [
            (await answer(settings, store, q, None, NOW, terminal=True)).plain for q in QUESTIONS
        ]
    finally:
        store.close()


async def test_copy_moves_everything_and_cx_answers_the_same(
    tmp_path: Path, pg_databases: Databases
) -> None:
    config = fill(tmp_path, 400)
    before = await answers(config, {})
    url = pg_databases.fresh(migrated=False)
    runner = CliRunner()
    first = runner.invoke(main, ["db", "copy", "--to", url, "--config", str(config)])
    assert first.exit_code == 0, first.output
    assert "signals: 400 rows (400 new)" in first.output
    assert "row counts match" in first.output
    again = runner.invoke(main, ["db", "copy", "--to", url, "--config", str(config)])
    assert again.exit_code == 0, again.output
    assert "signals: 400 rows (0 new)" in again.output  # idempotent
    after = await answers(config, {"DATABASE_URL": url})
    # Real answers, not errors: the volume line, and the customer's profile.
    assert before[0].splitlines()[1].startswith("Volume  ") and "signals" in before[0]
    assert "ana@example.com" in before[QUESTIONS.index("customer ana@example.com")]
    for q, a, b in zip(QUESTIONS, after, before, strict=True):
        assert a == b, (q, a, b)
    # New signals get fresh ids after the copied ones (the sequences continue).
    settings = load_settings(config, {"DATABASE_URL": url})
    from cxbot.store.pg import connect_pg

    db = connect_pg(url)
    try:
        top = db.execute("SELECT max(id) FROM signals").fetchone()[0]
        nxt = db.execute("SELECT nextval(pg_get_serial_sequence('signals', 'id'))").fetchone()[0]
        assert nxt == top + 1
    finally:
        db.close()
    assert settings.file.database.url == url


def test_copy_refuses_a_target_holding_other_data(tmp_path: Path, pg_databases: Databases) -> None:
    config = fill(tmp_path, 20)
    url = pg_databases.fresh(migrated=False)
    other = tmp_path / "other"
    other.mkdir()
    other_config = fill(other, 30)  # a different database with more signals, copied first
    assert (
        CliRunner()
        .invoke(main, ["db", "copy", "--to", url, "--config", str(other_config)])
        .exit_code
        == 0
    )
    done = CliRunner().invoke(main, ["db", "copy", "--to", url, "--config", str(config)])
    assert done.exit_code == 1
    assert "row counts differ" in done.output


def test_copy_names_a_missing_database_and_a_bad_url(tmp_path: Path) -> None:
    config = tmp_path / "cxbot.toml"
    config.write_text(f'[database]\npath = "{tmp_path / "none.db"}"\n', encoding="utf-8")
    done = CliRunner().invoke(main, ["db", "copy", "--to", "mysql://x", "--config", str(config)])
    assert done.exit_code == 2 and "postgresql://" in done.output
    done = CliRunner().invoke(
        main, ["db", "copy", "--to", "postgresql://u:secret@127.0.0.1:1/x", "--config", str(config)]
    )
    assert done.exit_code == 1 and "no SQLite database" in done.output

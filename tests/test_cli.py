"""The command line, run as a user runs it: a real subprocess, a real SQLite file."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.kit.support import free_port

CXBOT = [sys.executable, "-m", "cxbot"]


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        CXBOT + args, env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CXBOT", "SLACK"))}
    env["CXBOT_DB"] = str(tmp_path / "cli.db")
    env["CXBOT_CONFIG"] = str(tmp_path / "cxbot.toml")
    (tmp_path / "cxbot.toml").write_text('[sources.web]\ntype = "generic"\n')
    return env


def test_db_migrate_is_idempotent(tmp_path: Path, cli_env: dict[str, str]) -> None:
    first = run(["db", "migrate"], cli_env, tmp_path)
    second = run(["db", "migrate"], cli_env, tmp_path)
    assert first.returncode == 0 and "applied m001_initial" in first.stdout
    assert second.returncode == 0 and second.stdout.strip().endswith("schema up to date")


def test_bad_config_is_a_message_not_a_traceback(tmp_path: Path, cli_env: dict[str, str]) -> None:
    (tmp_path / "cxbot.toml").write_text('[server]\nport = "x"\n')
    result = run(["db", "migrate"], cli_env, tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        f"cxbot: config error:\n{tmp_path / 'cxbot.toml'}: server.port: "
        "Input should be a valid integer, unable to parse string as an integer\n"
    )


def test_ingest_good_duplicate_and_bad_lines(tmp_path: Path, cli_env: dict[str, str]) -> None:
    lines = [
        {"id": "r1", "kind": "review", "text": "Great app, fast delivery", "rating": 5},
        {
            "id": "r2",
            "kind": "survey",
            "score": 3,
            "score_type": "nps",
            "text": "Refund still not here",
        },
        {"id": "r1", "kind": "review", "text": "Great app, fast delivery", "rating": 5},
        {"id": "r3", "kind": "review"},
    ]
    path = tmp_path / "backfill.jsonl"
    path.write_text(
        "\n".join(json.dumps(x) for x in lines[:3]) + "\n{not json\n" + json.dumps(lines[3]) + "\n"
    )
    result = run(["ingest", str(path), "--source", "backfill"], cli_env, tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.strip() == "2 accepted, 1 duplicate, 2 rejected (2 enriched)"
    assert (
        "line 4: malformed JSON: Expecting property name enclosed in double quotes" in result.stderr
    )
    assert "line 5: a signal needs text, a rating or a score" in result.stderr
    again = run(["ingest", str(path), "--source", "backfill"], cli_env, tmp_path)
    assert again.stdout.strip() == "0 accepted, 3 duplicate, 2 rejected (0 enriched)"
    conn = sqlite3.connect(cli_env["CXBOT_DB"])
    got = conn.execute(
        "SELECT source, external_id, lang, sentiment_label, enriched_at IS NOT NULL FROM signals ORDER BY id"
    ).fetchall()
    conn.close()
    assert got == [("backfill", "r1", "en", "positive", 1), ("backfill", "r2", "en", "negative", 1)]


def wait_healthy(url: str, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.communicate()[1]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("server did not become healthy")


def test_serve_answers_and_stops_cleanly_on_sigterm(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    port = free_port()
    proc = subprocess.Popen(
        CXBOT + ["serve", "--host", "127.0.0.1", "--port", str(port)],
        env=cli_env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        body = json.dumps({"id": "s1", "kind": "ticket", "text": "Where is my order?"}).encode()
        req = urllib.request.Request(
            url + "/webhooks/web", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert json.load(resp) == {"accepted": 1, "duplicates": 0, "ids": [1]}
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "delivery source=web" in err and "stopped" in err
    assert f"INFO cxbot config {tmp_path / 'cxbot.toml'}\n" in err
    assert (
        f"INFO cxbot listening on {url}; database {cli_env['CXBOT_DB']}; sources: web (generic,"
        " unsigned)\n"
    ) in err
    assert "WARNING" not in err  # loopback: the unsigned source is not reachable from elsewhere
    conn = sqlite3.connect(cli_env["CXBOT_DB"])
    assert conn.execute("SELECT external_id FROM signals").fetchall() == [("s1",)]
    conn.close()


def test_serve_on_all_interfaces_warns_about_an_unsigned_source(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    port = free_port()
    proc = subprocess.Popen(
        CXBOT + ["serve", "--host", "0.0.0.0", "--port", str(port)],
        env=cli_env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert "WARNING cxbot source 'web' is unsigned and 0.0.0.0 is reachable from other hosts" in err
    assert f"listening on http://0.0.0.0:{port};" in err


def test_check_config_says_what_it_loaded_and_warns(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    loaded = run(["check-config"], cli_env, tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert json.loads(loaded.stdout)["config"] == str(tmp_path / "cxbot.toml")
    assert loaded.stderr == (
        "cxbot: warning: source 'web' is unsigned and 0.0.0.0 is reachable from other hosts:"
        " anyone who can reach the port can post signals to /webhooks/web (set secret_env, or"
        " --host 127.0.0.1)\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in cli_env.items() if k != "CXBOT_CONFIG"}
    none = run(["check-config"], env, elsewhere)
    assert none.returncode == 0 and json.loads(none.stdout)["config"] == "(defaults)"
    assert none.stderr == (
        f"cxbot: warning: no config file: {elsewhere / 'config' / 'cxbot.toml'} does not exist"
        " and neither --config nor CXBOT_CONFIG is set; running on defaults with no sources"
        " (every /webhooks/… answers 404)\n"
    )


def test_replay_pushes_a_saved_delivery_without_signature(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    (tmp_path / "cxbot.toml").write_text(
        '[sources.zd]\ntype = "generic"\nsecret_env = "NOT_NEEDED_FOR_REPLAY"\nverify = false\n'
        '[[alerts]]\nname = "low"\nchannel = "#cx"\nmax_rating = 1\n'
    )
    saved = tmp_path / "delivery.json"
    saved.write_text(json.dumps({"id": "z1", "kind": "review", "rating": 1, "text": "Kötü 😞"}))
    first = run(["replay", str(saved), "--source", "zd"], cli_env, tmp_path)
    again = run(["replay", str(saved), "--source", "zd"], cli_env, tmp_path)
    unknown = run(["replay", str(saved), "--source", "nope"], cli_env, tmp_path)
    assert (first.returncode, first.stdout.strip()) == (
        0,
        '{"accepted": 1, "duplicates": 0, "ids": [1]}',
    )
    assert again.stdout.strip() == '{"accepted": 0, "duplicates": 1, "ids": [1]}'
    assert unknown.returncode == 1 and "unknown source 'nope'" in unknown.stderr
    conn = sqlite3.connect(cli_env["CXBOT_DB"])
    assert conn.execute("SELECT text, sentiment_label FROM signals").fetchall() == [
        ("Kötü 😞", "negative")
    ]
    assert conn.execute("SELECT kind, channel, status FROM outbox").fetchall() == [
        ("alert", "#cx", "pending")
    ]
    conn.close()


def test_reprocess_applies_a_new_taxonomy(tmp_path: Path, cli_env: dict[str, str]) -> None:
    lines = tmp_path / "s.jsonl"
    lines.write_text(
        json.dumps({"id": "a", "kind": "ticket", "text": "The wombat feature is broken"})
        + "\n"
        + json.dumps(
            {
                "id": "b",
                "kind": "ticket",
                "text": "Lovely service",
                "created_at": "2020-01-01T00:00:00Z",
            }
        )
        + "\n"
    )
    assert run(["ingest", str(lines)], cli_env, tmp_path).returncode == 0
    (tmp_path / "mine.toml").write_text('[topics.wombats]\nen = ["wombat", "lovely"]\n')
    (tmp_path / "cxbot.toml").write_text(
        '[sources.web]\ntype = "generic"\n'
        f'[enrich]\nextra_topics_file = "{tmp_path / "mine.toml"}"\n'
    )
    result = run(["reprocess", "--since", "2021-01-01"], cli_env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1 signals re-enriched"
    conn = sqlite3.connect(cli_env["CXBOT_DB"])
    got = dict(conn.execute("SELECT external_id, topics FROM signals").fetchall())
    conn.close()
    assert "wombats" in json.loads(got["a"])
    assert "wombats" not in json.loads(got["b"])  # before --since: untouched

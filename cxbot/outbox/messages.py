"""What an outbox row says, built from the database at send time (so an update shows the latest
status). Reading happens here; the rendering itself is blocks.py's pure functions."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from cxbot.slack.blocks import AlertView, alert_message, rollup_message, spike_message

ROLLUP_LINKS = 10


def _signal(db: Database, signal_id: int) -> dict[str, Any]:
    cur = db.execute("SELECT * FROM signals WHERE id = ?", [signal_id])
    cols = [c[0] for c in cur.description]
    row = cur.fetchone()
    if row is None:
        raise LookupError(f"signal {signal_id} not found")
    return dict(zip(cols, row, strict=True))


def alert_view(db: Database, signal_id: int, rules: list[str]) -> AlertView:
    signal = _signal(db, signal_id)
    name = signal.get("author_name")
    earlier = 0
    if signal.get("customer_id") is not None:
        found = db.execute(
            "SELECT c.name, (SELECT count(*) FROM signals s WHERE s.customer_id = c.id AND s.id < ?)"
            " FROM customers c WHERE c.id = ?",
            [signal_id, signal["customer_id"]],
        ).fetchone()
        if found:
            name = found[0] or name
            earlier = int(found[1])
    return AlertView(
        signal=signal,
        rules=rules,
        customer_name=name,
        earlier_signals=earlier,
        source_label=str(signal["source"]),
    )


def build_message(db: Database, row: dict[str, Any]) -> dict[str, Any]:
    kind = row["kind"]
    payload = json.loads(row["payload"] or "{}")
    if kind == "alert":
        return alert_message(alert_view(db, row["signal_id"], json.loads(row["rules"])))
    if kind == "update":
        alert = db.execute(
            "SELECT signal_id, rules FROM outbox WHERE id = ?", [payload["alert_id"]]
        ).fetchone()
        return alert_message(alert_view(db, alert[0], json.loads(alert[1])))
    if kind == "rollup":
        held = db.execute(
            "SELECT s.title, s.text, s.url FROM outbox o JOIN signals s ON s.id = o.signal_id"
            " WHERE o.rollup_id = ? ORDER BY o.id",
            [row["id"]],
        ).fetchall()
        links = [(t or x or "", u) for t, x, u in held[:ROLLUP_LINKS]]
        return rollup_message(
            row["rule"], row["channel"], len(held), payload["window_minutes"], links
        )
    if kind == "spike":
        return spike_message(
            row["rule"],
            payload["by"],
            payload["key"],
            payload["recent"],
            payload["baseline"],
            payload["window_minutes"],
        )
    if kind == "digest":
        return dict(payload["message"])
    raise ValueError(f"unknown outbox kind {kind!r}")

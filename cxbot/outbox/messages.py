"""What an outbox row says, built from the database at send time (so an update shows the latest
status). The reads are `rows.py`'s; the rendering is `cxbot.slack.blocks`' pure functions."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from sqlite_utils import Database

from cxbot.outbox import rows as outbox
from cxbot.replies.records import last_reply
from cxbot.slack.blocks import (
    AlertView,
    alert_message,
    note_message,
    poll_failing_message,
    redacted_message,
    rollup_message,
    spike_message,
)

ROLLUP_LINKS = 10


CanReply = Callable[[Mapping[str, Any]], bool]


def _never(signal: Mapping[str, Any]) -> bool:
    return False


def alert_view(
    db: Database, signal_id: int, rules: list[str], can_reply: CanReply = _never
) -> AlertView:
    signal, name, earlier = outbox.signal_for_message(db, signal_id)
    return AlertView(
        signal=signal,
        rules=rules,
        customer_name=name,
        earlier_signals=earlier,
        source_label=str(signal["source"]),
        can_reply=can_reply(signal),
        replied=last_reply(db, signal_id),
    )


def build_message(
    db: Database, row: dict[str, Any], can_reply: CanReply = _never
) -> dict[str, Any]:
    """`can_reply`: whether a signal gets a Reply button (cxbot/replies/clients.can_reply
    with the configured sources; never, where nothing can be sent, as on the console)."""
    kind = row["kind"]
    payload = json.loads(row["payload"] or "{}")
    if kind == "alert":
        rules = json.loads(row["rules"])
        return alert_message(alert_view(db, row["signal_id"], rules, can_reply))
    if kind == "redaction":
        if payload.get("digest"):  # the digest as it reads now, its erased quotes replaced
            return dict(outbox.payload_of(db, payload["alert_id"]).get("message") or {})
        return redacted_message()
    if kind == "update":
        signal_id, rules = outbox.alert_of(db, payload["alert_id"])
        return alert_message(alert_view(db, signal_id, rules, can_reply))
    if kind == "rollup":
        held = outbox.held_signals(db, row["id"])
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
    if kind == "note":
        return note_message(str(payload["text"]))
    if kind == "poll-failing":
        return poll_failing_message(payload["source"], payload["failures"], payload["error"])
    raise ValueError(f"unknown outbox kind {kind!r}")

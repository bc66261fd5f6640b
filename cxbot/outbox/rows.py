"""The `outbox` table: every SQL statement that touches it, and every `dedup_key` format.

One place writes outbox rows (`owe`, `mark`), so the idempotency keys that make a decision, a
click or a digest safe to repeat are all built here. Plain `fn(db, ...)` functions for the
writer (and reader) thread. A digest's outcome is copied into `digests` by an SQL trigger on
the row (migration m004), so delivery never calls back into digest code.

kinds: alert, rollup (the held-alerts summary of a throttled window), spike, update (a
chat.update of an alert message), redaction (a chat.update of a posted message to a neutral
text, after an erasure), digest, note (a thread reply under an alert message, or a plain post
when `thread_of` is NULL: payload {"text": mrkdwn}), reply (a reply
to the customer through the provider's API, delivered by cxbot/replies/deliver.py; its
`channel` is `reply:SOURCE`, a lane of its own that never holds back a Slack channel). status: pending, sending, sent, failed, held, dropped (owed
no more: its signal was erased or expired).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from cxbot.models import iso_utc

# --- keys: a repeated decision finds its row by these and writes nothing --------------------


def alert_key(signal_id: int, channel: str) -> str:
    return f"alert:{signal_id}:{channel}"


def held_summary_key(rule: str, channel: str, bucket: int) -> str:
    # 'rollup' is the stored name of the held-alerts summary (kind and key); kept for old rows.
    return f"rollup:{rule}:{channel}:{bucket}"


def spike_key(rule: str, key: str, bucket: int) -> str:
    return f"spike:{rule}:{key}:{bucket}"


def update_key(alert_id: int, version: int) -> str:
    """One edit per alert message and status version (signals.status_version): a status that
    comes back (snoozed, woken, snoozed again) is a new version, so it is shown again."""
    return f"update:{alert_id}:v{version}"


def note_key(key: str, alert_id: int) -> str:
    return f"note:{key}:{alert_id}"


def reply_key(draft_key: str) -> str:
    """One delivery per reply draft: a second *Send* of the same modal finds this key."""
    return f"reply:{draft_key}"


def reply_update_key(alert_id: int, reply_id: int) -> str:
    return f"update:{alert_id}:reply:{reply_id}"


def poll_failing_key(source: str, since: str) -> str:
    """One report per failure streak of a poll source: `since` is its last success (or never)."""
    return f"poll-failing:{source}:{since}"


def digest_key(period: str, channel: str) -> str:
    return f"digest:{period}:{channel}"


def redaction_key(outbox_id: int, version: int = 0) -> str:
    """A posted digest can be scrubbed more than once (one erasure each): `version` counts."""
    return f"redaction:{outbox_id}" + (f":{version}" if version else "")


# Kinds that edit a posted message (payload {"alert_id": the outbox row that posted it}).
EDITS = ("update", "redaction")
_OWED = ("pending", "sending", "held")
_CHUNK = 500


# --- writes ----------------------------------------------------------------------------------


def owe(
    db: Database,
    *,
    kind: str,
    dedup_key: str,
    channel: str,
    now: datetime,
    due: datetime | None = None,
    status: str = "pending",
    **fields: Any,
) -> int | None:
    """Owe a message: the new row's id, or None when `dedup_key` was owed already."""
    row = {
        "kind": kind,
        "dedup_key": dedup_key,
        "channel": channel,
        "status": status,
        "next_attempt_at": iso_utc(due or now),
        "created_at": iso_utc(now),
        **fields,
    }
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    # RETURNING (both engines): no row back when the key was owed already.
    found = db.conn.execute(
        f"INSERT INTO outbox ({cols}) VALUES ({marks}) ON CONFLICT (dedup_key) DO NOTHING"
        " RETURNING id",
        tuple(row.values()),
    ).fetchone()
    return int(found[0]) if found else None


def mark(db: Database, outbox_id: int, **fields: Any) -> None:
    sets = ", ".join(f"{k} = ?" for k in fields)
    db.execute(f"UPDATE outbox SET {sets} WHERE id = ?", [*fields.values(), outbox_id])


def owe_note(db: Database, signal_id: int, text: str, key: str, now: datetime) -> list[int]:
    """A thread reply under each alert message of the signal (`text` is mrkdwn the caller has
    escaped); `key` names the occasion, so owing it again writes nothing. The owed row ids."""
    owed: list[int] = []
    for alert_id, channel, thread_of in _alert_threads(db, signal_id):
        new = owe(
            db,
            kind="note",
            dedup_key=note_key(key, alert_id),
            channel=channel,
            now=now,
            signal_id=signal_id,
            # A follow-up alert is itself a reply: Slack threads under the thread's first message.
            thread_of=thread_of or alert_id,
            payload=json.dumps({"text": text}),
        )
        if new is not None:
            owed.append(new)
    return owed


def owe_post(
    db: Database, channel: str, text: str, key: str, now: datetime, signal_id: int | None = None
) -> int | None:
    """A plain message in a channel (an SLA escalation), once per `key`."""
    return owe(
        db,
        kind="note",
        dedup_key=f"post:{key}",
        channel=channel,
        now=now,
        signal_id=signal_id,
        payload=json.dumps({"text": text}),
    )


def _alert_threads(db: Database, signal_id: int) -> list[tuple[int, str, int | None]]:
    return [
        (int(i), str(c), None if t is None else int(t))
        for i, c, t in db.execute(
            "SELECT id, channel, thread_of FROM outbox WHERE signal_id = ? AND kind = 'alert'"
            " AND status != 'held' ORDER BY id",
            [signal_id],
        ).fetchall()
    ]


def forget_signals(
    db: Database, signal_ids: list[int], now: datetime, *, redact: bool
) -> tuple[int, int]:
    """Before `signal_ids` are deleted: messages still owed about them are dropped, rows keep
    no reference to them, and with `redact` every posted alert about them (and every posted
    held-alerts summary listing them) is owed a redaction. A row being posted right now
    (`sending`) is owed one too: the redaction follows it in its channel's lane, and it finds
    nothing to edit when the post never happened. Returns (dropped, redactions owed)."""
    dropped, targets = 0, {}
    summaries: set[int] = set()
    for at in range(0, len(signal_ids), _CHUNK):
        chunk = signal_ids[at : at + _CHUNK]
        marks = ", ".join("?" for _ in chunk)
        rows = db.execute(
            f"SELECT id, kind, status, channel, rollup_id FROM outbox WHERE signal_id IN ({marks})",
            chunk,
        ).fetchall()
        for oid, kind, status, channel, rollup_id in rows:
            if kind == "alert" and status in ("sent", "sending"):
                targets[int(oid)] = str(channel)
            if rollup_id is not None:
                summaries.add(int(rollup_id))
        dropped += int(
            db.execute(
                "UPDATE outbox SET status = 'dropped', last_error = 'its signal was erased'"
                f" WHERE signal_id IN ({marks}) AND status IN ('pending', 'held')",
                chunk,
            ).rowcount
        )
        db.execute(f"UPDATE outbox SET signal_id = NULL WHERE signal_id IN ({marks})", chunk)
    if not redact:
        return dropped, 0
    for sid in sorted(summaries):
        found = db.execute(
            "SELECT channel FROM outbox WHERE id = ? AND status = 'sent'", [sid]
        ).fetchone()
        if found:
            targets[sid] = str(found[0])
    owed = 0
    for oid, channel in sorted(targets.items()):
        new = owe(
            db,
            kind="redaction",
            dedup_key=redaction_key(oid),
            channel=channel,
            now=now,
            payload=json.dumps({"alert_id": oid}),
        )
        owed += new is not None
    return dropped, owed


def digest_rows(db: Database) -> list[dict[str, Any]]:
    """Every digest row (id, status, channel, payload): what an erasure scans for quotes."""
    return _dicts(db, "SELECT id, status, channel, payload FROM outbox WHERE kind = 'digest'", [])


def rewrite_digest(
    db: Database, outbox_id: int, payload: dict[str, Any], version: int, now: datetime
) -> int | None:
    """A digest's message after an erasure scrubbed it; a posted (or being posted) one is owed
    an edit, which reads this payload when it is sent. Returns the edit's row id, if owed."""
    db.execute("UPDATE outbox SET payload = ? WHERE id = ?", [json.dumps(payload), outbox_id])
    row = db.execute("SELECT status, channel FROM outbox WHERE id = ?", [outbox_id]).fetchone()
    if row is None or row[0] not in ("sent", "sending"):
        return None
    return owe(
        db,
        kind="redaction",
        dedup_key=redaction_key(outbox_id, version),
        channel=str(row[1]),
        now=now,
        payload=json.dumps({"alert_id": outbox_id, "digest": True}),
    )


def payload_of(db: Database, outbox_id: int) -> dict[str, Any]:
    found = db.execute("SELECT payload FROM outbox WHERE id = ?", [outbox_id]).fetchone()
    return dict(json.loads(found[0] or "{}")) if found else {}


# --- reads -----------------------------------------------------------------------------------


def _dicts(db: Database, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = db.execute(sql, params)
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def owed_rows(db: Database, limit: int = 500) -> list[dict[str, Any]]:
    return _dicts(
        db,
        "SELECT * FROM outbox WHERE status IN ('pending', 'sending') ORDER BY id LIMIT ?",
        [limit],
    )


def last_sent_at(db: Database, channel: str) -> str | None:
    """When the channel's latest message was marked sent (by any replica): the pace of a
    sender that has just taken the channel over starts from there."""
    found = db.execute(
        "SELECT max(sent_at) FROM outbox WHERE channel = ? AND status = 'sent'", [channel]
    ).fetchone()
    return str(found[0]) if found and found[0] else None


def is_owed(db: Database, dedup_key: str) -> bool:
    return (
        db.execute("SELECT 1 FROM outbox WHERE dedup_key = ?", [dedup_key]).fetchone() is not None
    )


def id_of(db: Database, dedup_key: str) -> int:
    return int(db.execute("SELECT id FROM outbox WHERE dedup_key = ?", [dedup_key]).fetchone()[0])


def parent_ts(db: Database, row: dict[str, Any]) -> str | None:
    """The Slack ts of the message a row is threaded under, once that one is sent."""
    if row["thread_of"] is None:
        return None
    found = db.execute(
        "SELECT slack_ts FROM outbox WHERE id = ? AND status = 'sent'", [row["thread_of"]]
    ).fetchone()
    return str(found[0]) if found and found[0] else None


def sent_message(db: Database, outbox_id: int) -> tuple[str, str] | None:
    """(channel id, ts) of a sent message: what a chat.update targets."""
    found = db.execute(
        "SELECT slack_channel, slack_ts FROM outbox WHERE id = ? AND status = 'sent'", [outbox_id]
    ).fetchone()
    return (str(found[0]), str(found[1])) if found and found[1] else None


def alert_of(db: Database, alert_id: int) -> tuple[int, list[str]]:
    """The signal an alert row is about and the rules it matched."""
    signal_id, rules = db.execute(
        "SELECT signal_id, rules FROM outbox WHERE id = ?", [alert_id]
    ).fetchone()
    return int(signal_id), list(json.loads(rules))


def held_signals(db: Database, summary_id: int) -> list[tuple[str | None, str | None, str | None]]:
    """(title, text, url) of the alerts a held-alerts summary stands for, oldest first."""
    return [
        (t, x, u)
        for t, x, u in db.execute(
            "SELECT s.title, s.text, s.url FROM outbox o JOIN signals s ON s.id = o.signal_id"
            " WHERE o.rollup_id = ? ORDER BY o.id",
            [summary_id],
        ).fetchall()
    ]


def alert_messages_of(db: Database, signal_id: int) -> list[tuple[int, str]]:
    """(outbox id, channel) of every alert posted (or owed) for a signal."""
    return [
        (int(i), str(c))
        for i, c in db.execute(
            "SELECT id, channel FROM outbox WHERE signal_id = ? AND kind = 'alert'"
            " AND status != 'held'",
            [signal_id],
        ).fetchall()
    ]


def first_alert_in_thread(
    db: Database,
    channel: str,
    since: str,
    *,
    source: str | None = None,
    thread_key: str | None = None,
    customer_id: int | None = None,
    not_signal: int | None = None,
) -> int | None:
    """The first live alert in `channel` since `since` for a ticket, else for a customer."""
    if thread_key is not None:
        params_: list[Any]
        where, params_ = "s.source = ? AND s.thread_key = ?", [source, thread_key]
    else:
        where, params_ = "s.customer_id = ? AND s.id != ?", [customer_id, not_signal]
    found = db.execute(
        "SELECT o.id FROM outbox o JOIN signals s ON s.id = o.signal_id"
        " WHERE o.kind = 'alert' AND o.channel = ? AND o.thread_of IS NULL"
        " AND o.status IN ('pending', 'sending', 'sent') AND o.created_at >= ?"
        f" AND {where} ORDER BY o.id LIMIT 1",
        [channel, since, *params_],
    ).fetchone()
    return int(found[0]) if found else None


def open_alerts(db: Database, since: str) -> list[dict[str, Any]]:
    """Alerts posted (or owed) since `since` whose signal is not resolved, with the signal's
    lifecycle columns: what the SLA check and `/cx sla` look at. Oldest first."""
    return _dicts(
        db,
        "SELECT o.id AS alert_id, o.channel, o.rules, o.created_at AS alerted_at,"
        " s.id AS signal_id, s.status, s.assignee, s.acknowledged_at, s.resolved_at,"
        " s.snoozed_until, s.title, s.text, s.source FROM outbox o"
        " JOIN signals s ON s.id = o.signal_id"
        " WHERE o.kind = 'alert' AND o.status != 'held' AND o.created_at >= ?"
        " AND s.status != 'resolved' ORDER BY o.id",
        [since],
    )


def alerts_sent_since(db: Database, rule: str, channel: str, since: str) -> int:
    """Alerts of a rule in a channel since a time, held ones not counted (throttling)."""
    return int(
        db.execute(
            "SELECT count(*) FROM outbox WHERE kind = 'alert' AND rule = ? AND channel = ?"
            " AND status != 'held' AND created_at >= ?",
            [rule, channel, since],
        ).fetchone()[0]
    )


def signal_for_message(db: Database, signal_id: int) -> tuple[dict[str, Any], str | None, int]:
    """A signal row for its alert message, with the customer's profile name and how many
    signals the customer sent before it."""
    found = _dicts(db, "SELECT * FROM signals WHERE id = ?", [signal_id])
    if not found:
        raise LookupError(f"signal {signal_id} not found")
    signal = found[0]
    name = signal.get("author_name")
    earlier = 0
    if signal.get("customer_id") is not None:
        row = db.execute(
            "SELECT c.name, (SELECT count(*) FROM signals s WHERE s.customer_id = c.id AND s.id < ?)"
            " FROM customers c WHERE c.id = ?",
            [signal_id, signal["customer_id"]],
        ).fetchone()
        if row:
            name = row[0] or name
            earlier = int(row[1])
    return signal, name, earlier

"""The `replies` table: every SQL statement that touches it (plain `fn(db, ...)` functions for
the writer and reader threads). Outbox rows are owed through `cxbot.outbox.rows`, in the same
transaction as the reply row they deliver, so a reply is never recorded without its delivery
nor delivered without its record.

status: pending (owed to the provider), sent (with the provider's reply id), error (the
provider refused it: its short reason), outdated (the review or ticket changed, or was erased,
after the draft was opened: nothing was sent).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from cxbot.models import iso_utc
from cxbot.outbox import rows as outbox

_CHUNK = 500


@dataclass(frozen=True)
class Draft:
    """What a *Send* records: the reply and the fingerprint of what it answers."""

    signal_id: int
    source: str
    author: str  # the Slack user id of the sender
    text: str
    draft_key: str
    basis: str | None


def _dicts(db: Database, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    cur = db.execute(sql, list(params))
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def reply_signal(db: Database, signal_id: int) -> dict[str, Any] | None:
    """The signal a reply answers: what the provider call and the modal need, None if gone."""
    found = _dicts(
        db,
        "SELECT id, source, provider, kind, external_id, thread_key, url, title, text, rating,"
        " author_name, author_handle, metadata, created_at FROM signals WHERE id = ?",
        [signal_id],
    )
    return found[0] if found else None


def basis_of(db: Database, signal_id: int) -> str | None:
    """A fingerprint of what a reply answers: the signal's words and rating as they are now
    (an edit replaces them in place), and the newest signal of its ticket or review thread (the
    customer wrote again). None when the signal is gone (erased)."""
    signal = reply_signal(db, signal_id)
    if signal is None:
        return None
    newest = signal_id
    if signal["thread_key"] is not None:
        found = db.execute(
            "SELECT max(id) FROM signals WHERE source = ? AND thread_key = ?",
            [signal["source"], signal["thread_key"]],
        ).fetchone()
        newest = int(found[0]) if found and found[0] is not None else signal_id
    content = [signal["title"], signal["text"], signal["rating"], newest]
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()[:32]


def record_draft(db: Database, draft: Draft, now: datetime) -> int | None:
    """The reply row (pending) and its owed delivery; None when this draft was sent already
    (a double *Send*): nothing is written then."""
    found = db.conn.execute(
        "INSERT INTO replies (signal_id, source, author, text, status, draft_key, basis,"
        " created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)"
        " ON CONFLICT (draft_key) DO NOTHING RETURNING id",
        [
            draft.signal_id,
            draft.source,
            draft.author,
            draft.text,
            draft.draft_key,
            draft.basis,
            iso_utc(now),
        ],
    ).fetchone()
    if found is None:
        return None
    reply_id = int(found[0])
    outbox.owe(
        db,
        kind="reply",
        dedup_key=outbox.reply_key(draft.draft_key),
        channel=f"reply:{draft.source}",
        now=now,
        signal_id=draft.signal_id,
        payload=json.dumps({"reply_id": reply_id}),
    )
    return reply_id


def reply_row(db: Database, reply_id: int) -> dict[str, Any] | None:
    found = _dicts(db, "SELECT * FROM replies WHERE id = ?", [reply_id])
    return found[0] if found else None


def mark_sent(
    db: Database, reply_id: int, provider_reply_id: str | None, outbox_id: int, now: datetime
) -> list[int]:
    """Sent: the reply row, its outbox row, and a chat.update owed for every alert message of
    the signal (they show "Replied by"). Returns the update rows owed."""
    stamp = iso_utc(now)
    db.execute(
        "UPDATE replies SET status = 'sent', provider_reply_id = ?, error = NULL, sent_at = ?"
        " WHERE id = ?",
        [provider_reply_id, stamp, reply_id],
    )
    outbox.mark(db, outbox_id, status="sent", sent_at=stamp, last_error=None)
    row = reply_row(db, reply_id)
    owed: list[int] = []
    if row is None:
        return owed
    for alert_id, channel in outbox.alert_messages_of(db, int(row["signal_id"])):
        new = outbox.owe(
            db,
            kind="update",
            dedup_key=outbox.reply_update_key(alert_id, reply_id),
            channel=channel,
            now=now,
            signal_id=row["signal_id"],
            payload=json.dumps({"alert_id": alert_id}),
        )
        if new is not None:
            owed.append(new)
    return owed


def mark_not_sent(
    db: Database,
    reply_id: int,
    status: str,
    error: str,
    note: str,
    outbox_id: int,
    now: datetime,
    outbox_status: str = "sent",
) -> list[int]:
    """`error` or `outdated`: the reason kept, the outbox row done (nothing is resent), and the
    sender told in the alert's thread. Returns the note rows owed."""
    assert status in ("error", "outdated")
    db.execute(
        "UPDATE replies SET status = ?, error = ? WHERE id = ?", [status, error[:500], reply_id]
    )
    # The outbox row is settled either way ("sent": the provider answered; "failed": it never
    # did by the send timeout), so it is never tried again.
    outbox.mark(db, outbox_id, status=outbox_status, sent_at=iso_utc(now), last_error=error[:500])
    row = reply_row(db, reply_id)
    if row is None:
        return []
    return outbox.owe_note(db, int(row["signal_id"]), note, f"reply:{reply_id}", now)


def give_up(
    db: Database, reply_id: int, error: str, note: str, outbox_id: int, now: datetime
) -> list[int]:
    """The outbox stopped retrying (its send timeout): the reply is an error, the sender told."""
    return mark_not_sent(db, reply_id, "error", error, note, outbox_id, now, "failed")


def last_reply(db: Database, signal_id: int) -> tuple[str, str] | None:
    """(author, sent_at) of the signal's latest sent reply: what its alert message shows."""
    found = db.execute(
        "SELECT author, sent_at FROM replies WHERE signal_id = ? AND status = 'sent'"
        " ORDER BY sent_at DESC, id DESC LIMIT 1",
        [signal_id],
    ).fetchone()
    return (str(found[0]), str(found[1])) if found else None


def forget_replies(db: Database, signal_ids: Sequence[int]) -> int:
    """Before `signal_ids` are erased: their replies keep no text, and one still owed is
    outdated (its delivery is dropped with the signal's outbox rows). Returns rows scrubbed."""
    scrubbed = 0
    for at in range(0, len(signal_ids), _CHUNK):
        chunk = list(signal_ids[at : at + _CHUNK])
        marks = ", ".join("?" for _ in chunk)
        db.execute(
            "UPDATE replies SET status = 'outdated', error = 'its signal was erased'"
            f" WHERE signal_id IN ({marks}) AND status = 'pending'",
            chunk,
        )
        scrubbed += int(
            db.execute(f"UPDATE replies SET text = '' WHERE signal_id IN ({marks})", chunk).rowcount
        )
    return scrubbed


def first_replies(db: Database, signal_ids: Sequence[int]) -> dict[int, str]:
    """When each of `signal_ids` first had a reply sent (those without one are left out)."""
    out: dict[int, str] = {}
    for at in range(0, len(signal_ids), _CHUNK):
        chunk = list(signal_ids[at : at + _CHUNK])
        marks = ", ".join("?" for _ in chunk)
        for sid, sent in db.execute(
            f"SELECT signal_id, min(sent_at) FROM replies WHERE signal_id IN ({marks})"
            " AND status = 'sent' GROUP BY signal_id",
            chunk,
        ).fetchall():
            out[int(sid)] = str(sent)
    return out


def alerted_with_first_reply(
    db: Database, start: str, end: str, where: str, params: Sequence[Any]
) -> list[tuple[str, str | None]]:
    """Signals first alerted in [start, end) (and matching `where` on `s.`): when they were
    first alerted and when a reply was first sent to the customer (None: not yet)."""
    found = db.execute(
        "SELECT min(o.created_at),"
        " (SELECT min(r.sent_at) FROM replies r WHERE r.signal_id = s.id AND r.status = 'sent')"
        " FROM outbox o JOIN signals s ON s.id = o.signal_id WHERE o.kind = 'alert'"
        " AND o.signal_id IN (SELECT signal_id FROM outbox WHERE kind = 'alert'"
        f" AND created_at >= ? AND created_at < ?) AND {where}"
        " GROUP BY s.id HAVING min(o.created_at) >= ?",
        [start, end, *params, start],
    ).fetchall()
    return [(str(a), None if r is None else str(r)) for a, r in found]

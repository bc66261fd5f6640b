"""A customer's data, found, exported and erased: every SQL statement of a privacy request.

`find_subject` turns an identifier (an e-mail address, a handle — `provider:handle` to name
one provider — or a customer id) into the customer profiles and the signals that are theirs:
the profiles' signals, and signals not yet joined to a profile that carry one of the
profiles' addresses or handles. `erase` runs as one writer job, so a request is all or
nothing: Slack messages about the signals are redacted through the outbox
(`outbox.rows.forget_signals`), the signals go (the daily rollup and the full-text index
follow by their triggers, so both stay exact), the raw deliveries that brought them keep no
body or headers, the profiles and handles go, and `audit` gets a row with a salted hash of the
identifier and the counts — no personal data. Both engines: `?` parameters, no JSON functions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from cxbot.digest.records import forget_quotes
from cxbot.enrich.identity import normalise_email, normalise_handle
from cxbot.models import Filters, iso_utc
from cxbot.outbox import rows as outbox
from cxbot.periods import Window
from cxbot.replies.records import forget_replies
from cxbot.store.engine import is_pg
from cxbot.store.rollup import raw_where

CHUNK = 500


class UnknownIdentifier(ValueError):
    """The identifier is neither an address, a handle nor a customer id."""


@dataclass(frozen=True)
class Subject:
    """Whose data a request is about (ids only: nothing personal is carried around)."""

    key: str  # the normalised identifier, hashed for the audit row
    customer_ids: tuple[int, ...]
    signal_ids: tuple[int, ...]
    sources: tuple[tuple[str, int], ...]  # signals per source, for the confirmation prompt

    @property
    def empty(self) -> bool:
        return not self.customer_ids and not self.signal_ids


@dataclass(frozen=True)
class Erased:
    signals: int
    customers: int
    handles: int
    events_scrubbed: int
    messages_dropped: int
    redactions_owed: int
    digests_scrubbed: int = 0


def _chunks(ids: Sequence[int]) -> Iterator[tuple[list[int], str]]:
    for at in range(0, len(ids), CHUNK):
        chunk = list(ids[at : at + CHUNK])
        yield chunk, ", ".join("?" for _ in chunk)


def _column(db: Database, sql: str, params: Sequence[Any]) -> list[Any]:
    return [r[0] for r in db.execute(sql, list(params)).fetchall()]


def _identities(db: Database, customers: set[int]) -> tuple[set[str], set[tuple[str, str]]]:
    emails: set[str] = set()
    handles: set[tuple[str, str]] = set()
    for chunk, marks in _chunks(sorted(customers)):
        sql = f"SELECT email FROM customers WHERE id IN ({marks}) AND email IS NOT NULL"
        emails |= {str(e) for e in _column(db, sql, chunk)}
        found = db.execute(
            f"SELECT provider, handle FROM customer_handles WHERE customer_id IN ({marks})", chunk
        ).fetchall()
        handles |= {(str(p), str(h)) for p, h in found}
    return emails, handles


def find_subject(db: Database, who: str) -> Subject:
    who = who.strip()
    customers: set[int] = set()
    emails: set[str] = set()
    handles: set[tuple[str | None, str]] = set()
    email = normalise_email(who)
    if who.isdigit():
        key = f"id:{int(who)}"
        customers |= set(_column(db, "SELECT id FROM customers WHERE id = ?", [int(who)]))
    elif email is not None:
        key = f"email:{email}"
        emails.add(email)
        customers |= set(_column(db, "SELECT id FROM customers WHERE email = ?", [email]))
    else:
        provider, _, raw = who.rpartition(":") if ":" in who else ("", "", who)
        handle = normalise_handle(raw)
        if handle is None:
            raise UnknownIdentifier(f"{who!r} is not an e-mail address, a handle or a customer id")
        key = f"handle:{provider}:{handle}"
        handles.add((provider or None, handle))
        sql = "SELECT customer_id FROM customer_handles WHERE handle IN (?, ?)"
        params: list[Any] = [handle, "@" + handle]
        if provider:
            sql, params = sql + " AND provider = ?", [*params, provider]
        customers |= {int(c) for c in _column(db, sql, params)}
    more_emails, more_handles = _identities(db, customers)
    emails |= more_emails
    handles |= set(more_handles)
    signals: set[int] = set()
    for chunk, marks in _chunks(sorted(customers)):
        signals |= set(_column(db, f"SELECT id FROM signals WHERE customer_id IN ({marks})", chunk))
    # Signals not joined to a profile yet (enrichment pending, or no profile was made).
    for address in sorted(emails):
        signals |= set(
            _column(db, "SELECT id FROM signals WHERE lower(author_email) = ?", [address])
        )
    for provider_, handle in sorted(handles, key=lambda h: (h[0] or "", h[1])):
        sql = "SELECT id FROM signals WHERE lower(author_handle) IN (?, ?)"
        params = [handle, "@" + handle]
        if provider_:
            sql, params = sql + " AND provider = ?", [*params, provider_]
        signals |= set(_column(db, sql, params))
    per_source: dict[str, int] = {}
    for chunk, marks in _chunks(sorted(signals)):
        for source, n in db.execute(
            f"SELECT source, count(*) FROM signals WHERE id IN ({marks}) GROUP BY source", chunk
        ).fetchall():
            per_source[str(source)] = per_source.get(str(source), 0) + int(n)
    return Subject(
        key, tuple(sorted(customers)), tuple(sorted(signals)), tuple(sorted(per_source.items()))
    )


def subject_hash(db: Database, key: str) -> str:
    """This database's salt and the identifier: the same request hashes the same, and the
    hash alone does not give the address back (the salt is not in the audit row)."""
    salt = str(db.execute("SELECT salt FROM privacy_salt").fetchone()[0])
    return hashlib.sha256(f"{salt}\0{key}".encode()).hexdigest()


def erase(db: Database, who: str, now: datetime, actor: str) -> Erased:
    """One writer job: everything `find_subject` finds goes, or nothing does."""
    subject = find_subject(db, who)
    signals = list(subject.signal_ids)
    if not is_pg(db):
        # Freed pages and the full-text index's old segments are zeroed, not just unlinked.
        db.execute("PRAGMA secure_delete = ON")
    try:
        dropped, redactions = outbox.forget_signals(db, signals, now, redact=True)
        digests, edits = forget_quotes(db, signals, now)
        redactions += edits
        forget_replies(db, signals)  # the team's replies to them keep no text
        events: set[int] = set()
        for chunk, marks in _chunks(signals):
            sql = f"SELECT event_id FROM signals WHERE id IN ({marks}) AND event_id IS NOT NULL"
            events |= {int(e) for e in _column(db, sql, chunk)}
            db.execute(f"DELETE FROM signal_edits WHERE signal_id IN ({marks})", chunk)
            db.execute(f"DELETE FROM sla_breaches WHERE signal_id IN ({marks})", chunk)
            db.execute(f"DELETE FROM signals WHERE id IN ({marks})", chunk)
        scrubbed = 0
        for chunk, marks in _chunks(sorted(events)):
            # Duplicates of the delivery (retries) carry its headers too.
            scrubbed += int(
                db.execute(
                    "UPDATE events SET body = '', headers = '{}', body_sha256 = NULL,"
                    f" rejected = '[]' WHERE id IN ({marks}) OR duplicate_of IN ({marks})",
                    [*chunk, *chunk],
                ).rowcount
            )
        handles = customers = 0
        for chunk, marks in _chunks(subject.customer_ids):
            sql = f"DELETE FROM customer_handles WHERE customer_id IN ({marks})"
            handles += int(db.execute(sql, chunk).rowcount)
            customers += int(
                db.execute(f"DELETE FROM customers WHERE id IN ({marks})", chunk).rowcount
            )
        if not is_pg(db) and signals:
            # FTS5 keeps deleted terms in old segments until they are merged.
            db.execute("INSERT INTO signals_fts (signals_fts) VALUES ('optimize')")
    finally:
        if not is_pg(db):
            db.execute("PRAGMA secure_delete = OFF")
    done = Erased(len(signals), customers, handles, scrubbed, dropped, redactions, digests)
    db.execute(
        "INSERT INTO audit (at, actor, action, subject_hash, detail) VALUES (?, ?, ?, ?, ?)",
        [iso_utc(now), actor, "erase", subject_hash(db, subject.key), json.dumps(asdict(done))],
    )
    return done


def _dicts(db: Database, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    cur = db.execute(sql, list(params))
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def export(db: Database, who: str) -> dict[str, Any]:
    """Everything stored about the subject, as plain JSON-ready data."""
    subject = find_subject(db, who)
    customers: list[dict[str, Any]] = []
    handles: list[dict[str, Any]] = []
    for chunk, marks in _chunks(subject.customer_ids):
        customers += _dicts(db, f"SELECT * FROM customers WHERE id IN ({marks}) ORDER BY id", chunk)
        handles += _dicts(
            db,
            "SELECT provider, handle, customer_id FROM customer_handles"
            f" WHERE customer_id IN ({marks}) ORDER BY provider, handle",
            chunk,
        )
    signals: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    edits: list[dict[str, Any]] = []
    for chunk, marks in _chunks(subject.signal_ids):
        signals += _dicts(db, f"SELECT * FROM signals WHERE id IN ({marks}) ORDER BY id", chunk)
        edits += _dicts(
            db, f"SELECT * FROM signal_edits WHERE signal_id IN ({marks}) ORDER BY 1, 2", chunk
        )
        messages += _dicts(
            db,
            "SELECT id, kind, channel, signal_id, rule, status, created_at, sent_at FROM outbox"
            f" WHERE signal_id IN ({marks}) ORDER BY id",
            chunk,
        )
    for row in signals:
        for name in ("metadata", "topics"):
            try:
                row[name] = json.loads(row[name]) if row.get(name) else row.get(name)
            except ValueError:
                pass  # kept as stored
    return {
        "customers": customers,
        "handles": handles,
        "signals": signals,
        "edits": edits,  # earlier versions of edited reviews
        "messages": messages,  # alerts and their status edits, as owed and sent
    }


def prune_signals(db: Database, before: datetime, now: datetime, limit: int = CHUNK) -> int:
    """Retention (`[retention] signals_days`): up to `limit` of the signals created before
    `before` are deleted (rollup and full-text index follow by trigger), messages still owed
    about them are dropped (posted ones stay as they are: this is retention, not erasure), and
    profiles left with no signal go with their handles. The number of signals deleted."""
    picked = db.execute(
        "SELECT id, customer_id FROM signals WHERE created_at < ? ORDER BY created_at, id LIMIT ?",
        [iso_utc(before), limit],
    ).fetchall()
    ids = [int(i) for i, _ in picked]
    if not ids:
        return 0
    outbox.forget_signals(db, ids, now, redact=False)
    forget_replies(db, ids)
    for chunk, marks in _chunks(ids):
        db.execute(f"DELETE FROM signal_edits WHERE signal_id IN ({marks})", chunk)
        db.execute(f"DELETE FROM sla_breaches WHERE signal_id IN ({marks})", chunk)
        db.execute(f"DELETE FROM signals WHERE id IN ({marks})", chunk)
    owners = sorted({int(c) for _, c in picked if c is not None})
    for chunk, marks in _chunks(owners):
        left = set(
            _column(
                db,
                f"SELECT DISTINCT customer_id FROM signals WHERE customer_id IN ({marks})",
                chunk,
            )
        )
        gone = [c for c in chunk if c not in left]
        for part, gone_marks in _chunks(gone):
            db.execute(f"DELETE FROM customer_handles WHERE customer_id IN ({gone_marks})", part)
            db.execute(f"DELETE FROM customers WHERE id IN ({gone_marks})", part)
    return len(ids)


EXPORT_COLUMNS = (
    "id", "source", "provider", "kind", "external_id", "created_at", "received_at", "lang",
    "sentiment", "sentiment_label", "rating", "score", "score_type", "topics", "urgency",
    "status", "assignee", "customer_id", "author_name", "author_email", "author_handle",
    "title", "text", "url",
)  # fmt: skip


def export_count(db: Database, window: Window, filters: Filters) -> int:
    where, params = raw_where(filters, pg=is_pg(db))
    sql = f"SELECT count(*) FROM signals WHERE created_at >= ? AND created_at < ? AND {where}"
    return int(db.execute(sql, [iso_utc(window.start), iso_utc(window.end), *params]).fetchone()[0])


def export_signals(
    db: Database, window: Window, filters: Filters, after_id: int = 0, limit: int = 1000
) -> list[dict[str, Any]]:
    """One page of the signals `/cx volume` counts for the same window and filters, in id
    order after `after_id` (keyset paging: a long export never holds one huge result)."""
    where, params = raw_where(filters, pg=is_pg(db))
    return _dicts(
        db,
        f"SELECT {', '.join(EXPORT_COLUMNS)} FROM signals WHERE created_at >= ? AND created_at < ?"
        f" AND {where} AND id > ? ORDER BY id LIMIT ?",
        [iso_utc(window.start), iso_utc(window.end), *params, after_id, limit],
    )

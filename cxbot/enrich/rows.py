"""The enrichment stage's SQL: which signals are pending, their write-back, and the customer
profiles they resolve to. Plain `fn(db, ...)` functions for the writer (and reader) thread.

A batch is a handful of statements over JSON arrays rather than several per signal (see
`cxbot.store.jsonsql`: per-row statements stall on the GIL when the server is busy). On
PostgreSQL the same batches are arrays bound as parameters (`= ANY(?)`, `unnest`) or one
`executemany` (psycopg pipelines it), beside the SQLite text they stand for.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

from cxbot.store.engine import is_pg
from cxbot.store.jsonsql import insert_json_rows, item, json_rows, next_id

BATCH = 200
PENDING_COLUMNS = (
    "id",
    "source",
    "provider",
    "kind",
    "text",
    "title",
    "rating",
    "score",
    "score_type",
    "author_name",
    "author_email",
    "author_handle",
    "created_at",
    "thread_key",
    "url",
)

ENRICHED_COLUMNS = (
    "lang",
    "sentiment",
    "sentiment_label",
    "sentiment_source",
    "topics",
    "urgency",
    "intent",
    "enriched_at",
)


def pending(db: Database, limit: int = BATCH, since: str | None = None) -> list[dict[str, Any]]:
    cols = ", ".join(PENDING_COLUMNS)
    sql = f"SELECT {cols} FROM signals WHERE enriched_at IS NULL ORDER BY id LIMIT ?"
    return [dict(zip(PENDING_COLUMNS, r, strict=True)) for r in db.execute(sql, [limit]).fetchall()]


def still_pending(db: Database, ids: Sequence[int]) -> set[int]:
    """The ids among `ids` not enriched yet (one enriched meanwhile by reprocess or another
    worker is not counted twice on its customer's profile)."""
    if is_pg(db):
        # FOR UPDATE: a replica enriching the same rows at once waits for this commit, then
        # sees them enriched (READ COMMITTED re-checks the row), so none is counted twice.
        sql = "SELECT id FROM signals WHERE enriched_at IS NULL AND id = ANY(?) FOR UPDATE"
        return {int(r[0]) for r in db.execute(sql, [list(ids)]).fetchall()}
    return set(
        json_rows(
            db,
            "SELECT json_group_array(id) FROM signals WHERE enriched_at IS NULL"
            " AND id IN (SELECT value FROM json_each(?))",
            [json.dumps(list(ids))],
        )
    )


def write_enrichment(db: Database, values: list[list[Any]]) -> None:
    """`values`: per signal, its id then its ENRICHED_COLUMNS values."""
    if not values:
        return
    if is_pg(db):
        marks = ", ".join(f"{c} = ?" for c in ENRICHED_COLUMNS)
        db.conn.executemany(
            f"UPDATE signals SET {marks} WHERE id = ?", [[*v[1:], v[0]] for v in values]
        )
        return
    sets = ", ".join(f"{c} = {item(i + 1)}" for i, c in enumerate(ENRICHED_COLUMNS))
    db.execute(
        f"UPDATE signals SET {sets} FROM json_each(?) j WHERE signals.id = {item(0)}",
        [json.dumps(values, ensure_ascii=False)],
    )


def customers_by_email(db: Database, emails: list[str]) -> list[tuple[int, str]]:
    if not emails:
        return []
    if is_pg(db):
        sql = "SELECT id, email FROM customers WHERE email = ANY(?)"
        return [(int(i), str(e)) for i, e in db.execute(sql, [emails]).fetchall()]
    return [
        (cid, email)
        for cid, email in json_rows(
            db,
            "SELECT json_group_array(json_array(id, email)) FROM customers"
            " WHERE email IN (SELECT value FROM json_each(?))",
            [json.dumps(emails, ensure_ascii=False)],
        )
    ]


def customers_by_handle(
    db: Database, handles: list[tuple[str, str]]
) -> list[tuple[str, str, int, str | None]]:
    if not handles:
        return []
    if is_pg(db):
        return [
            (p, h, int(c), e)
            for p, h, c, e in db.execute(
                "SELECT h.provider, h.handle, c.id, c.email FROM unnest(?::text[], ?::text[])"
                " AS k(provider, handle) JOIN customer_handles h ON h.provider = k.provider"
                " AND h.handle = k.handle JOIN customers c ON c.id = h.customer_id",
                [[p for p, _ in handles], [h for _, h in handles]],
            ).fetchall()
        ]
    return [
        (provider, handle, cid, email)
        for provider, handle, cid, email in json_rows(
            db,
            "SELECT json_group_array(json_array(h.provider, h.handle, c.id, c.email))"
            " FROM json_each(?) j"
            f" JOIN customer_handles h ON h.provider = {item(0)} AND h.handle = {item(1)}"
            " JOIN customers c ON c.id = h.customer_id",
            [json.dumps(handles, ensure_ascii=False)],
        )
    ]


def next_customer_id(db: Database) -> int:
    return next_id(db, "customers")


def write_customers(
    db: Database,
    new: list[dict[str, Any]],
    emails_set: dict[int, str],
    handles_added: list[list[Any]],
    assignments: list[list[int]],
    profile_changes: list[list[Any]],
) -> None:
    """New profiles, emails gained, handles seen, each signal's customer ([signal id, customer
    id]), and the profiles' counts: five statements for the whole batch."""
    insert_json_rows(db, "customers", new)
    if is_pg(db):
        _write_customers_pg(db, emails_set, handles_added, assignments, profile_changes)
        return
    if emails_set:
        db.execute(
            f"UPDATE customers SET email = {item(1)} FROM json_each(?) j"
            f" WHERE customers.id = {item(0)}",
            [json.dumps(list(emails_set.items()), ensure_ascii=False)],
        )
    if handles_added:
        db.execute(
            "INSERT OR IGNORE INTO customer_handles (provider, handle, customer_id)"
            f" SELECT {item(0)}, {item(1)}, {item(2)} FROM json_each(?) j",
            [json.dumps(handles_added, ensure_ascii=False)],
        )
    if not assignments:
        return
    db.execute(
        f"UPDATE signals SET customer_id = {item(1)} FROM json_each(?) j"
        f" WHERE signals.id = {item(0)}",
        [json.dumps(assignments)],
    )
    db.execute(
        f"""UPDATE customers SET
             signal_count = signal_count + {item(1)},
             name = coalesce(name, {item(2)}),
             first_seen = min(first_seen, {item(3)}),
             last_seen = max(last_seen, {item(4)}),
             sentiment_sum = sentiment_sum + {item(5)},
             sentiment_count = sentiment_count + {item(6)},
             avg_sentiment = CASE WHEN sentiment_count + {item(6)} > 0
                 THEN (sentiment_sum + {item(5)}) / (sentiment_count + {item(6)}) ELSE NULL END
           FROM json_each(?) j WHERE customers.id = {item(0)}""",
        [json.dumps(profile_changes, ensure_ascii=False)],
    )


def _write_customers_pg(
    db: Database,
    emails_set: dict[int, str],
    handles_added: list[list[Any]],
    assignments: list[list[int]],
    profile_changes: list[list[Any]],
) -> None:
    """write_customers' statements on PostgreSQL, each over the whole batch."""
    run = db.conn.executemany
    if emails_set:
        run("UPDATE customers SET email = ? WHERE id = ?", [[e, i] for i, e in emails_set.items()])
    if handles_added:
        run(
            "INSERT INTO customer_handles (provider, handle, customer_id) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            handles_added,
        )
    if not assignments:
        return
    run("UPDATE signals SET customer_id = ? WHERE id = ?", [[c, s] for s, c in assignments])
    run(
        """UPDATE customers SET
             signal_count = signal_count + ?, name = coalesce(name, ?),
             first_seen = least(first_seen, ?), last_seen = greatest(last_seen, ?),
             sentiment_sum = sentiment_sum + ?, sentiment_count = sentiment_count + ?,
             avg_sentiment = CASE WHEN sentiment_count + ? > 0
                 THEN (sentiment_sum + ?) / (sentiment_count + ?) ELSE NULL END
           WHERE id = ?""",
        [
            [n, name, first, last, ssum, scount, scount, ssum, scount, cid]
            for cid, n, name, first, last, ssum, scount in profile_changes
        ],  # fmt: skip
    )


def enriched_after(
    db: Database, last_id: int, since: str, limit: int = BATCH
) -> list[dict[str, Any]]:
    """Enriched signals created at or after `since`, after id `last_id` (keyset pagination by
    id: stable while the rows are being rewritten)."""
    cols = ", ".join(PENDING_COLUMNS)
    cur = db.execute(
        f"SELECT {cols} FROM signals WHERE id > ? AND enriched_at IS NOT NULL"
        " AND created_at >= ? ORDER BY id LIMIT ?",
        [last_id, since, limit],
    )
    return [dict(zip(PENDING_COLUMNS, r, strict=True)) for r in cur.fetchall()]


def count_enriched(db: Database, since: str) -> int:
    return int(
        db.execute(
            "SELECT count(*) FROM signals WHERE enriched_at IS NOT NULL AND created_at >= ?",
            [since],
        ).fetchone()[0]
    )


def rewrite_enrichment(db: Database, values: list[list[Any]]) -> None:
    """`values`: per signal, its ENRICHED_COLUMNS values then its id."""
    sets = ", ".join(f"{c} = ?" for c in ENRICHED_COLUMNS)
    db.conn.executemany(f"UPDATE signals SET {sets} WHERE id = ?", values)


def recount_profile_sentiment(db: Database) -> None:
    """Profile sentiment follows the re-scored texts (counts and dates do not change)."""
    db.execute(
        """UPDATE customers SET
             sentiment_sum = coalesce((SELECT sum(sentiment) FROM signals s
                                       WHERE s.customer_id = customers.id), 0),
             sentiment_count = (SELECT count(sentiment) FROM signals s
                                WHERE s.customer_id = customers.id),
             avg_sentiment = (SELECT avg(sentiment) FROM signals s
                              WHERE s.customer_id = customers.id)"""
    )

"""The schema, as named migrations applied in order and recorded (sqlite-utils `Migrations`).

Never edit a migration that has shipped: add the next one. Each is applied once; applying the
set again changes nothing (tested).

One registry serves both engines: on SQLite sqlite-utils applies it (recorded in
`_sqlite_migrations`), on PostgreSQL `cxbot.store.pg.migrate_pg` runs the same functions in
order (recorded in `_cxbot_migrations`), each with the engine-neutral handle. A migration whose
SQL runs on both (most DDL: `ALTER TABLE t ADD COLUMN c TEXT`, `CREATE INDEX ...`) is written
once with `db.execute`; where the engines differ, branch on `is_pg(db)` and keep both texts
here (PostgreSQL's long ones live in `store/pgschema.py`). docs/deployment.md shows an example.
"""

from __future__ import annotations

import secrets

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from cxbot.store import pgschema
from cxbot.store.engine import is_pg

migrations = Migrations("cxbot")


@migrations()
def m001_initial(db: Database) -> None:
    if is_pg(db):
        db.executescript(pgschema.INITIAL)
        return
    for statement in _INITIAL.split(";"):
        if statement.strip():
            db.execute(statement)
    db.table("signals").enable_fts(["title", "text"], fts_version="FTS5", create_triggers=True)


_INITIAL = """
        CREATE TABLE signals (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            provider TEXT NOT NULL,
            kind TEXT NOT NULL,
            external_id TEXT NOT NULL,
            customer_id INTEGER REFERENCES customers(id),
            author_name TEXT,
            author_handle TEXT,
            author_email TEXT,
            title TEXT,
            text TEXT,
            rating INTEGER,
            score REAL,
            score_type TEXT,
            url TEXT,
            channel TEXT,
            thread_key TEXT,
            metadata TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            received_at TEXT NOT NULL,
            event_id INTEGER REFERENCES events(id),
            lang TEXT,
            sentiment REAL,
            sentiment_label TEXT,
            sentiment_source TEXT,
            topics TEXT NOT NULL DEFAULT '[]',
            urgency INTEGER,
            enriched_at TEXT,
            status TEXT NOT NULL DEFAULT 'new',
            assignee TEXT,
            status_by TEXT,
            status_at TEXT,
            acknowledged_at TEXT,
            resolved_at TEXT,
            UNIQUE (source, external_id)
        );
        -- Time-range queries (/cx, digests) filter on created_at, often with source or kind.
        CREATE INDEX signals_created ON signals (created_at);
        CREATE INDEX signals_source_created ON signals (source, created_at);
        CREATE INDEX signals_kind_created ON signals (kind, created_at);
        CREATE INDEX signals_customer ON signals (customer_id, created_at);
        CREATE INDEX signals_thread ON signals (source, thread_key) WHERE thread_key IS NOT NULL;
        -- The enrichment worker resumes from here after a restart.
        CREATE INDEX signals_unenriched ON signals (id) WHERE enriched_at IS NULL;

        CREATE TABLE customers (
            id INTEGER PRIMARY KEY,
            email TEXT UNIQUE,
            name TEXT,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            signal_count INTEGER NOT NULL DEFAULT 0,
            sentiment_sum REAL NOT NULL DEFAULT 0,
            sentiment_count INTEGER NOT NULL DEFAULT 0,
            avg_sentiment REAL
        );
        -- Handles seen for a customer on each provider (one person, many channels).
        CREATE TABLE customer_handles (
            provider TEXT NOT NULL,
            handle TEXT NOT NULL,
            customer_id INTEGER NOT NULL REFERENCES customers(id),
            PRIMARY KEY (provider, handle)
        );
        CREATE INDEX customer_handles_customer ON customer_handles (customer_id);

        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            provider TEXT NOT NULL,
            received_at TEXT NOT NULL,
            delivery_id TEXT,
            event_type TEXT,
            content_type TEXT,
            headers TEXT NOT NULL DEFAULT '{}',
            body TEXT NOT NULL,
            outcome TEXT NOT NULL,
            accepted INTEGER NOT NULL DEFAULT 0,
            duplicates INTEGER NOT NULL DEFAULT 0,
            rejected TEXT NOT NULL DEFAULT '[]'
        );
        CREATE INDEX events_received ON events (received_at);
        CREATE INDEX events_delivery ON events (source, delivery_id);

        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            dedup_key TEXT NOT NULL UNIQUE,
            channel TEXT NOT NULL,
            signal_id INTEGER REFERENCES signals(id),
            rule TEXT,
            rules TEXT NOT NULL DEFAULT '[]',
            rollup_id INTEGER REFERENCES outbox(id),
            payload TEXT NOT NULL DEFAULT '{}',
            thread_of INTEGER REFERENCES outbox(id),
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            slack_channel TEXT,
            slack_ts TEXT
        );
        CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
        CREATE INDEX outbox_signal ON outbox (signal_id);
        CREATE INDEX outbox_throttle ON outbox (rule, channel, created_at);
        CREATE INDEX outbox_rollup ON outbox (rollup_id) WHERE rollup_id IS NOT NULL;

        CREATE TABLE digests (
            id INTEGER PRIMARY KEY,
            period TEXT NOT NULL,
            channel TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            text TEXT,
            UNIQUE (period, channel)
        );

        CREATE TABLE mutes (
            rule TEXT PRIMARY KEY,
            until TEXT NOT NULL,
            muted_by TEXT,
            created_at TEXT NOT NULL
        );
"""


@migrations()
def m002_cx_rollup(db: Database) -> None:
    """`/cx` on millions of signals: the daily rollup with its triggers, and covering indexes
    (cxbot/store/rollup.py explains the design)."""
    from cxbot.store.rollup import create_rollup

    create_rollup(db)


@migrations()
def m003_fts_on_text_changes_only(db: Database) -> None:
    """sqlite-utils' update trigger re-indexes a signal on every UPDATE — enrichment, status
    clicks — although only title and text are indexed: re-index on changes to those alone."""
    if is_pg(db):  # PostgreSQL's index is an expression index: nothing to re-index by hand
        return
    db.execute("DROP TRIGGER IF EXISTS signals_au")
    db.execute(
        """CREATE TRIGGER signals_au AFTER UPDATE OF title, text ON signals BEGIN
  INSERT INTO signals_fts (signals_fts, rowid, title, text) VALUES('delete', old.rowid, old.title, old.text);
  INSERT INTO signals_fts (rowid, title, text) VALUES (new.rowid, new.title, new.text);
END"""
    )


@migrations()
def m004_digest_status_follows_outbox(db: Database) -> None:
    """A digest's outcome ('sent' with its time, or 'failed') is copied from its outbox row
    into `digests` by the database, in the same statement that marks the row: the outbox
    worker knows nothing of digests. The key is 'digest:PERIOD:CHANNEL' (periods hold no ':')."""
    if is_pg(db):
        db.executescript(pgschema.DIGEST_STATUS)
        return
    db.execute(
        """CREATE TRIGGER outbox_digest_status AFTER UPDATE OF status ON outbox
  WHEN new.kind = 'digest' AND new.status IN ('sent', 'failed')
BEGIN
  UPDATE digests SET status = new.status, sent_at = new.sent_at
   WHERE channel = new.channel
     AND period = substr(new.dedup_key, 8, instr(substr(new.dedup_key, 8), ':') - 1);
END"""
    )


@migrations()
def m005_events_kept_small(db: Database) -> None:
    """`events` bounded (issue 14): a ping, a test send or an all-duplicate delivery keeps its
    hash and size but no body, a duplicate points at the event that first brought its signal,
    and retention (cxbot/store/retention.py) prunes by `received_at` (index events_received)
    and clears the pruned ids from `signals.event_id` (index signals_event)."""
    db.execute("ALTER TABLE events ADD COLUMN body_sha256 TEXT")
    db.execute("ALTER TABLE events ADD COLUMN body_bytes INTEGER")
    # Not a foreign key: the first copy may be pruned before its duplicates are.
    db.execute("ALTER TABLE events ADD COLUMN duplicate_of INTEGER")
    db.execute("CREATE INDEX signals_event ON signals (event_id) WHERE event_id IS NOT NULL")


@migrations()
def m006_signals_intent(db: Database) -> None:
    """What the customer wants (issue 13): complaint, question, request, praise, churn_risk, or
    NULL when unknown; written with the enrichment (enrich/rows.py), refilled by `cxbot
    reprocess`. The partial index serves `/cx ... intent:NAME`, which reads signals rather than
    the rollup (intent is not one of its keys). The same DDL on both engines."""
    db.execute("ALTER TABLE signals ADD COLUMN intent TEXT")
    db.execute(
        "CREATE INDEX signals_intent ON signals (intent, created_at) WHERE intent IS NOT NULL"
    )


@migrations()
def m007_poll_cursors(db: Database) -> None:
    """Sources without webhooks (issue 16): where each poll source stopped, so a restart
    resumes there (`cursor` is the poller's state as JSON, cxbot/poll/records.py; `failures`
    counts consecutive failed runs), and `signal_edits`, the versions a review had before the
    provider reported it edited (cxbot/store/edits.py)."""
    db.execute(
        "CREATE TABLE poll_cursors (source TEXT PRIMARY KEY, cursor TEXT NOT NULL DEFAULT '{}',"
        " last_run TEXT, last_ok TEXT, last_error TEXT, failures INTEGER NOT NULL DEFAULT 0)"
    )
    number, real = ("BIGINT", "DOUBLE PRECISION") if is_pg(db) else ("INTEGER", "REAL")
    db.execute(
        f"CREATE TABLE signal_edits (signal_id {number} NOT NULL REFERENCES signals(id),"
        " edited_at TEXT NOT NULL, title TEXT, text TEXT, rating INTEGER, lang TEXT,"
        f" sentiment {real}, sentiment_label TEXT, topics TEXT NOT NULL DEFAULT '[]',"
        " urgency INTEGER, PRIMARY KEY (signal_id, edited_at))"
    )


@migrations()
def m008_privacy_audit(db: Database) -> None:
    """Erasure (issue 19): `audit` records who erased what and when with no personal data (a
    salted hash of the identifier, and counts), `privacy_salt` holds this database's random
    salt, written once here so that hashes of one identifier agree across runs."""
    ident = "BIGINT GENERATED BY DEFAULT AS IDENTITY" if is_pg(db) else "INTEGER"
    text = 'TEXT COLLATE "C"' if is_pg(db) else "TEXT"  # byte order on both engines
    db.execute(
        f"CREATE TABLE audit (id {ident} PRIMARY KEY, at {text} NOT NULL, actor {text} NOT NULL,"
        f" action {text} NOT NULL, subject_hash {text} NOT NULL, detail {text} NOT NULL)"
    )
    db.execute(f"CREATE TABLE privacy_salt (salt {text} NOT NULL)")
    db.execute("INSERT INTO privacy_salt (salt) VALUES (?)", [secrets.token_hex(16)])


@migrations()
def m009_alert_lifecycle(db: Database) -> None:
    """Closing the loop (issue 17). On `signals`: `snoozed_until` (ISO UTC, or 'customer' for
    "until the customer writes again"), `snoozed_from` (the status a wake-up returns to),
    `regressed_at`, `reopened` (how many times a resolved alert came back), `status_version`
    (bumped by every status change: the compare-and-set that keeps two replicas' clicks from
    both applying, and the version in the message updates' dedup keys). `sla_breaches`: one
    row per alert and stage ('ack' or 'resolve') once breached, so a breach is posted once,
    restarts or not (cxbot/alerts/records.py)."""
    text = 'TEXT COLLATE "C"' if is_pg(db) else "TEXT"
    number = "BIGINT" if is_pg(db) else "INTEGER"
    db.execute(f"ALTER TABLE signals ADD COLUMN snoozed_until {text}")
    db.execute(f"ALTER TABLE signals ADD COLUMN snoozed_from {text}")
    db.execute(f"ALTER TABLE signals ADD COLUMN regressed_at {text}")
    db.execute("ALTER TABLE signals ADD COLUMN reopened INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE signals ADD COLUMN status_version INTEGER NOT NULL DEFAULT 0")
    db.execute(
        "CREATE INDEX signals_snoozed ON signals (snoozed_until) WHERE snoozed_until IS NOT NULL"
    )
    # The digest's regressions of a week.
    db.execute(
        "CREATE INDEX signals_regressed ON signals (regressed_at) WHERE regressed_at IS NOT NULL"
    )
    # The SLA check's scan: alerts of the last weeks (cxbot/outbox/rows.py open_alerts).
    db.execute("CREATE INDEX outbox_alert_created ON outbox (created_at) WHERE kind = 'alert'")
    # Not a foreign key: an erasure deletes the signal's breaches with it (privacy/records.py).
    db.execute(
        f"CREATE TABLE sla_breaches (signal_id {number} NOT NULL, sla {text} NOT NULL,"
        f" stage {text} NOT NULL, due_at {text} NOT NULL, breached_at {text} NOT NULL,"
        " PRIMARY KEY (signal_id, stage))"
    )


@migrations()
def m010_replies(db: Database) -> None:
    """Replying to the customer from Slack (issue 17): one row per draft sent with *Send*,
    found by its `draft_key` (the modal's idempotency key: a second *Send* writes nothing), its
    outcome `pending` → `sent` (with the provider's reply id), `error` (the provider's reason)
    or `outdated` (the review or ticket changed or was erased after the draft was opened;
    `basis` is the fingerprint taken when it was opened). Numbered m010 while m009 is another
    branch's: migrations are applied by name, so either order leaves the same schema. No
    foreign key on `signal_id`: an erasure deletes the signal and scrubs its replies' text."""
    number = "BIGINT" if is_pg(db) else "INTEGER"
    ident = "BIGINT GENERATED BY DEFAULT AS IDENTITY" if is_pg(db) else "INTEGER"
    text = 'TEXT COLLATE "C"' if is_pg(db) else "TEXT"
    db.execute(
        f"CREATE TABLE replies (id {ident} PRIMARY KEY, signal_id {number} NOT NULL,"
        f" source {text} NOT NULL, author {text} NOT NULL, text {text} NOT NULL,"
        f" status {text} NOT NULL DEFAULT 'pending', provider_reply_id {text}, error {text},"
        f" draft_key {text} NOT NULL UNIQUE, basis {text}, created_at {text} NOT NULL,"
        f" sent_at {text})"
    )
    db.execute("CREATE INDEX replies_signal ON replies (signal_id, status)")
    db.execute("CREATE INDEX replies_sent ON replies (sent_at) WHERE sent_at IS NOT NULL")

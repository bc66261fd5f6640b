"""The daily rollup on PostgreSQL: the same tables as cxbot/store/rollup.py, kept exact by a
row trigger in PL/pgSQL inside the writer's transaction, whoever writes.

Days are local to the team's timezone through the same `rollup_offsets` table as on SQLite
(Python's zoneinfo computes it), not PostgreSQL's own zone data: both engines bucket a signal
into the same day even where the two tz databases disagree. Replicas writing at once upsert
the same rollup rows; PostgreSQL's row locks serialise them, so the counts stay exact (a
deadlock between two batches fails one batch, which the writer runs again).
"""

from __future__ import annotations

from typing import Any

from cxbot.store.rollup_sql import _CONTRIB, _WATCHED, COLUMNS, KEYS, LANG_KEYS, _sql, raw_sums

# Local date of created_at: the offset in force at that instant (none stored = UTC); text that
# is not a timestamp buckets into 'invalid', as SQLite's date() returning NULL does.
DAY_FUNCTION = """
CREATE FUNCTION cxbot_day(created text) RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    t timestamptz;
    m integer;
BEGIN
    BEGIN
        t := created::timestamptz;
    EXCEPTION WHEN others THEN
        RETURN 'invalid';
    END;
    SELECT minutes INTO m FROM rollup_offsets WHERE starts_at <= created
     ORDER BY starts_at DESC LIMIT 1;
    RETURN to_char((t AT TIME ZONE 'UTC') + make_interval(mins => coalesce(m, 0)), 'YYYY-MM-DD');
END $$
"""

SEVERITY_PG = (
    "least(coalesce(sentiment, 1.0), coalesce((rating - 3) / 2.0, 1.0), coalesce(CASE score_type"
    " WHEN 'nps' THEN (score - 5) / 5.0 WHEN 'csat' THEN (score - 3) / 2.0"
    " WHEN 'ces' THEN (score - 4) / 3.0 END, 1.0))"
)


def _upsert(lang: bool) -> str:
    """Add k (+1 or -1) times one signal's counts to its rows (every topic and '')."""
    table = "daily_rollup_lang" if lang else "daily_rollup"
    keys = LANG_KEYS if lang else KEYS
    values = {
        "topic": "t.topic",
        "day": "cxbot_day(s.created_at)",
        "source": "s.source",
        "kind": "s.kind",
        "lang": "coalesce(s.lang, '')",
    }
    contrib = ", ".join(f"k * ({_sql(_CONTRIB[c], 's.')})" for c in COLUMNS)
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in COLUMNS)
    cols, extra = ", ".join(keys + COLUMNS), ""
    if not lang:
        cols += ", min_id, max_id"
        extra = ", CASE WHEN k > 0 THEN s.id END, CASE WHEN k > 0 THEN s.id END"
        updates += (
            f", min_id = least({table}.min_id, excluded.min_id),"
            f" max_id = greatest({table}.max_id, excluded.max_id)"
        )
    return (
        f"INSERT INTO {table} ({cols}) SELECT {', '.join(values[c] for c in keys)}, {contrib}"
        f"{extra} FROM (SELECT '' AS topic UNION SELECT cxbot_topics(s.topics)) AS t"
        f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates};"
    )


def create_rollup_pg(db: Any) -> None:
    """m002 on PostgreSQL: tables, the trigger, the indexes, a first fill."""
    columns = ", ".join(
        f"{c} {'DOUBLE PRECISION' if c.endswith('_sum') else 'INTEGER'} NOT NULL DEFAULT 0"
        for c in COLUMNS
    )
    t = 'TEXT COLLATE "C" NOT NULL'
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _WATCHED)
    statements = [
        f"CREATE TABLE daily_rollup (topic {t}, day {t}, source {t}, kind {t}, {columns},"
        f" min_id BIGINT, max_id BIGINT, PRIMARY KEY ({', '.join(KEYS)}))",
        f"CREATE TABLE daily_rollup_lang (topic {t}, lang {t}, day {t}, source {t}, kind {t},"
        f" {columns}, PRIMARY KEY ({', '.join(LANG_KEYS)}))",
        f"CREATE TABLE rollup_offsets (starts_at {t} PRIMARY KEY, minutes INTEGER NOT NULL)",
        f"CREATE TABLE rollup_meta (key {t} PRIMARY KEY, value {t})",
        "INSERT INTO rollup_meta (key, value) VALUES ('timezone', 'UTC')",
        "CREATE INDEX daily_rollup_source ON daily_rollup (topic, source, day)",
        "CREATE INDEX daily_rollup_kind ON daily_rollup (topic, kind, day)",
        DAY_FUNCTION,
        "CREATE FUNCTION cxbot_rollup_apply(s signals, k integer) RETURNS void"
        f" LANGUAGE plpgsql AS $$ BEGIN {_upsert(False)} {_upsert(True)} END $$",
        "CREATE FUNCTION cxbot_rollup_trigger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " IF TG_OP <> 'INSERT' THEN PERFORM cxbot_rollup_apply(OLD, -1); END IF;"
        " IF TG_OP <> 'DELETE' THEN PERFORM cxbot_rollup_apply(NEW, 1); END IF;"
        " RETURN NULL; END $$",
        "CREATE TRIGGER signals_rollup_insert AFTER INSERT OR DELETE ON signals FOR EACH ROW"
        " EXECUTE FUNCTION cxbot_rollup_trigger()",
        f"CREATE TRIGGER signals_rollup_update AFTER UPDATE OF {', '.join(_WATCHED)} ON signals"
        f" FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION cxbot_rollup_trigger()",
        "CREATE INDEX customer_handles_handle ON customer_handles (handle)",
        "CREATE INDEX signals_negative ON signals (created_at, sentiment, rating, score_type,"
        " score, source, kind, lang) WHERE sentiment_label = 'negative'",
        f"CREATE INDEX signals_worst ON signals (({SEVERITY_PG}), created_at DESC, source, kind,"
        " lang) WHERE sentiment_label = 'negative'",
    ]
    for statement in statements:
        db.execute(statement)
    rebuild_rollup_pg(db)


def rebuild_rollup_pg(db: Any) -> None:
    sums = raw_sums("s.")
    for table, keys in (("daily_rollup", KEYS), ("daily_rollup_lang", LANG_KEYS)):
        db.execute(f"DELETE FROM {table}")
        ids = ", min(s.id), max(s.id)" if table == "daily_rollup" else ""
        target = (
            f"INSERT INTO {table} ({', '.join(keys + COLUMNS)}{', min_id, max_id' if ids else ''})"
        )
        cols = {
            "day": "cxbot_day(s.created_at)",
            "source": "s.source",
            "kind": "s.kind",
            "lang": "coalesce(s.lang, '')",
        }
        rest = ", ".join(cols[k] for k in keys[1:])
        group = ", ".join(str(i) for i in range(1, len(keys) + 1))
        db.execute(f"{target} SELECT '', {rest}, {sums}{ids} FROM signals s GROUP BY {group}")
        db.execute(
            f"{target} SELECT j.topic, {rest}, {sums}{ids} FROM signals s,"
            f" cxbot_topics(s.topics) AS j(topic) GROUP BY {group}"
        )

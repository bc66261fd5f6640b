"""The daily rollup that makes `/cx` metrics fast on millions of signals, and how to read it.

`daily_rollup` holds additive counts (metrics.Counts) per local day, source, kind and topic
(topic '' = every signal; each topic of a signal also gets its own rows, so `topic:NAME` is a
key, not a JSON scan); `daily_rollup_lang` adds the language, and is read only for `lang:`.
Keeping languages out of the main table keeps a year's read to days × sources × kinds rows
(languages would multiply it by their number, ~10-30: the difference between ~10 and ~150 ms). Triggers on `signals` keep it exact inside the writer's transaction,
whoever writes (intake, enrichment, ingest, a person with the sqlite3 shell): no refresh job, no
staleness. Days are local to the team's timezone, so "this week", date ranges and daily
sparklines line up with whole rows. SQLite knows no IANA zones, so the zone's UTC offsets are
stored in `rollup_offsets` and the triggers look the offset up: plain SQL that works in any
SQLite client. Changing the configured zone rebuilds the rollup (`set_rollup_timezone`).

A window that does not start or end on a local midnight is read as whole days from the rollup
plus a raw scan of the partial days over a covering index; for each partial day the cheaper side
is scanned (the part inside, or the whole day minus the part outside), so a raw edge is at most
half a day. The thresholds come from metrics.py; changing them (or this SQL) needs a new
migration that recreates the triggers and calls `rebuild_rollup`. tests/test_queries.py checks
the rollup against raw aggregation.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from cxbot.metrics import Counts
from cxbot.models import Filters, iso_utc
from cxbot.periods import day_start, local_date
from cxbot.store.engine import is_pg
from cxbot.store.rollup_pg import SEVERITY_PG, create_rollup_pg, rebuild_rollup_pg
from cxbot.store.rollup_sql import _CONTRIB, _WATCHED, COLUMNS, KEYS, LANG_KEYS, _sql
from cxbot.store.rollup_sql import raw_sums as raw_sums

# Enrichment may rewrite topics with anything; a trigger that raised would lose the signal.
_TOPICS = "CASE WHEN json_valid({p}topics) THEN {p}topics ELSE '[]' END"
# Local date of created_at: the offset in force at that instant (none stored yet = UTC).
_DAY = (
    "coalesce(date({p}created_at, coalesce((SELECT printf('%+d minutes', minutes)"
    " FROM rollup_offsets WHERE starts_at <= {p}created_at ORDER BY starts_at DESC LIMIT 1),"
    " '+0 minutes')), 'invalid')"
)
ROLLUP_SUMS = ", ".join(f"sum({c})" for c in COLUMNS)


# How bad a negative signal is, -1 (worst) .. 1: the lowest of its rating, score and text
# sentiment, each mapped onto -1..1 (an explicit rating or score is as strong as the words).
SEVERITY = (
    "min(coalesce(sentiment, 1.0), coalesce((rating - 3) / 2.0, 1.0), coalesce(CASE score_type"
    " WHEN 'nps' THEN (score - 5) / 5.0 WHEN 'csat' THEN (score - 3) / 2.0"
    " WHEN 'ces' THEN (score - 4) / 3.0 END, 1.0))"
)


# A topic listed twice in one signal counts once: keep its first occurrence only.
FIRST_TOPIC = (
    "j.type = 'text' AND j.value <> '' AND j.id = (SELECT min(k.id) FROM "
    "json_each(CASE WHEN json_valid(s.topics) THEN s.topics ELSE '[]' END) k "
    "WHERE k.value = j.value)"
)


def _row_values(prefix: str, sign: str) -> str:
    return ", ".join(f"{sign}({_sql(_CONTRIB[c], prefix)})" for c in COLUMNS)


def _upsert(prefix: str, sign: str, *, lang: bool) -> str:
    """One trigger statement adding (sign '') or removing (sign '-') a signal's counts."""
    # UNION (not UNION ALL) so a topic listed twice counts once, like the raw scans below.
    topics = (
        f"SELECT '' AS topic UNION SELECT value FROM json_each({_sql(_TOPICS, prefix)})"
        " WHERE type = 'text' AND value <> ''"
    )
    keys = LANG_KEYS if lang else KEYS
    values = {
        "topic": "t.topic",
        "day": "d.day",
        "source": f"{prefix}source",
        "kind": f"{prefix}kind",
        "lang": f"coalesce({prefix}lang, '')",
    }
    updates = ", ".join(f"{c} = {c} + excluded.{c}" for c in COLUMNS)
    extra_cols, extra_values = "", ""
    if not lang:
        # Id bounds only widen: a removed signal leaves them loose, which search tolerates.
        updates += ", " + ", ".join(
            f"{c} = coalesce({f}({c}, excluded.{c}), {c}, excluded.{c})"
            for c, f in (("min_id", "min"), ("max_id", "max"))
        )
        extra_cols = ", min_id, max_id"
        extra_values = f", {prefix}id, {prefix}id" if sign == "" else ", NULL, NULL"
    return (
        f"INSERT INTO {'daily_rollup_lang' if lang else 'daily_rollup'}"
        f" ({', '.join(keys + COLUMNS)}{extra_cols})"
        f" SELECT {', '.join(values[k] for k in keys)}, {_row_values(prefix, sign)}{extra_values}"
        f" FROM (SELECT {_sql(_DAY, prefix)} AS day) AS d, ({topics}) AS t WHERE true"
        f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates};"
    )


def _change(prefix: str, sign: str) -> str:
    return _upsert(prefix, sign, lang=False) + " " + _upsert(prefix, sign, lang=True)


def create_rollup(db: Database) -> None:
    """The migration body: tables, triggers, the covering index for raw edges, a first fill."""
    if is_pg(db):
        create_rollup_pg(db)
        return
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in _WATCHED)
    columns = ", ".join(
        f"{c} {'REAL' if c.endswith('_sum') else 'INTEGER'} NOT NULL DEFAULT 0" for c in COLUMNS
    )
    statements = [
        f"CREATE TABLE daily_rollup (topic TEXT NOT NULL, day TEXT NOT NULL, source TEXT NOT NULL,"
        f" kind TEXT NOT NULL, {columns},"
        # The lowest and highest signal id of the row's day: `/cx search` over a period reads
        # only that id range of the full-text index (ids are not in created_at order).
        f" min_id INTEGER, max_id INTEGER, PRIMARY KEY ({', '.join(KEYS)})) WITHOUT ROWID",
        f"CREATE TABLE daily_rollup_lang (topic TEXT NOT NULL, lang TEXT NOT NULL,"
        f" day TEXT NOT NULL, source TEXT NOT NULL, kind TEXT NOT NULL, {columns},"
        f" PRIMARY KEY ({', '.join(LANG_KEYS)})) WITHOUT ROWID",
        "CREATE TABLE rollup_offsets (starts_at TEXT PRIMARY KEY, minutes INTEGER NOT NULL)"
        " WITHOUT ROWID",
        "CREATE TABLE rollup_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "INSERT INTO rollup_meta (key, value) VALUES ('timezone', 'UTC')",
        # `source:` and `kind:` filters seek their own days instead of scanning every source's
        # rows of the range. Keys never change once a row exists, so upserts don't touch these.
        "CREATE INDEX daily_rollup_source ON daily_rollup (topic, source, day)",
        "CREATE INDEX daily_rollup_kind ON daily_rollup (topic, kind, day)",
        f"CREATE TRIGGER signals_rollup_insert AFTER INSERT ON signals BEGIN"
        f" {_change('new.', '')} END",
        f"CREATE TRIGGER signals_rollup_delete AFTER DELETE ON signals BEGIN"
        f" {_change('old.', '-')} END",
        f"CREATE TRIGGER signals_rollup_update AFTER UPDATE OF {', '.join(_WATCHED)} ON signals"
        f" WHEN {changed} BEGIN {_change('old.', '-')} {_change('new.', '')} END",
        # Raw edges and windows read only this index (no table lookups). It starts with
        # created_at, so it also serves everything signals_created served.
        "CREATE INDEX signals_created_cover ON signals (created_at, source, kind, lang, rating,"
        " score_type, score, sentiment_label, sentiment, topics)",
        "DROP INDEX IF EXISTS signals_created",
        # `/cx customer @handle` looks handles up without knowing the provider.
        "CREATE INDEX IF NOT EXISTS customer_handles_handle ON customer_handles (handle)",
        # `/cx top negative`: only negative signals, with what ranks and filters them; by time
        # for short periods, worst first (then newest) for long ones.
        "CREATE INDEX signals_negative ON signals (created_at, sentiment, rating, score_type,"
        " score, source, kind, lang) WHERE sentiment_label = 'negative'",
        f"CREATE INDEX signals_worst ON signals ({SEVERITY}, created_at DESC, source, kind, lang)"
        " WHERE sentiment_label = 'negative'",
    ]
    for statement in statements:
        db.execute(statement)
    rebuild_rollup(db)


def rebuild_rollup(db: Database) -> None:
    """Recompute the rollup from signals (after a timezone change or a definition change)."""
    if is_pg(db):
        rebuild_rollup_pg(db)
        return
    sums = raw_sums("s.")
    day = _sql(_DAY, "s.")
    topic_rows = f"FROM signals s, json_each({_sql(_TOPICS, 's.')}) j WHERE {FIRST_TOPIC}"
    for table, keys in (("daily_rollup", KEYS), ("daily_rollup_lang", LANG_KEYS)):
        db.execute(f"DELETE FROM {table}")
        ids = ", min(s.id), max(s.id)" if table == "daily_rollup" else ""
        target = (
            f"INSERT INTO {table} ({', '.join(keys + COLUMNS)}{', min_id, max_id' if ids else ''})"
        )
        cols = {"day": day, "source": "s.source", "kind": "s.kind", "lang": "coalesce(s.lang, '')"}
        rest = ", ".join(cols[k] for k in keys[1:])
        group = ", ".join(str(i) for i in range(1, len(keys) + 1))
        db.execute(f"{target} SELECT '', {rest}, {sums}{ids} FROM signals s GROUP BY {group}")
        db.execute(f"{target} SELECT j.value, {rest}, {sums}{ids} {topic_rows} GROUP BY {group}")


def offsets(tz: ZoneInfo, first_year: int = 1970, last_year: int = 2100) -> list[tuple[str, int]]:
    """(starts_at, UTC offset in minutes) at every change of `tz`'s offset; '' = the beginning."""

    def minutes(t: datetime) -> int:
        offset = t.astimezone(tz).utcoffset()
        return int(offset.total_seconds() // 60) if offset is not None else 0

    t = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year, 1, 1, tzinfo=UTC)
    out = [("", minutes(t))]
    step = timedelta(days=1)
    while t < end:
        nxt = t + step
        if minutes(nxt) != out[-1][1]:
            lo, hi = t, nxt  # the change happens in (lo, hi]: bisect to the second
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if minutes(mid) == out[-1][1] else (lo, mid)
            out.append((iso_utc(hi.replace(microsecond=0)), minutes(hi)))
        t = nxt
    return out


def rollup_timezone(db: Database) -> ZoneInfo:
    row = db.execute("SELECT value FROM rollup_meta WHERE key = 'timezone'").fetchone()
    return ZoneInfo(row[0] if row else "UTC")


def set_rollup_timezone(db: Database, tz: ZoneInfo) -> bool:
    """Make the rollup's days local to `tz`; True when it had to be rebuilt (slow on a big
    database: run it on the writer at start-up). Queries stay exact with either zone."""
    if rollup_timezone(db).key == tz.key:
        return False
    db.execute("DELETE FROM rollup_offsets")
    db.conn.executemany(
        "INSERT INTO rollup_offsets (starts_at, minutes) VALUES (?, ?)", offsets(tz)
    )
    db.execute("UPDATE rollup_meta SET value = ? WHERE key = 'timezone'", [tz.key])
    rebuild_rollup(db)
    return True


# --- reading: whole days from the rollup, partial days from signals -----------------------------


@dataclass(frozen=True)
class Plan:
    days: tuple[date, date] | None  # inclusive range of local days read from the rollup
    raws: tuple[tuple[datetime, datetime, int], ...]  # (start, end, +1|-1) read from signals


def plan(start: datetime, end: datetime, tz: ZoneInfo) -> Plan:
    if start >= end:
        return Plan(None, ())
    d0, d1 = local_date(start, tz), local_date(end - timedelta(microseconds=1), tz)
    s0, e1 = day_start(d0, tz), day_start(d1 + timedelta(days=1), tz)
    raws: list[tuple[datetime, datetime, int]] = []
    if d0 == d1:
        outside = (e1 - s0) - (end - start)
        if start == s0 and end == e1:
            return Plan((d0, d0), ())
        if end - start <= outside:
            return Plan(None, ((start, end, 1),))
        raws = [(a, b, -1) for a, b in ((s0, start), (end, e1)) if a < b]
        return Plan((d0, d0), tuple(raws))
    first, last = d0, d1
    if start != s0:
        inside_end = day_start(d0 + timedelta(days=1), tz)
        if inside_end - start <= start - s0:
            raws.append((start, inside_end, 1))
            first = d0 + timedelta(days=1)
        else:
            raws.append((s0, start, -1))
    if end != e1:
        last_start = day_start(d1, tz)
        if end - last_start <= e1 - end:
            raws.append((last_start, end, 1))
            last = d1 - timedelta(days=1)
        else:
            raws.append((end, e1, -1))
    return Plan((first, last) if first <= last else None, tuple(raws))


_TOPIC_MATCH = (
    "EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid({p}topics) THEN {p}topics ELSE '[]'"
    " END) WHERE value = ?)"
)
_TOPIC_MATCH_PG = "EXISTS (SELECT 1 FROM cxbot_topics({p}topics) t WHERE t = ?)"


def severity(db: Database) -> str:
    return SEVERITY_PG if is_pg(db) else SEVERITY


def raw_where(filters: Filters, prefix: str = "", *, pg: bool = False) -> tuple[str, list[str]]:
    """SQL conditions on `signals` for the filters (no leading AND), and their parameters."""
    parts, params = [], []
    topic = _TOPIC_MATCH_PG if pg else _TOPIC_MATCH
    for key, value in filters.items():
        parts.append(_sql(topic, prefix) if key == "topic" else f"{prefix}{key} = ?")
        params.append(value)
    return " AND ".join(parts) or "1 = 1", params


def rolled_up(filters: Filters) -> bool:
    """Whether the rollup has these filters' keys. `intent:` is not one (adding it would
    multiply the rollup's rows by six); its counts come from signals over the partial index
    signals_intent (intent, created_at), a scan of that intent's signals in the window."""
    return filters.intent is None


def rollup_source(filters: Filters, *, pg: bool = False) -> tuple[str, str, list[str]]:
    """The table (and index) to read for these filters, with the conditions on it. Without
    statistics SQLite would range-scan the primary key over every source's rows even when a
    source is asked for, so the index is named."""
    parts, params = ["topic = ?"], [filters.topic or ""]
    for key, value in filters.items():
        if key != "topic":
            parts.append(f"{key} = ?")
            params.append(value)
    if filters.lang:
        table = "daily_rollup_lang"
    elif pg:  # PostgreSQL's planner has the statistics; it has no INDEXED BY
        table = "daily_rollup"
    elif filters.source:
        table = "daily_rollup INDEXED BY daily_rollup_source"
    elif filters.kind:
        table = "daily_rollup INDEXED BY daily_rollup_kind"
    else:
        table = "daily_rollup"
    return table, " AND ".join(parts), params


def raw_counts(db: Database, start: datetime, end: datetime, filters: Filters) -> Counts:
    where, params = raw_where(filters, pg=is_pg(db))
    row = db.execute(
        f"SELECT {raw_sums()} FROM signals WHERE created_at >= ? AND created_at < ? AND {where}",
        [iso_utc(start), iso_utc(end), *params],
    ).fetchone()
    return Counts.of(row)


def id_bounds(db: Database, start: datetime, end: datetime) -> tuple[int, int] | None:
    """Lowest and highest id any signal created in [start, end) can have (None: there is
    none), from the rollup rows of the days the window touches."""
    if start >= end:
        return None
    tz = rollup_timezone(db)
    first, last = local_date(start, tz), local_date(end - timedelta(microseconds=1), tz)
    row = db.execute(
        "SELECT min(min_id), max(max_id) FROM daily_rollup WHERE topic = '' AND day >= ?"
        " AND day <= ?",
        [first.isoformat(), last.isoformat()],
    ).fetchone()
    return None if row is None or row[0] is None else (int(row[0]), int(row[1]))


def window_counts(
    db: Database, windows: Sequence[tuple[datetime, datetime]], filters: Filters
) -> list[Counts]:
    """Exact Counts for each [start, end) window: one rollup query over all their days, plus
    the raw edges of each."""
    if not rolled_up(filters):
        return [raw_counts(db, s, e, filters) for s, e in windows]
    tz = rollup_timezone(db)
    plans = [plan(s, e, tz) for s, e in windows]
    ranges = [p.days for p in plans if p.days is not None]
    days: list[str] = []
    rows: list[tuple[float, ...]] = []
    if ranges:
        table, where, params = rollup_source(filters, pg=is_pg(db))
        lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
        for row in db.execute(
            f"SELECT day, {ROLLUP_SUMS} FROM {table} WHERE {where}"
            " AND day >= ? AND day <= ? GROUP BY day ORDER BY day",
            [*params, lo.isoformat(), hi.isoformat()],
        ):
            days.append(row[0])
            rows.append(row[1:])
    out = []
    edges: dict[tuple[datetime, datetime], Counts] = {}
    for p in plans:
        total = [0.0] * len(COLUMNS)
        if p.days is not None:
            first = bisect_left(days, p.days[0].isoformat())
            last = bisect_right(days, p.days[1].isoformat())
            # Column sums in C: a year of days costs well under a millisecond per window.
            total = [sum(col) for col in zip(*rows[first:last], strict=True)] or total
        result = Counts.of(total)
        for a, b, sign in p.raws:
            # A period and the one before share a boundary, and both pick the same (shorter)
            # side of that day: scan it once.
            if (a, b) not in edges:
                edges[a, b] = raw_counts(db, a, b, filters)
            result = result + edges[a, b] if sign > 0 else result - edges[a, b]
        out.append(result)
    return out

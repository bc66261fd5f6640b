"""Reading a digest's data: `collect(db, window, scope, now) -> DigestData`, on the reader thread.

Everything comes from the daily rollup (cxbot/store/rollup.py) grouped by source and kind, so one query per
week serves the totals, the volume table and any channel filter (Counts are additive: the
filter is applied to the ~50 grouped rows in Python). Partial days at the window's edges (a
rollup kept in another zone, or a week still running) are read from `signals` through its
covering index, as rollup.plan decides. The most negative signals use the partial index that
queries.top_negative uses, with the same ranking. `digest_preview` is what `/cx digest` shows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from cxbot.alerts.sla import SlaRule, Stage, parse_time, sla_for
from cxbot.digest.build import (
    DigestData,
    DigestWindow,
    Group,
    IntentCount,
    Loop,
    Scope,
    TopicMove,
    build_digest,
    digest_window,
    last_complete_week,
    median,
)
from cxbot.digest.config import DigestConfig
from cxbot.digest.render import render_answer
from cxbot.enrich.intent import INTENTS
from cxbot.metrics import Counts, total
from cxbot.models import SignalRow, iso_utc
from cxbot.periods import day_start, local_date
from cxbot.replies.figures import reply_figures
from cxbot.replies.records import alerted_with_first_reply
from cxbot.slack.fmt import Answer
from cxbot.store.engine import is_pg
from cxbot.store.reads import known_topics, signal_rows
from cxbot.store.rollup import FIRST_TOPIC, ROLLUP_SUMS, plan, raw_sums, rollup_timezone, severity

Key = tuple[str, str, str]  # (topic, source, kind); topic '' = every signal
DAYS_SHOWN = 28
NEGATIVE_SHOWN = 3


def _scope_sql(scope: Scope, prefix: str = "") -> tuple[str, list[str]]:
    parts, params = [], []
    for column, values in (("source", scope.sources), ("kind", scope.kinds)):
        if values:
            parts.append(f"{prefix}{column} IN ({', '.join('?' for _ in values)})")
            params += list(values)
    return " AND ".join(parts) or "1 = 1", params


def _add(acc: dict[Key, Counts], key: Key, counts: Counts, sign: int) -> None:
    base = acc.get(key, Counts())
    acc[key] = base + counts if sign > 0 else base - counts


def grouped(
    db: Database, start: datetime, end: datetime, scope: Scope, *, topics: bool = False
) -> dict[Key, Counts]:
    """Exact Counts per (topic, source, kind) of the signals created in [start, end): whole
    local days from the rollup, partial days from signals."""
    where, params = _scope_sql(scope)
    p = plan(start, end, rollup_timezone(db))
    acc: dict[Key, Counts] = {}
    names = known_topics(db) if topics else [""]
    if p.days is not None and names:
        # Seeking the primary key (topic, day, ...) topic by topic reads only the window's days.
        marks = ", ".join("?" for _ in names)
        for row in db.execute(
            f"SELECT topic, source, kind, {ROLLUP_SUMS} FROM daily_rollup WHERE topic IN ({marks})"
            f" AND day >= ? AND day <= ? AND {where} GROUP BY topic, source, kind",
            [*names, p.days[0].isoformat(), p.days[1].isoformat(), *params],
        ):
            acc[(row[0], row[1], row[2])] = Counts.of(row[3:])
    raw_where, raw_params = _scope_sql(scope, "s.")
    for a, b, sign in p.raws:
        if topics and is_pg(db):
            sql = (
                f"SELECT j.topic, s.source, s.kind, {raw_sums('s.')} FROM signals s,"
                " cxbot_topics(s.topics) AS j(topic)"
                f" WHERE s.created_at >= ? AND s.created_at < ? AND {raw_where}"
                " GROUP BY 1, 2, 3"
            )
        elif topics:
            sql = (
                f"SELECT j.value, s.source, s.kind, {raw_sums('s.')} FROM signals s,"
                " json_each(CASE WHEN json_valid(s.topics) THEN s.topics ELSE '[]' END) j"
                f" WHERE s.created_at >= ? AND s.created_at < ? AND {FIRST_TOPIC}"
                f" AND {raw_where} GROUP BY 1, 2, 3"
            )
        else:
            sql = (
                f"SELECT '', s.source, s.kind, {raw_sums('s.')} FROM signals s"
                f" WHERE s.created_at >= ? AND s.created_at < ? AND {raw_where} GROUP BY 2, 3"
            )
        for row in db.execute(sql, [iso_utc(a), iso_utc(b), *raw_params]):
            _add(acc, (row[0], row[1], row[2]), Counts.of(row[3:]), sign)
    return acc


def daily(db: Database, last: date, tz: ZoneInfo, scope: Scope) -> list[tuple[date, Counts]]:
    """Counts for each local day from `last` - 27 to `last`."""
    days = [last - timedelta(days=i) for i in range(DAYS_SHOWN - 1, -1, -1)]
    if rollup_timezone(db).key == tz.key:  # the rollup's days are these days: one read
        where, params = _scope_sql(scope)
        found = {
            row[0]: Counts.of(row[1:])
            for row in db.execute(
                f"SELECT day, {ROLLUP_SUMS} FROM daily_rollup WHERE topic = '' AND day >= ?"
                f" AND day <= ? AND {where} GROUP BY day",
                [days[0].isoformat(), last.isoformat(), *params],
            )
        }
        return [(d, found.get(d.isoformat(), Counts())) for d in days]
    out = []
    for d in days:
        day_counts = grouped(db, day_start(d, tz), day_start(d + timedelta(days=1), tz), scope)
        out.append((d, total(day_counts.values())))
    return out


def most_negative(
    db: Database, start: datetime, end: datetime, scope: Scope, limit: int = NEGATIVE_SHOWN
) -> list[SignalRow]:
    """queries.top_negative's ranking over the scope's sources and kinds."""
    where, params = _scope_sql(scope)
    ids = [
        r[0]
        for r in db.execute(
            f"SELECT id FROM signals{'' if is_pg(db) else ' INDEXED BY signals_negative'}"
            " WHERE sentiment_label = 'negative' AND created_at >= ? AND created_at < ?"
            f" AND {where} ORDER BY {severity(db)}, created_at DESC LIMIT ?",
            [iso_utc(start), iso_utc(end), *params, limit],
        )
    ]
    return signal_rows(db, ids)


def closed_loop(
    db: Database,
    start: datetime,
    end: datetime,
    scope: Scope,
    as_of: datetime,
    slas: Sequence[SlaRule] = (),
    tz: ZoneInfo | None = None,
) -> Loop:
    """Signals first alerted in [start, end): how many were acknowledged and resolved by
    `as_of`, the median times from the first alert to the first answer (any button) and to
    the first resolution, how many of those under an `[[sla]]` were answered by its due time,
    and the regressions of the week (resolved alerts the customer reopened)."""
    where, params = _scope_sql(scope, "s.")
    # The inner scan finds the week's alerts; the first alert of each signal is picked here
    # (so a signal counts in the week of its first alert only), its rules are the union.
    rows = db.execute(
        "SELECT o.signal_id, o.created_at, o.rules, s.acknowledged_at, s.resolved_at"
        " FROM outbox o JOIN signals s ON s.id = o.signal_id WHERE o.kind = 'alert'"
        " AND o.signal_id IN (SELECT signal_id FROM outbox WHERE kind = 'alert'"
        f" AND created_at >= ? AND created_at < ?) AND {where}",
        [iso_utc(start), iso_utc(end), *params],
    ).fetchall()
    alerts: dict[int, list[Any]] = {}
    for sid, created, rules, ack_at, resolved_at in rows:
        found = alerts.setdefault(int(sid), [created, set(), ack_at, resolved_at])
        found[0] = min(found[0], created)
        found[1].update(json.loads(rules or "[]"))
    cutoff = iso_utc(as_of)
    acks, fixes = [], []
    loop = {"ack_sla": 0, "ack_in_sla": 0, "resolve_sla": 0, "resolve_in_sla": 0}
    first = [a for a in alerts.values() if a[0] >= iso_utc(start)]
    for alerted, rules, ack_at, resolved_at in first:
        ack_at = ack_at if ack_at is not None and ack_at <= cutoff else None
        resolved_at = resolved_at if resolved_at is not None and resolved_at <= cutoff else None
        t0 = parse_time(alerted)
        if ack_at is not None:
            acks.append(max(0.0, (parse_time(ack_at) - t0).total_seconds()))
        if resolved_at is not None:
            fixes.append(max(0.0, (parse_time(resolved_at) - t0).total_seconds()))
        sla = sla_for(rules, slas)
        if sla is None or tz is None:
            continue
        stages: tuple[tuple[Stage, str | None], ...] = (("ack", ack_at), ("resolve", resolved_at))
        for stage, done in stages:
            due = sla.due(stage, t0, tz)
            if due is not None:
                loop[f"{stage}_sla"] += 1
                loop[f"{stage}_in_sla"] += done is not None and parse_time(done) <= due
    regressions = db.execute(
        "SELECT count(*) FROM signals s WHERE s.regressed_at IS NOT NULL"
        f" AND s.regressed_at >= ? AND s.regressed_at < ? AND {where}",
        [iso_utc(start), iso_utc(end), *params],
    ).fetchone()[0]
    replies = reply_figures(
        alerted_with_first_reply(db, iso_utc(start), iso_utc(end), where, params), as_of
    )
    return Loop(
        len(first),
        len(acks),
        len(fixes),
        median(acks),
        median(fixes),
        regressions=int(regressions),
        replied=replies.replied,
        median_reply_seconds=replies.median_seconds,
        **loop,
    )


def intent_counts(db: Database, start: datetime, end: datetime, scope: Scope) -> dict[str, int]:
    """Signals per intent created in [start, end) (NULL, unknown, left out). Not in the rollup:
    read over the partial index signals_intent (intent, created_at), one range per intent.
    The same SQL on SQLite and PostgreSQL."""
    where, params = _scope_sql(scope)
    rows = db.execute(
        "SELECT intent, count(*) FROM signals WHERE intent IS NOT NULL AND created_at >= ?"
        f" AND created_at < ? AND {where} GROUP BY intent",
        [iso_utc(start), iso_utc(end), *params],
    ).fetchall()
    return {str(intent): int(n) for intent, n in rows}


def _intents(cur: dict[str, int], prev: dict[str, int]) -> tuple[IntentCount, ...]:
    return tuple(
        IntentCount(i, cur.get(i, 0), prev.get(i, 0)) for i in INTENTS if cur.get(i) or prev.get(i)
    )


def _groups(cur: dict[Key, Counts], prev: dict[Key, Counts]) -> Iterable[Group]:
    for key in sorted(set(cur) | set(prev)):
        group = Group(key[1], key[2], cur.get(key, Counts()), prev.get(key, Counts()))
        if group.current.n or group.before.n:  # a raw edge taken away can leave zeros behind
            yield group


def collect(
    db: Database,
    window: DigestWindow,
    scope: Scope,
    now: datetime,
    slas: Sequence[SlaRule] = (),
) -> DigestData:
    w = window
    cur, prev = grouped(db, w.start, w.end, scope), grouped(db, w.prev_start, w.prev_end, scope)
    topics_cur = grouped(db, w.start, w.end, scope, topics=True)
    topics_prev = grouped(db, w.prev_start, w.prev_end, scope, topics=True)
    moves: dict[str, list[int]] = {}
    for (topic, _, _), c in topics_cur.items():
        m = moves.setdefault(topic, [0, 0, 0])
        m[0] += c.n
        m[2] += c.negative
    for (topic, _, _), c in topics_prev.items():
        moves.setdefault(topic, [0, 0, 0])[1] += c.n
    last_day = local_date(w.end - timedelta(microseconds=1), w.tz)
    return DigestData(
        window=w,
        scope=scope,
        current=total(cur.values()),
        before=total(prev.values()),
        groups=tuple(_groups(cur, prev)),
        topics=tuple(TopicMove(t, c, b, n) for t, (c, b, n) in sorted(moves.items()) if c or b),
        negative=tuple(most_negative(db, w.start, w.end, scope)),
        loop=closed_loop(db, w.start, w.end, scope, now, slas, w.tz),
        daily=tuple(daily(db, last_day, w.tz, scope)),
        intents=_intents(
            intent_counts(db, w.start, w.end, scope),
            intent_counts(db, w.prev_start, w.prev_end, scope),
        ),
    )


def digest_preview(
    db: Database,
    now: datetime,
    tz: ZoneInfo,
    config: DigestConfig,
    *,
    channel: str | None = None,
    week: str | None = None,
    slas: Sequence[SlaRule] = (),
) -> Answer:
    """`/cx digest`: the digest of `week` (default: the last complete week, the one the next
    or latest send reports; the running week shows "so far"), filtered as `channel`'s digest
    is when that channel has a filter (name with or without '#'), else unfiltered. Reads only;
    raises WeekError for a week that has not started or is not a week."""
    window = digest_window(week or last_complete_week(now, tz), tz, now)
    digest = build_digest(collect(db, window, Scope.of(config.filter_for(channel)), now, slas))
    answer = render_answer(digest)
    return Answer(answer.text, answer.blocks, public=False)

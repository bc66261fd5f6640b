"""What the dashboard shows, as plain JSON-ready data: `GET /api/dashboard?q=…` returns it and
the page is rendered from it (cxbot/dashboard/page.py).

Every figure comes from the query code `/cx` uses (cx/queries.py, store/reads.py, the rollup)
and is formatted by metrics.py's own functions, so a tile says what `/cx summary` says, to the
digit. `dashboard_data` runs on the store's reader thread (`store.read`), never on the loop.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from cxbot.alerts.lifecycle import open_clocks
from cxbot.alerts.sla import Clock, SlaRule
from cxbot.cx.grammar import Command, parse_command
from cxbot.cx.queries import stats, topic_stats
from cxbot.cx.sla import span
from cxbot.metrics import METRICS, Counts, format_change, is_rising, mix_from_counts, signed
from cxbot.models import SignalRow
from cxbot.periods import (
    DEFAULT_PERIOD,
    Window,
    bucket_unit,
    buckets,
    describe,
    parse_period,
    resolve,
)
from cxbot.periods import previous as previous_window
from cxbot.store.reads import alert_loop, grouped_counts, open_alerts, open_by_assignee

TILES = ("volume", "nps", "csat", "ces", "rating", "negative")
MIN_ANSWERS = 10  # a trend bucket with fewer NPS/CSAT answers is greyed
SPIKE_FACTOR = 2.0  # a bucket's negatives at least this times the median bucket's…
SPIKE_MIN = 5  # …and at least this many
_BUCKET_FORMAT = {"hour": "%H:%M", "day": "%a %d", "week": "%d %b", "month": "%b %Y"}


def parse_query(q: str) -> Command:
    """The `/cx summary` reading of a dashboard query (raises cx.grammar.CommandError)."""
    return parse_command(" ".join(["summary", *q.split()]))


def window_of(cmd: Command, now: datetime, tz: ZoneInfo) -> tuple[Window, Window | None]:
    spec = cmd.period or parse_period(DEFAULT_PERIOD)
    assert spec is not None
    window = resolve(spec, now, tz)
    return window, previous_window(spec, window, tz)


def negative_share(c: Counts) -> float | None:
    mix = mix_from_counts(c.negative, c.neutral, c.positive, c.unscored)
    return None if mix is None else mix.negative


def tile(name: str, cur: Counts, prev: Counts | None, trend: Sequence[Counts]) -> dict[str, Any]:
    """One KPI tile, worded as cx's metric_line and mix_line word the same figure."""
    if name == "negative":
        value = negative_share(cur)
        before = negative_share(prev) if prev is not None else None
        shown = "no data" if value is None else f"{value:.0f}%"
        change = None
        if value is not None and before is not None:
            change = f"{signed(value - before)} pts"
        spark = [negative_share(c) for c in trend]
        return {"metric": name, "title": "Negative", "value": value, "shown": shown,
                "n": cur.n, "change": change, "spark": spark}  # fmt: skip
    m = METRICS[name]
    value = m.value(cur)
    if name == "volume":
        shown = f"{cur.n:,}"
    else:
        shown = "no data" if value is None else m.fmt(value)
    change = None
    if prev is not None and value is not None:
        change = format_change(m, value, m.value(prev))
    spark = [m.value(c) for c in trend]
    return {"metric": name, "title": m.title, "value": value, "shown": shown,
            "n": m.sample(cur), "change": change, "spark": spark}  # fmt: skip


def spikes(values: Sequence[int]) -> list[bool]:
    """Buckets whose count is a spike: ≥ SPIKE_MIN and ≥ SPIKE_FACTOR × the median bucket."""
    if not values:
        return []
    median = statistics.median(values)
    return [v >= SPIKE_MIN and v >= SPIKE_FACTOR * median for v in values]


def signal_json(row: SignalRow, admin: bool) -> dict[str, Any]:
    author = row.author
    if author and not admin and "@" in author[1:]:
        author = "(email hidden)"  # emails are for admins ([slack] admins)
    return {
        "id": row.id, "created_at": row.created_at, "source": row.source, "kind": row.kind,
        "title": row.title, "text": row.text, "url": row.url, "rating": row.rating,
        "score": row.score, "score_type": row.score_type, "sentiment": row.sentiment,
        "sentiment_label": row.sentiment_label, "author": author, "status": row.status,
    }  # fmt: skip


def slack_link(channel: str | None, ts: str | None) -> str | None:
    """Slack resolves /archives/CHANNEL/pTS to the message in the reader's workspace."""
    if not channel or not ts:
        return None
    return f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"


def _seconds(later: datetime, iso: str) -> float:
    return (later - datetime.fromisoformat(iso.replace("Z", "+00:00"))).total_seconds()


def sla_left(clocks: Sequence[Clock], now: datetime) -> dict[int, str]:
    """Per signal, its most urgent running SLA stage as the feed shows it ("ack: 1h 20m left",
    "resolve: overdue 2h"), from the clocks `/cx sla` lists."""
    out: dict[int, str] = {}
    for c in sorted(clocks, key=lambda c: c.due):
        if c.signal_id not in out:
            left = span(c.due - now)
            out[c.signal_id] = (
                f"{c.stage}: overdue {left}" if c.breached else f"{c.stage}: {left} left"
            )
    return out


def dashboard_data(
    db: Database,
    cmd: Command,
    now: datetime,
    tz: ZoneInfo,
    *,
    admin: bool = False,
    slas: Sequence[SlaRule] = (),
) -> dict[str, Any]:
    window, before = window_of(cmd, now, tz)
    filters = cmd.filters
    edges = buckets(window, tz)
    s = stats(db, window, before, filters, edges)
    unit = bucket_unit(window)
    labels = [b.start.astimezone(tz).strftime(_BUCKET_FORMAT[unit]) for b in edges]
    negatives = [c.negative for c in s.trend]
    volume = [
        {"label": label, "start": b.start.isoformat(), "n": c.n, "negative": c.negative,
         "neutral": c.neutral, "positive": c.positive, "unscored": c.unscored, "spike": spike}
        for label, b, c, spike in zip(labels, edges, s.trend, spikes(negatives), strict=True)
    ]  # fmt: skip
    trend = {
        name: [
            {"label": label, "value": METRICS[name].value(c), "n": METRICS[name].sample(c),
             "grey": METRICS[name].sample(c) < MIN_ANSWERS}
            for label, c in zip(labels, s.trend, strict=True)
        ]
        for name in ("nps", "csat")
    }  # fmt: skip
    topics = [
        {"topic": t.topic, "n": t.n, "negative": t.negative,
         "negative_share": 100.0 * t.negative / t.n if t.n else None,
         "before_n": t.before_n, "rising": is_rising(t.n, t.before_n)}
        for t in topic_stats(db, window, before, filters)[:15]
    ]  # fmt: skip
    cells = grouped_counts(db, window.start, window.end, filters, ("source", "kind"))
    heatmap = [
        {"source": k[0], "kind": k[1], "n": c.n, "negative": c.negative}
        for k, c in sorted(cells.items())
    ]
    langs = grouped_counts(db, window.start, window.end, filters, ("lang",))
    unscored = [
        {"lang": k[0] or "unknown", "n": c.n, "unscored": c.unscored,
         "share": 100.0 * c.unscored / c.n}
        for k, c in sorted(langs.items(), key=lambda kv: (-kv[1].n, kv[0]))
    ]  # fmt: skip
    left = sla_left(open_clocks(db, now, slas, tz), now) if slas else {}
    attention = [
        {"alert_id": a.alert_id, "signal": signal_json(a.signal, admin),
         "status": a.signal.status, "assignee": a.assignee, "alerted_at": a.alerted_at,
         "age_s": _seconds(now, a.alerted_at), "slack": slack_link(a.slack_channel, a.slack_ts),
         "sla": left.get(a.signal.id)}
        for a in open_alerts(db, filters)
    ]  # fmt: skip
    return {
        "query": " ".join(cmd_text(cmd)),
        "period_text": cmd.period.text if cmd.period is not None else None,
        "period": window.label,
        "window": {"start": window.start.isoformat(), "end": window.end.isoformat(),
                   "text": f"{describe(window, tz)} ({tz.key})"},
        "previous": None if before is None else describe(before, tz),
        "filters": dict(filters.items()),
        "unit": unit,
        "tiles": [tile(n, s.current, s.before, s.trend) for n in TILES],
        "volume": volume,
        "trend": trend,
        "topics": topics,
        "heatmap": heatmap,
        "attention": attention,
        "loop": closed_loop(alert_loop(db, window.start, window.end, filters),
                            open_by_assignee(db, filters)),
        "unscored": unscored,
    }  # fmt: skip


def closed_loop(
    alerted: Sequence[tuple[str, str | None, str, str | None]],
    open_counts: Sequence[tuple[str | None, int]],
) -> dict[str, Any]:
    """Of the signals alerted in the window: how many were acknowledged and resolved, and the
    median time from the first alert to the acknowledgement; open alerts per assignee."""
    n = len(alerted)
    acked = [_seconds(datetime.fromisoformat(a[3].replace("Z", "+00:00")), a[2])
             for a in alerted if a[3]]  # fmt: skip
    resolved = sum(1 for a in alerted if a[0] == "resolved")
    return {
        "alerts": n,
        "acknowledged": len(acked),
        "resolved": resolved,
        "acknowledged_share": 100.0 * len(acked) / n if n else None,
        "resolved_share": 100.0 * resolved / n if n else None,
        "median_ack_s": statistics.median(acked) if acked else None,
        "open_by_assignee": [{"assignee": a, "n": c} for a, c in open_counts],
    }


def cmd_text(cmd: Command) -> list[str]:
    """The query back as text: the period's own words, then the filters."""
    words = [cmd.period.text] if cmd.period is not None else []
    return words + [f"{k}:{v}" for k, v in cmd.filters.items()]

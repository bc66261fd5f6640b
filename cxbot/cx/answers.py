"""Answers for the reading verbs (summary, one metric, top, topics, search, customer): pure
renderers from cxbot/cx/queries.py results to an `Answer` (see cxbot/slack/fmt.py for how text and blocks are
made from one rendering)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cxbot.cx.queries import CustomerProfile, SearchResult, Stats, TopicStats
from cxbot.digest.render import duration
from cxbot.metrics import METRICS, is_rising, mean_from_counts, pct_change, signed, sparkline
from cxbot.models import Filters, SignalRow
from cxbot.periods import Window, bucket_unit, describe
from cxbot.replies.figures import ReplyFigures
from cxbot.slack.fmt import Answer, Fmt, Part, build, local_time, metric_line, mix_line, signal_line
from cxbot.slack.fmt import title as heading

_UNIT_WORD = {"hour": "hourly", "day": "daily", "week": "weekly", "month": "monthly"}


def _when(window: Window, tz: ZoneInfo, previous: Window | None = None) -> Part:
    text = f"{describe(window, tz)} ({tz.key})"
    if previous is not None:
        text += f" · compared with {describe(previous, tz)}"
    return ("context", text)


def render_summary(
    stats: Stats,
    filters: Filters,
    tz: ZoneInfo,
    *,
    hint: str | None = None,
    public: bool = False,
    replies: ReplyFigures | None = None,
) -> Answer:
    def parts(f: Fmt) -> list[Part]:
        head = heading(f, "Summary", stats.window.label, filters)
        if stats.current.n == 0:
            return [("section", f"{head}\n{_empty(hint)}"), _when(stats.window, tz)]
        lines = [
            metric_line(f, m, stats.current, stats.before)
            for m in ("volume", "nps", "csat", "ces", "rating", "sentiment")
        ]
        lines.append(mix_line(f, stats.current, stats.before))
        if replies is not None and replies.alerted:
            lines.append(_replies_line(f, replies))
        return [
            ("section", head + "\n" + "\n".join(lines)),
            _when(stats.window, tz, stats.previous),
        ]

    return build(parts, public)


def _replies_line(f: Fmt, r: ReplyFigures) -> str:
    line = f"{f.b('Replied')} {r.replied:,} of {r.alerted:,} alerted ({100.0 * r.replied / r.alerted:.0f}%)"
    if r.median_seconds is not None:
        line += f" · median time to first reply {duration(r.median_seconds)}"
    return line


def render_metric(
    name: str,
    stats: Stats,
    filters: Filters,
    tz: ZoneInfo,
    *,
    hint: str | None = None,
    public: bool = False,
) -> Answer:
    metric = METRICS[name]

    def parts(f: Fmt) -> list[Part]:
        head = heading(f, metric.title, stats.window.label, filters)
        if metric.sample(stats.current) == 0:
            what = "signals" if name == "volume" else f"{metric.title} data"
            return [
                ("section", f"{head}\nNo {what} in this period. {hint or ''}".rstrip()),
                _when(stats.window, tz),
            ]
        lines = [metric_line(f, name, stats.current, stats.before)]
        if name == "sentiment":
            lines.append(mix_line(f, stats.current, stats.before))
        values = [float(c.n) if name == "volume" else metric.value(c) for c in stats.trend]
        if len(values) > 1:
            unit = _UNIT_WORD[bucket_unit(stats.window)]
            lines.append(
                f"Trend ({unit}): {f.code(sparkline(values))}" + _range_note(metric.fmt, values)
            )
        return [
            ("section", head + "\n" + "\n".join(lines)),
            _when(stats.window, tz, stats.previous),
        ]

    return build(parts, public)


def _range_note(fmt: object, values: Sequence[float | None]) -> str:
    present = [v for v in values if v is not None]
    if not present or not callable(fmt):
        return ""
    low, high = fmt(min(present)), fmt(max(present))
    gaps = " · blank = no data" if len(present) < len(values) else ""
    return f"  (low {low}, high {high}{gaps})"


def _empty(hint: str | None) -> str:
    return "No signals in this period." + (f" {hint}" if hint else "")


def render_top(
    rows: Sequence[SignalRow],
    window: Window,
    filters: Filters,
    tz: ZoneInfo,
    *,
    hint: str | None = None,
    public: bool = False,
) -> Answer:
    def parts(f: Fmt) -> list[Part]:
        head = heading(f, "Most negative", window.label, filters)
        if not rows:
            return [
                ("section", f"{head}\nNo negative signals. {hint or ''}".rstrip()),
                _when(window, tz),
            ]
        lines = [signal_line(f, i, row, tz) for i, row in enumerate(rows, 1)]
        return [("section", head + "\n" + "\n".join(lines)), _when(window, tz)]

    return build(parts, public)


def render_topics(
    rows: Sequence[TopicStats],
    window: Window,
    previous: Window | None,
    filters: Filters,
    tz: ZoneInfo,
    *,
    limit: int = 20,
    public: bool = False,
) -> Answer:
    def parts(f: Fmt) -> list[Part]:
        head = heading(f, "Topics", window.label, filters)
        if not rows:
            return [("section", f"{head}\nNo topics in this period."), _when(window, tz)]
        lines = []
        for i, r in enumerate(rows[:limit], 1):
            cur, prev = r.n, r.before_n
            negative = 100.0 * r.negative / cur if cur else 0.0
            line = f"{i}. {f.b(f.esc(r.topic))} — {cur:,} ({negative:.0f}% negative)"
            change = pct_change(cur, prev)
            if previous is not None and is_rising(cur, prev):
                line += " ↑ rising" + (f" {signed(change)}%" if change is not None else ", new")
            elif change is not None and previous is not None:
                line += f" · {signed(change)}%"
            lines.append(line)
        more = len(rows) - limit
        out: list[Part] = [("section", head + "\n" + "\n".join(lines))]
        if more > 0:
            out.append(("context", f"… and {more} more topics"))
        out.append(_when(window, tz, previous))
        return out

    return build(parts, public)


def render_search(
    result: SearchResult,
    window: Window | None,
    filters: Filters,
    tz: ZoneInfo,
    *,
    public: bool = False,
) -> Answer:
    def parts(f: Fmt) -> list[Part]:
        words = " ".join(result.words)
        head = heading(
            f, f"Search “{f.esc(words)}”", window.label if window else "all time", filters
        )
        if result.match is None:
            return [
                (
                    "section",
                    f"{head}\nThere is nothing to search for in"
                    f" “{f.esc(words)}”: give a word with letters or digits.",
                )
            ]
        if not result.rows:
            return [("section", f"{head}\nNo signals mention that.")]
        lines = [signal_line(f, i, r, tz, snippet=True) for i, r in enumerate(result.rows, 1)]
        note = "Newest first."
        if result.more:
            note += f" Showing the newest {len(result.rows)}; add a period or a filter to narrow."
        return [("section", head + "\n" + "\n".join(lines)), ("context", note)]

    return build(parts, public)


def render_customer(
    profile: CustomerProfile | None, who: str, tz: ZoneInfo, now: datetime, *, public: bool = False
) -> Answer:
    def parts(f: Fmt) -> list[Part]:
        if profile is None:
            return [
                (
                    "section",
                    f"No customer matches {f.code(f.esc(who))}. Use an email"
                    " (ana@example.com) or a handle (@ana) seen on a channel.",
                )
            ]
        p = profile
        name = f.esc(p.name or p.email or who)
        lines = [f.b(f"Customer · {name}")]
        if p.email:
            lines.append(f"Email: {f.esc(p.email)}")
        if p.handles:
            lines.append(
                "Handles: " + ", ".join(f"{f.esc(h)} ({f.esc(pr)})" for pr, h in p.handles)
            )
        lines.append(
            f"{p.signal_count:,} signals"
            f" · first seen {local_time(p.first_seen, tz, '%d %b %Y')}"
            f" · last contact {local_time(p.last_seen, tz, '%d %b %Y %H:%M')}"
        )
        if p.avg_sentiment is not None:
            lines.append(f"Average sentiment {signed(p.avg_sentiment, 2)}")
        out: list[Part] = [("section", "\n".join(lines))]
        if p.channels:
            out.append(
                (
                    "section",
                    f.b("By channel")
                    + "\n"
                    + "\n".join(
                        f"• {f.esc(c.source)} {c.kind}: {c.n:,} ({c.negative:,} negative"
                        + (
                            f", sentiment {signed(c.avg_sentiment, 2)}"
                            if c.avg_sentiment is not None
                            else ""
                        )
                        + f"), last {local_time(c.last_at, tz, '%d %b %Y')}"
                        for c in p.channels
                    ),
                )
            )
        trend = monthly_sentiment(p.sentiment_points, now, tz)
        if any(v is not None for v in trend):
            out.append(
                ("section", f"{f.b('Sentiment, last 12 months')} {f.code(sparkline(trend))}")
            )
        if p.open_alert_count:
            alert_lines = [
                f"• {', '.join(f.esc(r) for r in a.rules) or 'alert'} · {a.status} · "
                f"{local_time(a.created_at, tz)} · signal {a.signal.status}"
                f" {f.link(a.signal.url, 'open')}".rstrip()
                for a in p.open_alerts
            ]
            out.append(
                (
                    "section",
                    f.b(f"Open alerts ({p.open_alert_count})") + "\n" + "\n".join(alert_lines),
                )
            )
        else:
            out.append(("context", "No open alerts."))
        if p.recent:
            out.append(
                (
                    "section",
                    f.b("Recent")
                    + "\n"
                    + "\n".join(signal_line(f, i, r, tz) for i, r in enumerate(p.recent, 1)),
                )
            )
        return out

    return build(parts, public)


def monthly_sentiment(
    points: Sequence[tuple[str, float]], now: datetime, tz: ZoneInfo
) -> list[float | None]:
    """Average sentiment per local calendar month, the 12 months up to `now` (oldest first)."""
    local_now = now.astimezone(tz)
    keys = []
    year, month = local_now.year, local_now.month
    for _ in range(12):
        keys.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    keys.reverse()
    sums = {k: [0.0, 0] for k in keys}
    for created_at, value in points:
        try:
            local = datetime.fromisoformat(created_at).astimezone(tz)
        except ValueError:
            continue
        bucket = sums.get((local.year, local.month))
        if bucket is not None:
            bucket[0] += value
            bucket[1] += 1
    return [mean_from_counts(sums[k][0], int(sums[k][1])) for k in keys]


TREND_SPAN = timedelta(days=366)  # how far back `customer` reads sentiment points

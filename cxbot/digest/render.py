"""A `Digest` as a Slack message ({"text", "blocks"}) and as plain text for a terminal.

Written once against answers.Fmt and run plain and as mrkdwn by answers.build, like every `/cx`
answer, so the text fallback and the blocks say the same words. The fallback is the whole
digest: it is what `cxbot digest --print` shows and what a client without blocks displays.
User text (signal snippets, topic and source names) goes through `escape`/`trim`; build() keeps
every section under 3000 characters and the message under 50 blocks.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from cxbot.digest.build import Digest, DigestWindow
from cxbot.metrics import METRICS, Counts, format_change, pct_change, signed, sparkline
from cxbot.slack.blocks import REDACTED
from cxbot.slack.fmt import Answer, Fmt, Part, build, mix_line, signal_line
from cxbot.slack.text import HEADER_TEXT_MAX, to_plain, trim

GROUPS_SHOWN = 12
TEXT_MAX = 40_000  # Slack's limit for `text`; a digest is a few thousand characters


def title(digest: Digest) -> str:
    label = digest.data.scope.label
    return f"Weekly CX digest · {digest.data.window.period}" + (f" · {label}" if label else "")


def _dates(w: DigestWindow) -> str:
    a, b = w.start.astimezone(w.tz), w.end.astimezone(w.tz)
    if w.complete:  # the last day, not the Monday 00:00 that ends the week
        last = datetime.fromordinal(b.toordinal() - 1)
        return f"{a:%a %d %b} – {last:%a %d %b %Y} ({w.tz.key})"
    return f"{a:%a %d %b} – {b:%a %d %b %H:%M} ({w.tz.key}), week so far"


def _versus(w: DigestWindow) -> str:
    return "last week" if w.complete else "the same days last week"


def figure_line(f: Fmt, name: str, cur: Counts, prev: Counts, versus: str) -> str:
    m = METRICS[name]
    value, before = m.value(cur), m.value(prev)
    if name == "volume":
        line = f"{f.b(m.title)}  {cur.n:,} signals"
        if prev.n:
            line += f"  ·  {format_change(m, value, before)} vs {versus} ({prev.n:,})"
        return line
    shown = "no data" if value is None else f"{m.fmt(value)} (n={m.sample(cur):,})"
    line = f"{f.b(m.title)}  {shown}"
    if before is not None:
        was = f"{m.fmt(before)}, n={m.sample(prev):,}"
        if value is None:
            return line + f"  ·  {versus} {was}"
        line += f"  ·  {format_change(m, value, before)} vs {versus} ({was})"
    return line


def _figures(f: Fmt, d: Digest, versus: str) -> str:
    cur, prev = d.data.current, d.data.before
    lines, missing = [], []
    for name in ("volume", "nps", "csat", "ces", "rating", "sentiment"):
        m = METRICS[name]
        if name != "volume" and m.sample(cur) == 0 and m.sample(prev) == 0:
            missing.append(m.title)
            continue
        lines.append(figure_line(f, name, cur, prev, versus))
    if cur.n:
        lines.append(mix_line(f, cur, prev if prev.n else None).replace("previous", versus))
    if d.data.intents:
        lines.append(_intent_line(d))
    if missing:
        lines.append(f"No data for {', '.join(missing)} in either week.")
    return f.b("Key figures") + "\n" + "\n".join(lines)


INTENT_NAMES = {"churn_risk": "churn risk"}


def _intent_line(d: Digest) -> str:
    """What customers wanted: each known intent's count, its change, and its share of the
    week's signals (the rest: intent unknown)."""
    n = d.data.current.n
    parts = [
        f"{INTENT_NAMES.get(i.intent, i.intent)} {i.current:,}"
        + (f" ({100.0 * i.current / n:.0f}%)" if n else "")
        + _change_note(i.current, i.before)
        for i in d.data.intents
    ]
    return "Intent: " + " · ".join(parts)


def _change_note(cur: int, prev: int) -> str:
    if not prev:
        return " (new)" if cur else ""
    return f" ({signed(pct_change(cur, prev) or 0.0)}%)"


def _volumes(f: Fmt, d: Digest) -> str:
    groups = sorted(
        (g for g in d.data.groups if g.current.n or g.before.n),
        key=lambda g: (-g.current.n, -g.before.n, g.source, g.kind),
    )
    kinds: dict[str, list[int]] = {}
    for g in groups:
        pair = kinds.setdefault(g.kind, [0, 0])
        pair[0] += g.current.n
        pair[1] += g.before.n
    by_kind = " · ".join(
        f"{f.esc(k)} {c:,}{_change_note(c, p)}"
        for k, (c, p) in sorted(kinds.items(), key=lambda kv: (-kv[1][0], kv[0]))
    )
    lines = [f"By kind: {by_kind}"] if by_kind else ["No signals in either week."]
    for g in groups[:GROUPS_SHOWN]:
        lines.append(
            f"• {f.esc(g.source)} · {f.esc(g.kind)}  {g.current.n:,}"
            + _change_note(g.current.n, g.before.n)
        )
    if len(groups) > GROUPS_SHOWN:
        lines.append(f"… and {len(groups) - GROUPS_SHOWN} more sources")
    return f.b("Volume by source") + "\n" + "\n".join(lines)


def _topics(f: Fmt, d: Digest) -> str:
    if not d.rising:
        return f.b("Rising topics") + "\nNo topic rose this week."
    lines = []
    for i, t in enumerate(d.rising, 1):
        share = 100.0 * t.negative / t.current if t.current else 0.0
        change = f"+{t.current - t.before:,}" + (
            f" ({signed(pct_change(t.current, t.before) or 0.0)}%)" if t.before else " (new)"
        )
        lines.append(
            f"{i}. {f.b(f.esc(t.topic))} {t.current:,} mentions, {change} · {share:.0f}% negative"
        )
    return f.b("Rising topics") + "\n" + "\n".join(lines)


def _negative(f: Fmt, d: Digest) -> str:
    if not d.data.negative:
        return f.b("Most negative") + "\nNo negative signals this week."
    tz = d.data.window.tz
    rows = [signal_line(f, i, row, tz) for i, row in enumerate(d.data.negative, 1)]
    return f.b("Most negative") + "\n" + "\n".join(rows)


def quoted(digest: Digest) -> list[dict[str, Any]]:
    """Each quoted signal's line as the message, its fallback text and `digests.text` hold it:
    what an erasure of that signal replaces (the lines are whole: no signal line comes near
    a block's 3000 characters, so build() never cuts one)."""
    tz = digest.data.window.tz
    out = []
    for i, row in enumerate(digest.data.negative, 1):
        text = signal_line(Fmt(slack=False), i, row, tz)
        lines = [signal_line(Fmt(slack=True), i, row, tz), text, to_plain(text)]
        out.append({"id": row.id, "n": i, "lines": lines})
    return out


def scrub(
    message: dict[str, Any], text: str, quotes: list[dict[str, Any]], erased: set[int]
) -> tuple[dict[str, Any], str, list[dict[str, Any]]]:
    """Pure: the digest's message and plain text with the lines quoting `erased` signals
    replaced by a neutral one, and the quotes that are left."""
    blob, kept = json.dumps(message), []
    for q in quotes:
        if q["id"] not in erased:
            kept.append(q)
            continue
        gone = f"{q['n']}. {REDACTED}"
        for line in q["lines"]:
            # Replaced inside the JSON text, so every block and the fallback are covered.
            blob = blob.replace(json.dumps(line)[1:-1], gone)
            text = text.replace(line, gone)
    return json.loads(blob), text, kept


def duration(seconds: float) -> str:
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def _loop(f: Fmt, d: Digest) -> str:
    loop = d.data.loop
    if not loop.raised:
        regressed = f" {loop.regressions:,} regression(s)." if loop.regressions else ""
        return f.b("Closed loop") + "\nNo alerts were raised." + regressed
    acked = f"{loop.acknowledged:,} ({100.0 * loop.acknowledged / loop.raised:.0f}%)"
    line = f"Alerts raised {loop.raised:,} · acknowledged {acked} · resolved {loop.resolved:,}"
    if loop.median_ack_seconds is not None:
        line += f" · median time to acknowledge {duration(loop.median_ack_seconds)}"
    if loop.replied:
        share = f"{loop.replied:,} ({100.0 * loop.replied / loop.raised:.0f}%)"
        line += f" · replied to the customer {share}"
        if loop.median_reply_seconds is not None:
            line += f" · median time to first reply {duration(loop.median_reply_seconds)}"
    more = []
    if loop.median_resolve_seconds is not None:
        more.append(f"median time to resolve {duration(loop.median_resolve_seconds)}")
    for label, met, of in (
        ("acknowledged", loop.ack_in_sla, loop.ack_sla),
        ("resolved", loop.resolve_in_sla, loop.resolve_sla),
    ):
        if of:
            more.append(f"{label} within SLA {met:,} of {of:,} ({100.0 * met / of:.0f}%)")
    if loop.regressions:
        more.append(f"regressions {loop.regressions:,}")
    if more:
        joined = " · ".join(more)
        line += "\n" + joined[0].upper() + joined[1:]
    return f.b("Closed loop") + "\n" + line


def _trend(f: Fmt, d: Digest) -> str | None:
    days = d.data.daily
    if not any(c.n for _, c in days):
        return None
    volume = [float(c.n) for _, c in days]
    mood = [METRICS["sentiment"].value(c) for _, c in days]
    return (
        f"Last {len(days)} days · volume {f.code(sparkline(volume))}"
        f" (low {min(volume):,.0f}, high {max(volume):,.0f})"
        f" · sentiment {f.code(sparkline(mood))}"
    )


def render_answer(digest: Digest) -> Answer:
    w = digest.data.window
    versus = _versus(w)

    def parts(f: Fmt) -> list[Part]:
        head = f.b(digest.headline)
        if not f.slack:  # the blocks carry the title in a header block
            head = title(digest) + "\n" + head
        out: list[Part] = [("section", head), ("context", _dates(w))]
        if digest.data.current.n or digest.data.before.n:
            out += [
                ("section", _figures(f, digest, versus)),
                ("section", _volumes(f, digest)),
                ("section", _topics(f, digest)),
                ("section", _negative(f, digest)),
            ]
        out.append(("section", _loop(f, digest)))
        if trend := _trend(f, digest):
            out.append(("context", trend))
        return out

    answer = build(parts)
    header = {"type": "plain_text", "text": trim(title(digest), HEADER_TEXT_MAX), "emoji": True}
    blocks = [{"type": "header", "text": header}, *(answer.blocks or [])]
    return Answer(trim(answer.text, TEXT_MAX), blocks[:50])


def render(digest: Digest) -> dict[str, Any]:
    """The message for the outbox: {"text": full plain digest, "blocks": Block Kit}."""
    answer = render_answer(digest)
    return {"text": answer.text, "blocks": answer.blocks}


def render_plain(digest: Digest) -> str:
    """For a terminal: Slack's escapes undone (`cxbot digest --print`)."""
    return render_answer(digest).plain

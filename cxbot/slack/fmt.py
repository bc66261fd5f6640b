"""Answers to `/cx`: pure renderers from query results to text and simple Block Kit.

Each renderer writes its answer once against a `Fmt`; it is run twice, plain (the text `cxbot
ask` prints and Slack's notification fallback) and Slack mrkdwn (the blocks), so both say the
same words. User-supplied text goes through `slacktext.escape` in both (the text is also Slack's
fallback, which Slack parses too): no `<!channel>`, `@here`, disguised links or formatting can get
through. `Answer.plain` undoes those escapes for a terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from cxbot.cx.queries import SignalRow
from cxbot.metrics import METRICS, Counts, format_change, mix_from_counts, signed
from cxbot.slack.text import escape, safe_url, to_plain, trim
from cxbot.store.rollup import Filters

MAX_BLOCKS = 50
MAX_SECTION = 3000

Kind = Literal["section", "context"]
Part = tuple[Kind, str]


@dataclass(frozen=True)
class Answer:
    text: str
    blocks: list[dict[str, Any]] | None
    public: bool = False

    @property
    def plain(self) -> str:
        """The text for a terminal: Slack escapes and look-alikes undone."""
        return to_plain(self.text)


class Fmt:
    def __init__(self, slack: bool) -> None:
        self.slack = slack

    def esc(self, text: str | None) -> str:
        return escape(text or "")

    def b(self, text: str) -> str:
        return f"*{text}*" if self.slack else text

    def code(self, text: str) -> str:
        return f"`{text}`"

    def link(self, url: str | None, label: str) -> str:
        """`label` must be escaped already; a URL that is not plain http(s) is not linked."""
        safe = safe_url(url)
        if safe is None:
            return label
        return f"<{safe}|{label}>" if self.slack else f"{label} ({safe})"


Render = Callable[[Fmt], list[Part]]


def build(render: Render, public: bool = False) -> Answer:
    """Run a renderer plain and for Slack and package both."""
    text = "\n\n".join(body for _, body in render(Fmt(slack=False)) if body)
    blocks: list[dict[str, Any]] = []
    for kind, body in render(Fmt(slack=True)):
        for chunk in _chunks(body):
            if kind == "context":
                blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": chunk}]})
            else:
                blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
    if len(blocks) > MAX_BLOCKS:
        blocks = blocks[: MAX_BLOCKS - 1] + [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "… (cut to fit Slack)"}]}
        ]
    return Answer(text, blocks or None, public)


def _chunks(body: str) -> list[str]:
    """Split at line ends so no block is over Slack's 3000 characters."""
    chunks: list[str] = []
    current = ""
    for line in body.split("\n"):
        line = line if len(line) <= MAX_SECTION else line[: MAX_SECTION - 1] + "…"
        if current and len(current) + 1 + len(line) > MAX_SECTION:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current.strip():
        chunks.append(current)
    return chunks


# --- pieces ------------------------------------------------------------------------------------


def filters_text(f: Fmt, filters: Filters) -> str:
    return " ".join(f.code(f"{k}:{f.esc(v)}") for k, v in filters.items())


def title(f: Fmt, what: str, period: str, filters: Filters) -> str:
    extra = filters_text(f, filters)
    return f.b(f"{what} · {period}") + (f" · {extra}" if extra else "")


def local_time(value: str, tz: ZoneInfo, fmt: str = "%d %b %H:%M") -> str:
    try:
        return datetime.fromisoformat(value).astimezone(tz).strftime(fmt)
    except ValueError:
        return value


def metric_line(f: Fmt, name: str, cur: Counts, prev: Counts | None) -> str:
    m = METRICS[name]
    value = m.value(cur)
    if name == "volume":
        shown = f"{cur.n:,} signals"
    elif value is None:
        shown = "no data"
    else:
        shown = f"{m.fmt(value)} (n={m.sample(cur):,})"
    line = f"{f.b(m.title)}  {shown}"
    if prev is not None and value is not None:
        line += f"  ·  {format_change(m, value, m.value(prev))} vs previous"
    return line


def mix_line(f: Fmt, cur: Counts, prev: Counts | None) -> str:
    mix = mix_from_counts(cur.negative, cur.neutral, cur.positive, cur.unscored)
    if mix is None:
        return f"{f.b('Sentiment mix')}  no data"
    line = (
        f"{f.b('Sentiment mix')}  {mix.negative:.0f}% negative · {mix.neutral:.0f}% neutral"
        f" · {mix.positive:.0f}% positive · {mix.unscored:.0f}% unscored"
    )
    before = (
        mix_from_counts(prev.negative, prev.neutral, prev.positive, prev.unscored)
        if prev is not None
        else None
    )
    if before is not None:
        line += f"  ·  negative {signed(mix.negative - before.negative)} pts vs previous"
    return line


def severity_badge(row: SignalRow) -> str:
    if row.rating is not None:
        return "★" * row.rating + "☆" * (5 - row.rating)
    if row.score is not None and row.score_type:
        return f"{row.score_type.upper()} {row.score:g}"
    if row.sentiment is not None:
        return f"sentiment {signed(row.sentiment, 2)}"
    return row.sentiment_label or ""


def signal_line(f: Fmt, i: int, row: SignalRow, tz: ZoneInfo, *, snippet: bool = False) -> str:
    raw = " ".join((row.text or row.title or "").split())
    if snippet:  # FTS5 marked the matches with \x02..\x03: bold them after escaping the rest
        pieces = raw.replace("\x03", "\x02").split("\x02")
        body = "".join(f.b(f.esc(p)) if k % 2 and p else f.esc(p) for k, p in enumerate(pieces))
    else:
        body = trim(f.esc(raw), 200)
    meta = " · ".join(
        x
        for x in (
            severity_badge(row),
            f.esc(row.source),
            row.kind,
            local_time(row.created_at, tz),
            f.esc(row.author) if row.author else "",
        )
        if x
    )
    return f"{i}. {meta} — “{body}” {f.link(row.url, 'open')}".rstrip()


def no_data_hint(f: Fmt, hint: str | None) -> str:
    return f"No signals match. {hint}" if hint else "No signals match."


def error_parts(f: Fmt, message: str, usage: str | None, suggestion: str | None) -> list[Part]:
    # Our messages quote words in `code`; commands.py keeps backticks out of the quoted words,
    # so the code spans can be restored after escaping (mentions and links stay inert).
    parts: list[Part] = [("section", f.esc(message).replace("ˋ", "`"))]
    if usage:
        parts.append(("context", f"Usage: {f.code(f.esc(usage))}"))
    tips = [
        f"Try {f.code('/cx ' + f.esc(suggestion))}" if suggestion and suggestion != "help" else "",
        f"{f.code('/cx help')} lists everything.",
    ]
    parts.append(("context", " · ".join(t for t in tips if t)))
    return parts


def error_answer(message: str, usage: str | None = None, suggestion: str | None = None) -> Answer:
    return build(lambda f: error_parts(f, message, usage, suggestion))


# --- help and the admin verbs -------------------------------------------------------------------

EXAMPLES = {
    "summary": ["/cx summary", "/cx summary 30d source:appstore", "/cx summary last week public"],
    "nps": ["/cx nps 90d", "/cx nps this month kind:survey"],
    "csat": ["/cx csat 30d source:zendesk"],
    "ces": ["/cx ces 90d"],
    "rating": ["/cx rating 30d source:appstore lang:de"],
    "sentiment": ["/cx sentiment 7d topic:billing"],
    "volume": ["/cx volume 24h", "/cx volume 2026-11-01..2026-11-15 kind:ticket"],
    "top": ["/cx top negative", "/cx top negative 24h source:trustpilot"],
    "topics": ["/cx topics 30d"],
    "search": ["/cx search refund", '/cx search "double charged" 30d kind:ticket'],
    "customer": ["/cx customer ana@example.com", "/cx customer @ana"],
    "alerts": ["/cx alerts"],
    "mute": ["/cx mute bad-review 2h"],
    "unmute": ["/cx unmute bad-review"],
    "digest": ["/cx digest"],
    "help": ["/cx help nps"],
}
SUMMARIES = {
    "summary": "volume, NPS, CSAT, CES, rating and sentiment, each against the previous period",
    "nps": "Net Promoter Score with its sample and trend",
    "csat": "CSAT (% 4–5 of 5)",
    "ces": "Customer Effort Score (mean of 1–7)",
    "rating": "average star rating",
    "sentiment": "average text sentiment and the label mix",
    "volume": "how many signals",
    "top": "the worst negative signals, with links",
    "topics": "topics ranked, rising ones marked",
    "search": "full-text search, newest first",
    "customer": "one customer across channels",
    "alerts": "alert rules and mutes",
    "mute": "silence a rule for a while (admins)",
    "unmute": "lift a mute (admins)",
    "digest": "preview this week's digest",
    "help": "this help",
}
PERIOD_HELP = (
    "Periods: 24h, 7d (default), 30d, 90d, 365d, any Nd or Nh, today, yesterday, this"
    " week, last week, this month, last month, all, or 2026-11-01..2026-11-15 (days in"
    " the team's timezone)."
)
FILTER_HELP = (
    "Filters: source:NAME kind:review|ticket|message|mention|survey topic:NAME"
    " lang:CODE. Add `public` at the end to post the answer in the channel."
)


def render_help(usage: dict[str, str], topic: str | None = None, public: bool = False) -> Answer:
    def parts(f: Fmt) -> list[Part]:
        head: Part
        if topic in usage:
            assert topic is not None
            lines = [
                f.b(f"/cx {topic}") + f" — {SUMMARIES[topic]}",
                f"Usage: {f.code(usage[topic])}",
                "Examples: " + " · ".join(f.code(e) for e in EXAMPLES[topic]),
            ]
            return [("section", "\n".join(lines)), ("context", f"{PERIOD_HELP} {FILTER_HELP}")]
        head = (
            "section",
            f.b("/cx — ask cxbot about customer experience")
            + (f"\n(no command `{f.esc(topic)}`)" if topic else ""),
        )
        lines = [f"{f.code(usage[v])} — {SUMMARIES[v]}" for v in usage if v != "help"]
        return [
            head,
            ("section", "\n".join(lines)),
            ("context", PERIOD_HELP),
            ("context", FILTER_HELP),
            (
                "context",
                "e.g. "
                + " · ".join(
                    f.code(e)
                    for e in (
                        "/cx summary 30d",
                        "/cx nps 90d source:appstore",
                        "/cx search refund",
                        "/cx help nps",
                    )
                ),
            ),
        ]

    return build(parts, public)


def render_alerts(
    rules: Sequence[tuple[str, str, str]],
    mutes: dict[str, tuple[str, str | None]],
    tz: ZoneInfo,
    public: bool = False,
) -> Answer:
    """`rules`: (name, channel, conditions); `mutes`: rule -> (until ISO, muted_by)."""

    def parts(f: Fmt) -> list[Part]:
        if not rules:
            return [("section", "No alert rules are configured ([[alerts]] in the config).")]
        lines = []
        for name, channel, conditions in rules:
            line = f"• {f.b(f.esc(name))} → {f.esc(channel)} — {f.esc(conditions)}"
            if name in mutes:
                until, by = mutes[name]
                who = f" by {f.esc(by)}" if by else ""
                line += f"  🔇 muted until {local_time(until, tz, '%d %b %H:%M')}{who}"
            lines.append(line)
        stale = sorted(set(mutes) - {r[0] for r in rules})
        out: list[Part] = [("section", f.b("Alert rules") + "\n" + "\n".join(lines))]
        if stale:
            out.append(
                (
                    "context",
                    "Also muted (no such rule in the config): "
                    + ", ".join(f.esc(s) for s in stale),
                )
            )
        return out

    return build(parts, public)


def render_muted(
    rule: str, until: datetime, tz: ZoneInfo, by: str | None, public: bool = False
) -> Answer:
    when = until.astimezone(tz).strftime("%d %b %H:%M")
    return build(
        lambda f: [("section", f"🔇 {f.b(f.esc(rule))} is muted until {when} ({tz.key}).")],
        public,
    )


def render_unmuted(rule: str, existed: bool, public: bool = False) -> Answer:
    return build(
        lambda f: [
            (
                "section",
                f"🔔 {f.b(f.esc(rule))} is unmuted."
                if existed
                else f"{f.b(f.esc(rule))} was not muted.",
            )
        ],
        public,
    )

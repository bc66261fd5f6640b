"""Answers to `/cx`: pure renderers from query results to text and simple Block Kit.

Each renderer writes its answer once against a `Fmt`; it is run twice, plain (the text `cxbot
ask` prints and Slack's notification fallback) and Slack mrkdwn (the blocks), so both say the
same words. User-supplied text goes through `slacktext.escape` in both (the text is also Slack's
fallback, which Slack parses too): no `<!channel>`, `@here`, disguised links or formatting can get
through. `Answer.plain` undoes those escapes for a terminal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from cxbot.metrics import METRICS, Counts, format_change, mix_from_counts, signed
from cxbot.models import Filters, SignalRow
from cxbot.slack.text import escape, safe_url, to_plain, trim

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
    # Our messages quote words in `code`; cxbot/cx/grammar.py keeps backticks out of the quoted words,
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

"""`/cx help`, `/cx alerts` and the mute answers: the words of the command line itself."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from cxbot.slack.fmt import Answer, Fmt, Part, build, local_time

EXAMPLES = {
    "summary": ["/cx summary", "/cx summary 30d source:appstore", "/cx summary last week public"],
    "nps": ["/cx nps 90d", "/cx nps this month kind:survey"],
    "csat": ["/cx csat 30d source:zendesk"],
    "ces": ["/cx ces 90d"],
    "rating": ["/cx rating 30d source:appstore lang:de"],
    "sentiment": ["/cx sentiment 7d topic:billing"],
    "volume": [
        "/cx volume 24h",
        "/cx volume 2026-11-01..2026-11-15 kind:ticket",
        "/cx volume 30d intent:churn_risk",
    ],
    "top": ["/cx top negative", "/cx top negative 24h source:trustpilot"],
    "topics": ["/cx topics 30d"],
    "search": [
        "/cx search refund",
        '/cx search "double charged" 30d kind:ticket',
        "/cx search app 7d intent:complaint",
    ],
    "customer": ["/cx customer ana@example.com", "/cx customer @ana"],
    "alerts": ["/cx alerts"],
    "sources": ["/cx sources"],
    "sla": ["/cx sla"],
    "mute": ["/cx mute bad-review 2h"],
    "unmute": ["/cx unmute bad-review"],
    "digest": ["/cx digest"],
    "export": ["/cx export 30d source:zendesk", "/cx export last week lang:tr"],
    "erase": ["/cx erase ana@example.com", "/cx erase ana@example.com confirm"],
    "help": ["/cx help nps"],
    "dashboard": ["/cx dashboard"],
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
    "sources": "each source: webhook or polled, what arrived lately, a poll's last run and error",
    "sla": "open alerts under an SLA by time left, and the last week's breaches",
    "mute": "silence a rule for a while (admins)",
    "unmute": "lift a mute (admins)",
    "digest": "preview this week's digest",
    "export": "the signals as a CSV file in this channel (admins)",
    "erase": "erase a customer's data, after a confirmation (admins)",
    "dashboard": "a personal, expiring sign-in link to the live dashboard",
    "help": "this help",
}


PERIOD_HELP = (
    "Periods: 24h, 7d (default), 30d, 90d, 365d, any Nd or Nh, today, yesterday, this"
    " week, last week, this month, last month, all, or 2026-11-01..2026-11-15 (days in"
    " the team's timezone)."
)


FILTER_HELP = (
    "Filters: source:NAME kind:review|ticket|message|mention|survey topic:NAME"
    " lang:CODE intent:complaint|question|request|praise|churn_risk. Add `public` at the end"
    " to post the answer in the channel."
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

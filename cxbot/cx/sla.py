"""`/cx sla` (and `cxbot ask sla`): the open alerts under an SLA, the soonest due (or most
overdue) first, and how many breaches the last 7 days saw. Snoozed alerts are not timed
until they wake (cxbot/alerts/sla.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from cxbot.alerts.lifecycle import open_clocks
from cxbot.alerts.records import breach_counts
from cxbot.alerts.sla import Clock, SlaRule
from cxbot.models import iso_utc
from cxbot.slack.fmt import Answer, Fmt, Part, build, local_time
from cxbot.slack.text import one_line, trim

RECENT = timedelta(days=7)
SHOWN = 20


@dataclass(frozen=True)
class SlaReport:
    clocks: list[Clock]
    breaches: Mapping[str, int]  # per stage, in the last RECENT


def sla_report(db: Database, now: datetime, slas: Sequence[SlaRule], tz: ZoneInfo) -> SlaReport:
    return SlaReport(open_clocks(db, now, slas, tz), breach_counts(db, now - RECENT))


def span(delta: timedelta) -> str:
    """ "2d 3h", "1h 20m", "5m", "40s"."""
    seconds = int(abs(delta).total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m" if minutes else f"{secs}s"


def render_sla(
    report: SlaReport, slas: Sequence[SlaRule], tz: ZoneInfo, now: datetime, public: bool = False
) -> Answer:
    def parts(f: Fmt) -> list[Part]:
        if not slas:
            return [("section", "No SLAs are configured ([[sla]] in the config; docs/alerts.md).")]
        lines = []
        for c in report.clocks[:SHOWN]:
            stage = "acknowledge" if c.stage == "ack" else "resolve"
            due = local_time(iso_utc(c.due), tz, "%d %b %H:%M")
            left = c.due - now
            when = f"overdue by {span(left)}" if c.breached else f"{span(left)} left"
            icon = "🚨" if c.breached else "⏳"
            text = one_line(str(c.alert.get("title") or c.alert.get("text") or ""))
            quote = f" — {f.esc(trim(text, 80))}" if text else ""
            who = c.alert.get("assignee")
            owner = f" · assigned to {f.esc(str(who))}" if who else ""
            lines.append(
                f"• {icon} Signal {c.signal_id} · {f.code(f.esc(c.sla))} · {stage} {when}"
                f" (due {due}){owner}{quote}"
            )
        if len(report.clocks) > SHOWN:
            lines.append(f"and {len(report.clocks) - SHOWN} more")
        head = f.b("SLAs") + f" · {len(report.clocks)} open stage(s) timed"
        body = "\n".join(lines) if lines else "No open alert is under an SLA right now."
        acks, resolves = report.breaches.get("ack", 0), report.breaches.get("resolve", 0)
        note = f"Breaches in the last 7 days: {acks} to acknowledge, {resolves} to resolve."
        return [("section", head + "\n" + body), ("context", note + " Snoozed alerts wait.")]

    return build(parts, public)

"""`/cx sources` (and `cxbot ask sources`): every configured source, how it reaches us, what
arrived lately, and for a poll source its last run and last error — the same state `/healthz`
shows, in words a CX lead reads without opening a terminal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from cxbot.config import Settings
from cxbot.cx.queries import source_activity
from cxbot.poll.records import PollStatus, all_statuses
from cxbot.slack.fmt import Answer, Fmt, Part, build, local_time

RECENT = timedelta(days=7)


@dataclass(frozen=True)
class SourceLine:
    name: str
    type: str
    every: float | None  # a poll source's interval in seconds; None for a webhook source
    recent: int  # signals dated in the last RECENT
    newest: str | None  # the newest signal's own time (ISO UTC)
    poll: PollStatus | None = None


def source_lines(settings: Settings, db: Database, now: datetime) -> list[SourceLine]:
    names = [*settings.sources, *settings.polls]
    activity = source_activity(db, names, now - RECENT)
    statuses = all_statuses(db) if settings.polls else {}
    lines = [SourceLine(n, s.type, None, *activity[n]) for n, s in settings.sources.items()]
    for name, p in settings.polls.items():
        status = statuses.get(name, PollStatus(name))
        lines.append(SourceLine(name, p.type, p.interval, *activity[name], poll=status))
    return sorted(lines, key=lambda s: s.name)


def every(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def _poll_state(f: Fmt, p: PollStatus, tz: ZoneInfo) -> str:
    if p.last_run is None:
        return "not polled yet"
    ran = f"last run {local_time(p.last_run, tz, '%d %b %H:%M')}"
    if p.last_error:
        times = f" {p.failures}×" if p.failures > 1 else ""
        return f"⚠️ failing{times}: {f.esc(p.last_error[:200])} ({ran})"
    state = f"ok, {ran}"
    return state if p.cursor.backfilled else state + ", backfill not finished"


def render_sources(lines: Sequence[SourceLine], tz: ZoneInfo, public: bool = False) -> Answer:
    def parts(f: Fmt) -> list[Part]:
        if not lines:
            return [("section", "No sources are configured ([sources.NAME] in the config).")]
        out = []
        for s in lines:
            how = "webhook" if s.every is None else f"polled every {every(s.every)}"
            newest = f", newest {local_time(s.newest, tz, '%d %b %H:%M')}" if s.newest else ""
            line = f"• {f.b(f.esc(s.name))} ({f.esc(s.type)}, {how}) — {s.recent:,} in 7d{newest}"
            if s.poll is not None:
                line += " · " + _poll_state(f, s.poll, tz)
            out.append(line)
        failing = sum(1 for s in lines if s.poll is not None and s.poll.last_error)
        parts: list[Part] = [("section", f.b("Sources") + "\n" + "\n".join(out))]
        if failing:
            parts.append(
                ("context", f"{failing} poll source(s) failing: see /healthz for details.")
            )
        return parts

    return build(parts, public)

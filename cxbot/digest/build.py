"""The weekly KPI digest, pure: ISO weeks in the team's timezone, the data a digest is built
from, its figures with week-over-week changes, and a headline computed from those numbers.

No clock and no I/O: `now` is passed in, cxbot/digest/queries.py fills `DigestData`, cxbot/digest/render.py
turns a `Digest` into text and Block Kit. A week is Monday 00:00 to the next Monday 00:00 local
time, so a week with a DST change is 167 or 169 hours long (periods.py does the arithmetic on
wall-clock dates). Metrics come from metrics.py: nothing here defines NPS, CSAT or CES again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cxbot.digest.config import DigestFilter, Schedule
from cxbot.metrics import METRICS, RISING_MIN, Counts, mix_from_counts, pct_change, signed
from cxbot.models import SignalRow
from cxbot.periods import day_start, local_date, localize

# --- weeks ---------------------------------------------------------------------------------------

_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$")


class WeekError(ValueError):
    """Text that is not an ISO week, or a week that cannot be reported (not started yet)."""


def parse_week(text: str) -> date:
    """The Monday of an ISO week written `2026-W47`."""
    m = _WEEK.match(text.strip().upper())
    if not m:
        raise WeekError(f"{text!r} is not an ISO week: write YYYY-Www, e.g. 2026-W47")
    year, week = int(m.group(1)), int(m.group(2))
    try:
        return date.fromisocalendar(year, week, 1)
    except ValueError:
        raise WeekError(f"{text!r}: {year} has no ISO week {week}") from None


def week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def shift_week(period: str, weeks: int) -> str:
    return week_label(parse_week(period) + timedelta(weeks=weeks))


def week_bounds(period: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) local, as UTC instants."""
    monday = parse_week(period)
    return day_start(monday, tz), day_start(monday + timedelta(days=7), tz)


def week_of(now: datetime, tz: ZoneInfo) -> str:
    return week_label(local_date(now, tz))


def last_complete_week(now: datetime, tz: ZoneInfo) -> str:
    return week_label(local_date(now, tz) - timedelta(days=7))


def occurrence(period: str, schedule: Schedule, tz: ZoneInfo) -> datetime:
    """When `period`'s digest is due: the schedule's weekday and time in the following week (a
    time in a DST gap is the instant of the jump, periods.localize)."""
    day = parse_week(period) + timedelta(days=7 + schedule.weekday)
    return localize(datetime.combine(day, time(schedule.hour, schedule.minute)), tz)


def latest_occurrence(now: datetime, schedule: Schedule, tz: ZoneInfo) -> tuple[str, datetime]:
    """The last scheduled send at or before `now`, and the week it reports."""
    today = local_date(now, tz)
    day = today - timedelta(days=(today.weekday() - schedule.weekday) % 7)
    period = week_label(day - timedelta(days=7))
    due = occurrence(period, schedule, tz)
    if due > now:  # today is the day but the time has not come: last week's send
        period = shift_week(period, -1)
        due = occurrence(period, schedule, tz)
    return period, due


@dataclass(frozen=True)
class DigestWindow:
    period: str
    tz: ZoneInfo
    start: datetime
    end: datetime  # the week's end, or `now` while the week is running
    prev_start: datetime
    prev_end: datetime  # the same span of the week before
    complete: bool


def digest_window(period: str, tz: ZoneInfo, now: datetime) -> DigestWindow:
    start, week_end = week_bounds(period, tz)
    if now <= start:
        raise WeekError(f"{period} has not started yet")
    end = min(now, week_end)
    # Shift the end by 7 local days (not 168 hours): a DST week keeps its wall-clock span.
    prev_end = localize(end.astimezone(tz).replace(tzinfo=None) - timedelta(days=7), tz)
    return DigestWindow(
        period,
        tz,
        start,
        end,
        week_bounds(shift_week(period, -1), tz)[0],
        prev_end,
        end == week_end,
    )


# --- what a digest is built from ---------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The signals a channel's digest covers: None = every source (kind)."""

    sources: tuple[str, ...] | None = None
    kinds: tuple[str, ...] | None = None
    title: str | None = None

    @classmethod
    def of(cls, f: DigestFilter | None) -> Scope:
        if f is None:
            return cls()
        return cls(
            tuple(f.sources) if f.sources else None, tuple(f.kinds) if f.kinds else None, f.title
        )

    def matches(self, source: str, kind: str) -> bool:
        return (self.sources is None or source in self.sources) and (
            self.kinds is None or kind in self.kinds
        )

    @property
    def label(self) -> str:
        if self.title:
            return self.title
        named = (("sources", self.sources), ("kinds", self.kinds))
        return " · ".join(f"{key}: {', '.join(values)}" for key, values in named if values)


@dataclass(frozen=True)
class Group:
    """One source and kind: its counts this week and the week before."""

    source: str
    kind: str
    current: Counts
    before: Counts


@dataclass(frozen=True)
class TopicMove:
    topic: str
    current: int
    before: int
    negative: int  # this week's negative mentions


@dataclass(frozen=True)
class Loop:
    """Closed-loop figures for alerts raised in the week (one per signal, whatever channels)."""

    raised: int = 0
    acknowledged: int = 0  # by the time the digest is built (any button counts as a first answer)
    resolved: int = 0
    median_ack_seconds: float | None = None
    median_resolve_seconds: float | None = None
    # Alerts under an `[[sla]]` stage, and those answered by its due time (cxbot/alerts/sla.py).
    ack_sla: int = 0
    ack_in_sla: int = 0
    resolve_sla: int = 0
    resolve_in_sla: int = 0
    regressions: int = 0  # resolved alerts reopened in the week (a customer wrote again)
    replied: int = 0  # a reply sent to the customer from Slack (cxbot/replies/)
    median_reply_seconds: float | None = None  # first alert → first reply sent


@dataclass(frozen=True)
class DigestData:
    window: DigestWindow
    scope: Scope
    current: Counts
    before: Counts
    groups: tuple[Group, ...] = ()
    topics: tuple[TopicMove, ...] = ()
    negative: tuple[SignalRow, ...] = ()  # worst first
    loop: Loop = Loop()
    daily: tuple[tuple[date, Counts], ...] = ()  # the 28 local days up to the window's end
    intents: tuple[IntentCount, ...] = ()  # in INTENTS order; only intents seen in either week


@dataclass(frozen=True)
class IntentCount:
    """Signals of one intent (enrich/intent.py) in the week and the week before."""

    intent: str
    current: int
    before: int


# --- figures and the headline ---------------------------------------------------------------------

# A change makes the headline when both weeks have MIN_SAMPLE answers and it is at least this
# big; the largest change relative to its threshold wins. Plain, documented rules (docs/digest.md)
# rather than a statistical test: the team can check every headline by hand.
THRESHOLDS: dict[str, float] = {
    "nps": 5.0,  # points
    "csat": 5.0,  # points
    "ces": 0.3,  # on the 1-7 scale
    "rating": 0.2,  # stars
    "negative": 5.0,  # points of the negative share
    "volume": 20.0,  # percent (and at least VOLUME_MIN_DIFF signals)
}
MIN_SAMPLE = 10
VOLUME_MIN_DIFF = 10
RISING_SHOWN = 5


@dataclass(frozen=True)
class Change:
    metric: str  # a METRICS name, or "negative" (share of negative signals, percent)
    current: float | None
    before: float | None
    n: int
    n_before: int

    @property
    def delta(self) -> float | None:
        if self.current is None or self.before is None:
            return None
        if self.metric == "volume":
            return pct_change(self.current, self.before)
        return self.current - self.before

    @property
    def ratio(self) -> float:
        """The change against its threshold, however few answers it rests on."""
        d = self.delta
        return 0.0 if d is None else abs(d) / THRESHOLDS[self.metric]

    @property
    def score(self) -> float:
        """How far past its threshold the change is (0 when it does not count)."""
        if self.metric == "volume":
            big = abs(self.n - self.n_before) >= VOLUME_MIN_DIFF
        else:
            big = min(self.n, self.n_before) >= MIN_SAMPLE
        return self.ratio if big and self.ratio >= 1 else 0.0


@dataclass(frozen=True)
class Digest:
    data: DigestData
    changes: dict[str, Change]
    headline: str
    rising: tuple[TopicMove, ...]


def _change(name: str, cur: Counts, prev: Counts) -> Change:
    if name == "negative":
        mix, before = (
            mix_from_counts(c.negative, c.neutral, c.positive, c.unscored) for c in (cur, prev)
        )
        return Change(
            name, mix.negative if mix else None, before.negative if before else None, cur.n, prev.n
        )
    m = METRICS[name]
    return Change(name, m.value(cur), m.value(prev), m.sample(cur), m.sample(prev))


_ORDER = ("nps", "csat", "ces", "rating", "negative", "volume")  # ties: the first listed wins


def build_digest(data: DigestData) -> Digest:
    changes = {name: _change(name, data.current, data.before) for name in _ORDER}
    rising = sorted(
        (t for t in data.topics if t.current >= RISING_MIN and t.current > t.before),
        key=lambda t: (-(t.current - t.before), -t.current, t.topic),
    )
    return Digest(data, changes, headline(changes, data), tuple(rising[:RISING_SHOWN]))


def _noun(complete: bool) -> str:
    return "the week before" if complete else "the same days of the week before"


def headline(changes: dict[str, Change], data: DigestData) -> str:
    """One line from the numbers only: the biggest significant change, else the volume."""
    cur, prev = data.current.n, data.before.n
    before = _noun(data.window.complete)
    if cur == 0:
        return "No signals this week" + (f" ({prev:,} in {before})." if prev else ".")
    best = max(_ORDER, key=lambda k: (changes[k].score, -_ORDER.index(k)))
    c = changes[best]
    if c.score == 0:
        if prev == 0:
            return f"{cur:,} signals; none in {before} to compare with."
        pct = f"{cur:,} signals ({_signed_pct(pct_change(cur, prev))} on {before})"
        if any(ch.ratio >= 1 for ch in changes.values()):
            # A figure below moved past its threshold on too few signals: "No big changes"
            # beside a +56% would contradict it.
            return f"{pct}: too few to call any change."
        return f"No big changes: {pct}."
    assert c.current is not None and c.delta is not None
    verb = "rose" if c.delta > 0 else "fell"
    d, n = abs(c.delta), f"(n={c.n:,})"
    return {
        "volume": f"Volume {verb} {d:.0f}% to {cur:,} signals ({prev:,} in {before}).",
        "nps": f"NPS {verb} {d:.0f} points to {c.current:.0f} {n}.",
        "csat": f"CSAT {verb} {d:.0f} points to {c.current:.0f}% {n}.",
        "ces": f"CES {verb} {d:.2f} to {c.current:.2f}/7 {n}.",
        "rating": f"Average rating {verb} {d:.2f} to {c.current:.2f}★ {n}.",
        "negative": f"Negative share {verb} {d:.0f} points to {c.current:.0f}% {n}.",
    }[best]


def _signed_pct(value: float | None) -> str:
    return "n/a" if value is None else f"{signed(value)}%"


def median(values: Sequence[float]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2

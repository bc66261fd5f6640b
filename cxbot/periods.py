"""Time windows for `/cx`: PERIOD text -> a spec (no clock) -> a UTC [start, end) window.

Parsing needs no clock so `parse_command` stays pure; `resolve` takes `now` and the team's
timezone. Calendar words ("this week", "last month", date ranges) are local to that timezone and
all arithmetic on them is done on local wall-clock dates, then converted: a week that contains a
DST change is 167 or 169 hours long, and still starts on Monday 00:00 local.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Kind = Literal[
    "rolling",
    "today",
    "yesterday",
    "this_week",
    "last_week",
    "this_month",
    "last_month",
    "range",
    "all",
]
DEFAULT_PERIOD = "7d"
MAX_DAYS = 3660  # ten years: anything longer is a typo, and keeps datetime arithmetic in range
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PeriodSpec:
    kind: Kind
    text: str  # canonical spelling, shown back to the user
    hours: int = 0  # rolling
    first: date | None = None  # range, inclusive
    last: date | None = None


@dataclass(frozen=True)
class Window:
    start: datetime  # aware, UTC
    end: datetime  # aware, UTC, exclusive
    label: str

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


_WORDS: dict[str, PeriodSpec] = {
    "today": PeriodSpec("today", "today"),
    "yesterday": PeriodSpec("yesterday", "yesterday"),
    "this week": PeriodSpec("this_week", "this week"),
    "last week": PeriodSpec("last_week", "last week"),
    "this month": PeriodSpec("this_month", "this month"),
    "last month": PeriodSpec("last_month", "last month"),
    "all": PeriodSpec("all", "all time"),
    "all time": PeriodSpec("all", "all time"),
}
_UNITS = {
    "h": 1,
    "hour": 1,
    "hours": 1,
    "d": 24,
    "day": 24,
    "days": 24,
    "w": 168,
    "week": 168,
    "weeks": 168,
}
_ROLLING = re.compile(r"^(?:(?:last|past)\s+)?(\d{1,5})\s*(h|hours?|d|days?|w|weeks?)$")
_DATE = r"(\d{4}-\d{2}-\d{2})"
_RANGE = re.compile(rf"^{_DATE}(?:\.\.{_DATE})?$")


class PeriodError(ValueError):
    """Text that looks like a period but is not a valid one (message says why)."""


def parse_period(text: str) -> PeriodSpec | None:
    """A spec for period text, None when the text is not a period at all; raises PeriodError
    for a period that is malformed (a reversed range, 0d, a date that does not exist)."""
    t = " ".join(text.lower().split())
    if t in _WORDS:
        return _WORDS[t]
    m = _ROLLING.match(t)
    if m:
        number, unit = int(m.group(1)), m.group(2)
        hours = number * _UNITS[unit]
        if number <= 0:
            raise PeriodError(f"`{text}`: a period must be at least 1{unit[0]}")
        if hours > MAX_DAYS * 24:
            raise PeriodError(f"`{text}`: periods are limited to {MAX_DAYS} days")
        canonical = f"{hours}h" if hours <= 24 or hours % 24 else f"{hours // 24}d"
        return PeriodSpec("rolling", canonical, hours=hours)
    m = _RANGE.match(t)
    if m:
        try:
            first = date.fromisoformat(m.group(1))
            last = date.fromisoformat(m.group(2)) if m.group(2) else first
        except ValueError:
            raise PeriodError(f"`{text}` is not a real date (use YYYY-MM-DD)") from None
        if last < first:
            raise PeriodError(f"`{text}`: the range ends before it starts")
        if first.year < 1970 or last.year > 2999:
            raise PeriodError(f"`{text}`: dates go from 1970 to 2999")
        if (last - first).days >= MAX_DAYS:
            raise PeriodError(f"`{text}`: periods are limited to {MAX_DAYS} days")
        spelled = first.isoformat() if first == last else f"{first}..{last}"
        return PeriodSpec("range", spelled, first=first, last=last)
    return None


# --- local-time arithmetic ---------------------------------------------------------------------


def to_local(value: datetime, tz: ZoneInfo) -> datetime:
    return value.astimezone(tz)


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """A local wall-clock time as a UTC instant. fold=0: an ambiguous time is its first
    occurrence; a time in a DST gap maps to the instant of the jump (zoneinfo's rule)."""
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)


def day_start(day: date, tz: ZoneInfo) -> datetime:
    return localize(datetime.combine(day, time()), tz)


def local_date(value: datetime, tz: ZoneInfo) -> date:
    return value.astimezone(tz).date()


def _shift_days(value: datetime, tz: ZoneInfo, days: int) -> datetime:
    return localize(value.astimezone(tz).replace(tzinfo=None) + timedelta(days=days), tz)


def _month_start(d: date, back: int = 0) -> date:
    index = d.year * 12 + d.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def resolve(spec: PeriodSpec, now: datetime, tz: ZoneInfo) -> Window:
    """The window a spec means at `now` (aware). Calendar kinds are local to `tz`."""
    now = now.astimezone(UTC)
    today = local_date(now, tz)
    label = _label(spec)
    if spec.kind == "rolling":
        return Window(max(EPOCH, now - timedelta(hours=spec.hours)), now, label)
    if spec.kind == "all":
        return Window(EPOCH, now, label)
    if spec.kind == "today":
        return Window(day_start(today, tz), now, label)
    if spec.kind == "yesterday":
        return Window(day_start(today - timedelta(days=1), tz), day_start(today, tz), label)
    monday = today - timedelta(days=today.weekday())
    if spec.kind == "this_week":
        return Window(day_start(monday, tz), now, label)
    if spec.kind == "last_week":
        return Window(day_start(monday - timedelta(days=7), tz), day_start(monday, tz), label)
    if spec.kind == "this_month":
        return Window(day_start(_month_start(today), tz), now, label)
    if spec.kind == "last_month":
        return Window(
            day_start(_month_start(today, 1), tz), day_start(_month_start(today), tz), label
        )
    assert spec.first is not None and spec.last is not None
    return Window(day_start(spec.first, tz), day_start(spec.last + timedelta(days=1), tz), label)


def previous(spec: PeriodSpec, window: Window, tz: ZoneInfo) -> Window | None:
    """The period just before, of the same length: rolling windows by duration, calendar ones on
    the calendar (this week so far -> the same part of last week). None for "all time"."""
    label = "previous period"
    if spec.kind == "all":
        return None
    if spec.kind == "rolling":
        start = max(EPOCH, window.start - window.duration)
        return Window(start, window.start, label)
    if spec.kind in ("today", "yesterday", "this_week", "last_week", "range"):
        days = {"today": 1, "yesterday": 1, "this_week": 7, "last_week": 7}.get(spec.kind)
        if days is None:
            assert spec.first is not None and spec.last is not None
            days = (spec.last - spec.first).days + 1
        return Window(
            _shift_days(window.start, tz, -days), _shift_days(window.end, tz, -days), label
        )
    # Months: the previous month from its first day, as far into it as we are into this one.
    this_first = local_date(window.start, tz)
    prev_first = _month_start(this_first, 1)
    start = day_start(prev_first, tz)
    if spec.kind == "last_month":
        return Window(start, window.start, label)
    elapsed = window.end.astimezone(tz).replace(tzinfo=None) - datetime.combine(this_first, time())
    end = min(localize(datetime.combine(prev_first, time()) + elapsed, tz), window.start)
    return Window(start, end, label)


def _label(spec: PeriodSpec) -> str:
    if spec.kind == "rolling":
        h = spec.hours
        return f"last {h} hours" if h <= 24 or h % 24 else f"last {h // 24} days"
    return spec.text


# --- buckets for trends ------------------------------------------------------------------------


Unit = Literal["hour", "day", "week", "month"]


def bucket_unit(window: Window) -> Unit:
    """Hours up to 2 days, days up to 31 days, weeks up to 31 weeks, then months: a sparkline
    stays between about 7 and 48 bars."""
    length = window.duration
    if length <= timedelta(days=2):
        return "hour"
    if length <= timedelta(days=31):
        return "day"
    return "week" if length <= timedelta(days=217) else "month"


def buckets(window: Window, tz: ZoneInfo) -> list[Window]:
    """Consecutive sub-windows of `bucket_unit` size for a sparkline, on local hour, day,
    Monday or first-of-month boundaries, clipped to the window."""
    if window.duration <= timedelta(0):
        return []
    unit = bucket_unit(window)
    if unit == "hour":
        local = window.start.astimezone(tz)
        edge = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        step = timedelta(hours=1)
        edges = []
        while edge < window.end:
            edges.append(edge)
            edge += step
        return _clip(edges, window)
    first = local_date(window.start, tz)
    days: list[date] = []
    if unit == "day":
        d = first
        while day_start(d, tz) < window.end:
            days.append(d)
            d += timedelta(days=1)
    elif unit == "week":
        d = first - timedelta(days=first.weekday())
        while day_start(d, tz) < window.end:
            days.append(d)
            d += timedelta(days=7)
    else:
        d = _month_start(first)
        while day_start(d, tz) < window.end:
            days.append(d)
            d = _month_start(d, -1)
    return _clip([day_start(d, tz) for d in days], window)


def _clip(edges: list[datetime], window: Window) -> list[Window]:
    out = []
    for i, edge in enumerate(edges):
        nxt = edges[i + 1] if i + 1 < len(edges) else window.end
        start, end = max(edge, window.start), min(nxt, window.end)
        if start < end:
            out.append(Window(start, end, ""))
    return out


def describe(window: Window, tz: ZoneInfo) -> str:
    """ "13 Nov 10:00 – 20 Nov 10:00" in local time, for the answer's context line."""
    a, b = window.start.astimezone(tz), window.end.astimezone(tz)
    fmt = "%d %b %Y %H:%M" if a.year != b.year else "%d %b %H:%M"
    return f"{a.strftime(fmt)} – {b.strftime(fmt)}"

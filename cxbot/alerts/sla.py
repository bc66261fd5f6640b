"""SLAs on alerts (`[[sla]]`): durations, business hours, due times and breaches. Pure.

An SLA names an alert rule; its clocks start when the alert is raised (the alert row's time)
and stop at the first acknowledgement (`ack_within`) and the first resolution
(`resolve_within`). With `business_hours` only the time inside the team's working hours
counts, in the team's timezone (`timezone` at the top of the config, the digest's): each
day's window is turned into UTC instants with zoneinfo, so a day on which the clocks change
still has its 9 working hours, and days not listed (weekends) are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cxbot.models import SlackChannel
from cxbot.periods import localize

Stage = Literal["ack", "resolve"]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^(?:\d{1,6}[smhdw])+$")
_PART = re.compile(r"(\d{1,6})([smhdw])")
_HOURS = re.compile(r"^([a-z,\-]+)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_STAGES: tuple[tuple[Stage, str], ...] = (("ack", "acknowledged_at"), ("resolve", "resolved_at"))
_MAX_DAYS = 3660  # how far a business-time sum may walk before the schedule is called empty


def parse_duration(text: str) -> timedelta:
    """ "30s", "15m", "2h", "2d", "1w", or a sum such as "1h30m"."""
    cleaned = text.strip().lower()
    if not _DURATION.fullmatch(cleaned):
        raise ValueError(f"{text[:40]!r} is not a duration: use e.g. 30s, 15m, 2h, 2d or 1h30m")
    value = timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in _PART.findall(cleaned)))
    if value <= timedelta(0):
        raise ValueError(f"{text[:40]!r}: a duration must be longer than zero")
    return value


@dataclass(frozen=True)
class BusinessHours:
    days: frozenset[int]  # Monday = 0
    start: int  # minutes after local midnight
    end: int  # minutes after local midnight, up to 1440 ("24:00")

    def window(self, day: date, tz: ZoneInfo) -> tuple[datetime, datetime] | None:
        """That day's working hours as UTC instants, None on a day off."""
        if day.weekday() not in self.days:
            return None
        midnight = datetime.combine(day, time())
        opens = localize(midnight + timedelta(minutes=self.start), tz)
        closes = localize(midnight + timedelta(minutes=self.end), tz)
        return opens, closes


def _day(name: str) -> int:
    if name not in DAYS:
        raise ValueError(f"{name!r} is not a day: use mon, tue, wed, thu, fri, sat, sun")
    return DAYS.index(name)


def parse_business_hours(text: str) -> BusinessHours:
    """ "mon-fri 09:00-18:00"; days may be listed ("mon,wed,fri") or wrap ("sat-sun")."""
    m = _HOURS.fullmatch(text.strip().lower())
    if not m:
        raise ValueError(f"{text[:60]!r} is not business hours: use e.g. 'mon-fri 09:00-18:00'")
    days: set[int] = set()
    for part in m.group(1).split(","):
        first, _, last = part.partition("-")
        a = _day(first)
        b = _day(last) if last else a
        days.update((a + i) % 7 for i in range((b - a) % 7 + 1))
    h1, m1, h2, m2 = (int(g) for g in m.groups()[1:])
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        raise ValueError(f"{text[:60]!r}: times run from 00:00 to 24:00")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end <= start:
        raise ValueError(f"{text[:60]!r}: the day must end after it starts")
    return BusinessHours(frozenset(days), start, end)


def add_business_time(
    start: datetime, duration: timedelta, hours: BusinessHours | None, tz: ZoneInfo
) -> datetime:
    """`start` + `duration`, counting only working hours when `hours` is given."""
    if hours is None:
        return start + duration
    remaining = duration
    day = start.astimezone(tz).date() - timedelta(days=1)  # a window may start the day before
    for _ in range(_MAX_DAYS):
        window = hours.window(day, tz)
        day += timedelta(days=1)
        if window is None:
            continue
        opens, closes = max(window[0], start), window[1]
        if closes <= opens:
            continue
        if remaining <= closes - opens:
            return opens + remaining
        remaining -= closes - opens
    raise ValueError("the business hours leave no working time")


class SlaRule(BaseModel):
    """One `[[sla]]` table of the config."""

    model_config = ConfigDict(extra="forbid")

    rule: str = Field(min_length=1, description="an [[alerts]] rule's name")
    ack_within: str | None = Field(None, description='time to acknowledge, e.g. "2h"')
    resolve_within: str | None = Field(None, description='time to resolve, e.g. "2d"')
    business_hours: str | None = Field(None, description='e.g. "mon-fri 09:00-18:00"')
    escalate_to: SlackChannel | None = Field(None, description="where a breach is also posted")

    @field_validator("ack_within", "resolve_within")
    @classmethod
    def _duration(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v)
        return v

    @field_validator("business_hours")
    @classmethod
    def _hours(cls, v: str | None) -> str | None:
        if v is not None:
            parse_business_hours(v)
        return v

    @model_validator(mode="after")
    def _has_clock(self) -> SlaRule:
        if self.ack_within is None and self.resolve_within is None:
            raise ValueError("set ack_within, resolve_within or both")
        return self

    def within(self, stage: Stage) -> timedelta | None:
        text = self.ack_within if stage == "ack" else self.resolve_within
        return None if text is None else parse_duration(text)

    @property
    def hours(self) -> BusinessHours | None:
        return None if self.business_hours is None else parse_business_hours(self.business_hours)

    def due(self, stage: Stage, alerted_at: datetime, tz: ZoneInfo) -> datetime | None:
        within = self.within(stage)
        return None if within is None else add_business_time(alerted_at, within, self.hours, tz)


@dataclass(frozen=True)
class Clock:
    """One open alert's SLA stage: when it is due and whether it is breached at `now`."""

    signal_id: int
    sla: str
    stage: Stage
    due: datetime
    breached: bool
    alert: Mapping[str, Any]


def sla_for(rules: Iterable[str], slas: Sequence[SlaRule]) -> SlaRule | None:
    """The first configured SLA on one of the rules an alert matched."""
    names = set(rules)
    return next((s for s in slas if s.rule in names), None)


def parse_time(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def clocks(
    alerts: Sequence[Mapping[str, Any]],
    slas: Sequence[SlaRule],
    tz: ZoneInfo,
    now: datetime,
) -> list[Clock]:
    """The running SLA stages of open alerts (rows of rows.open_alerts, `rules` as a list),
    soonest due first; one per signal and stage (its first alert starts the clocks). A
    snoozed alert's clocks are left out: its breach waits until it wakes."""
    out: list[Clock] = []
    seen: set[int] = set()
    for alert in alerts:
        signal_id = int(alert["signal_id"])
        sla = sla_for(alert["rules"], slas)
        if sla is None or signal_id in seen:
            continue
        seen.add(signal_id)
        if alert["status"] in ("resolved", "snoozed"):
            continue
        alerted = parse_time(str(alert["alerted_at"]))
        for stage, done in _STAGES:
            due = sla.due(stage, alerted, tz)
            if due is None or alert.get(done):
                continue
            out.append(Clock(signal_id, sla.rule, stage, due, now >= due, alert))
    return sorted(out, key=lambda c: (c.due, c.signal_id, c.stage))


def breaches(clocks_: Iterable[Clock], already: Mapping[int, set[str]]) -> list[Clock]:
    """The breached stages not reported yet."""
    return [c for c in clocks_ if c.breached and c.stage not in already.get(c.signal_id, set())]

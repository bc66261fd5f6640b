"""`[digest]` in the config: when the weekly digest goes out, where, and what each channel sees.

    [digest]
    schedule = "mon 09:00"          # weekday and local time (the top-level `timezone`)
    channels = ["#cx-weekly", "#app-reviews"]
    grace_hours = 24
    chart = true

    [[digest.filters]]              # optional: a channel that sees only some signals
    channel = "#app-reviews"
    sources = ["appstore", "playstore"]
    kinds = ["review"]
    title = "App reviews"

The schedule is weekly only: a digest covers one ISO week (Monday-Sunday, local), and the
`digests` table keys on that week, so a daily schedule would have nothing new to send.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cxbot.models import Kind, SlackChannel

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SCHEDULE = re.compile(r"^([a-z]+)\s+(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class Schedule:
    weekday: int  # 0 = Monday, as date.weekday()
    hour: int
    minute: int

    @property
    def text(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.hour:02d}:{self.minute:02d}"


def parse_schedule(text: str) -> Schedule:
    """'mon 09:00' (also 'Monday 9:00'); raises ValueError with what to write instead."""
    m = _SCHEDULE.match(" ".join(text.lower().split()))
    example = "use a weekday and a 24-hour local time, e.g. 'mon 09:00'"
    if text.strip().lower().startswith(("daily", "every", "weekdays", "hourly")):
        raise ValueError(f"{text!r}: digests are weekly (one per ISO week); {example}")
    if not m:
        raise ValueError(f"{text!r} is not a schedule: {example}")
    day, hour, minute = m.group(1), int(m.group(2)), int(m.group(3))
    names = {d: i for i, d in enumerate(WEEKDAYS)} | {d: i for i, d in enumerate(_FULL_DAYS)}
    if day not in names:
        raise ValueError(f"{text!r}: {day!r} is not a weekday (mon, tue, … sun); {example}")
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r}: {hour}:{minute:02d} is not a time of day; {example}")
    return Schedule(names[day], hour, minute)


class DigestFilter(BaseModel):
    """`[[digest.filters]]`: the signals one digest channel sees (all when no filter)."""

    model_config = ConfigDict(extra="forbid")

    channel: SlackChannel = Field(description="one of digest.channels")
    sources: list[str] | None = Field(None, description="source names; all when absent")
    kinds: list[Kind] | None = Field(None, description="review, ticket, message, mention, survey")
    title: str | None = Field(None, max_length=80, description="shown in the digest's heading")

    @field_validator("sources", "kinds")
    @classmethod
    def _not_empty(cls, v: list[str] | None) -> list[str] | None:
        # An empty list would silently mean "nothing": leave the key out to mean "all".
        if v is not None and not v:
            raise ValueError("an empty list matches nothing: leave the key out for all")
        return v


class DigestConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schedule: str = Field("mon 09:00", description="weekday and local time, e.g. 'mon 09:00'")
    channels: list[SlackChannel] = Field(default_factory=list)
    grace_hours: float = Field(24, ge=0, description="send a missed digest on start-up within")
    chart: bool = Field(False, description="upload a PNG chart with the digest")
    filters: list[DigestFilter] = Field(default_factory=list)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str) -> str:
        return parse_schedule(v).text  # canonical spelling; raises with a clear message

    @model_validator(mode="after")
    def _filters_name_channels(self) -> DigestConfig:
        seen: set[str] = set()
        for i, f in enumerate(self.filters):
            if f.channel not in self.channels:
                raise ValueError(
                    f"filters[{i}].channel {f.channel!r} is not in digest.channels"
                    f" ({', '.join(self.channels) or 'empty'})"
                )
            if f.channel in seen:
                raise ValueError(f"filters[{i}]: {f.channel!r} has two filters; merge them")
            seen.add(f.channel)
        return self

    @property
    def parsed_schedule(self) -> Schedule:
        return parse_schedule(self.schedule)

    def filter_for(self, channel: str | None) -> DigestFilter | None:
        """The channel's filter; `channel` may be given with or without its '#'."""
        if channel is None:
            return None
        name = channel.lstrip("#")
        return next((f for f in self.filters if f.channel.lstrip("#") == name), None)

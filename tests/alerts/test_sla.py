"""SLAs, pure: durations, business hours, business-time sums across weekends and DST changes,
due times and breaches at a fixed `now`; and the `[[sla]]` config's checks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cxbot.alerts.sla import (
    BusinessHours,
    SlaRule,
    add_business_time,
    breaches,
    clocks,
    parse_business_hours,
    parse_duration,
)
from cxbot.config import load_settings
from cxbot.cx.sla import SlaReport, render_sla, span
from cxbot.errors import ConfigError

BERLIN = ZoneInfo("Europe/Berlin")
ISTANBUL = ZoneInfo("Europe/Istanbul")
WORKDAYS = parse_business_hours("mon-fri 09:00-18:00")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("2h", 7200), ("2d", 172800), ("1w", 604800), ("1h30m", 5400),
     (" 2H ", 7200)],
)  # fmt: skip
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "2", "h", "2x", "0s", "-1h", "1.5h", "2 h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_business_hours_parse() -> None:
    assert WORKDAYS == BusinessHours(frozenset(range(5)), 9 * 60, 18 * 60)
    assert parse_business_hours("sat-sun 10:00-14:30").days == {5, 6}
    assert parse_business_hours("fri-mon 00:00-24:00") == BusinessHours(
        frozenset({4, 5, 6, 0}), 0, 1440
    )
    assert parse_business_hours("Mon,Wed,fri 8:00-12:00").days == {0, 2, 4}


@pytest.mark.parametrize(
    "text", ["mon-fri 18:00-09:00", "xyz 09:00-10:00", "mon-fri 9-18", "mon-fri 09:00-24:30",
             "mon-fri 25:00-26:00", "monday 09:00-10:00"],
)  # fmt: skip
def test_bad_business_hours(text: str) -> None:
    with pytest.raises(ValueError):
        parse_business_hours(text)


def test_without_business_hours_it_is_wall_time() -> None:
    start = utc(2026, 3, 28, 12)
    assert add_business_time(start, timedelta(hours=30), None, BERLIN) == utc(2026, 3, 29, 18)


def test_inside_one_working_day() -> None:
    start = utc(2026, 6, 3, 8)  # Wednesday 10:00 in Berlin (CEST)
    assert add_business_time(start, timedelta(hours=2), WORKDAYS, BERLIN) == utc(2026, 6, 3, 10)


def test_before_opening_the_clock_starts_at_nine() -> None:
    start = utc(2026, 6, 3, 3)  # 05:00 local
    assert add_business_time(start, timedelta(minutes=30), WORKDAYS, BERLIN) == utc(
        2026, 6, 3, 7, 30
    )


def test_a_breach_across_a_weekend() -> None:
    # Friday 17:00 CEST: one hour on Friday, the second on Monday from 09:00.
    start = utc(2026, 6, 5, 15)
    due = add_business_time(start, timedelta(hours=2), WORKDAYS, BERLIN)
    assert due == utc(2026, 6, 8, 8)  # Monday 10:00 CEST
    assert due.astimezone(BERLIN).weekday() == 0


def test_across_the_spring_dst_change_in_berlin() -> None:
    # Friday 27 March 2026 17:00 CET (UTC+1); clocks go forward on Sunday 29 March.
    start = utc(2026, 3, 27, 16)
    due = add_business_time(start, timedelta(hours=2), WORKDAYS, BERLIN)
    assert due == utc(2026, 3, 30, 8)  # Monday 10:00 CEST (UTC+2), not 09:00 UTC
    assert (due.astimezone(BERLIN).hour, due.astimezone(BERLIN).minute) == (10, 0)


def test_across_the_autumn_dst_change_in_berlin() -> None:
    # Friday 23 October 2026 17:00 CEST; clocks go back on Sunday 25 October.
    start = utc(2026, 10, 23, 15)
    due = add_business_time(start, timedelta(hours=2), WORKDAYS, BERLIN)
    assert due == utc(2026, 10, 26, 9)  # Monday 10:00 CET (UTC+1)


def test_a_round_the_clock_day_with_a_dst_change_has_23_hours() -> None:
    always = parse_business_hours("mon-sun 00:00-24:00")
    start = utc(2026, 3, 28, 11)  # Saturday 12:00 CET
    due = add_business_time(start, timedelta(hours=24), always, BERLIN)
    assert due == start + timedelta(hours=24)  # elapsed time, whatever the clocks say
    assert due.astimezone(BERLIN).hour == 13


def test_istanbul_has_no_dst() -> None:
    start = utc(2026, 3, 27, 14)  # Friday 17:00 (UTC+3 all year)
    due = add_business_time(start, timedelta(hours=2), WORKDAYS, ISTANBUL)
    assert due == utc(2026, 3, 30, 7)  # Monday 10:00, UTC+3 still
    autumn = add_business_time(utc(2026, 10, 23, 14), timedelta(hours=2), WORKDAYS, ISTANBUL)
    assert autumn == utc(2026, 10, 26, 7)


def test_many_business_days() -> None:
    # 2 days of business time = 48 working hours = 5 days and 3 hours of a 9-hour week.
    start = utc(2026, 6, 1, 7)  # Monday 09:00 CEST
    due = add_business_time(start, timedelta(days=2), WORKDAYS, BERLIN)
    assert due == utc(2026, 6, 8, 10)  # the next Monday, 12:00


def alert(signal_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "signal_id": signal_id,
        "alert_id": signal_id * 10,
        "channel": "#cx-alerts",
        "rules": ["bad-review"],
        "alerted_at": "2026-06-03T08:00:00.000000Z",  # Wednesday 10:00 in Berlin
        "status": "new",
        "assignee": None,
        "acknowledged_at": None,
        "resolved_at": None,
        **extra,
    }


SLA = SlaRule(rule="bad-review", ack_within="2h", resolve_within="1d")


def test_clocks_and_breaches_at_a_fixed_now() -> None:
    rows = [
        alert(1),
        alert(2, status="acknowledged", acknowledged_at="2026-06-03T08:30:00.000000Z"),
        alert(3, status="snoozed"),
        alert(4, rules=["other"]),
        alert(1, alert_id=11, channel="#vip"),  # a second message of signal 1: one clock
    ]
    at = utc(2026, 6, 3, 11)
    running = clocks(rows, [SLA], BERLIN, at)
    assert [(c.signal_id, c.stage, c.breached) for c in running] == [
        (1, "ack", True),
        (1, "resolve", False),
        (2, "resolve", False),
    ]
    assert running[0].due == utc(2026, 6, 3, 10)
    assert [(c.signal_id, c.stage) for c in breaches(running, {})] == [(1, "ack")]
    assert breaches(running, {1: {"ack"}}) == []  # reported already
    later = clocks(rows, [SLA], BERLIN, utc(2026, 6, 4, 8))
    assert [(c.signal_id, c.stage) for c in breaches(later, {1: {"ack"}})] == [
        (1, "resolve"),
        (2, "resolve"),
    ]


def test_business_hours_move_the_due_time() -> None:
    sla = SLA.model_copy(update={"business_hours": "mon-fri 09:00-18:00"})
    friday = alert(1, alerted_at="2026-06-05T15:00:00.000000Z")
    [ack, resolve] = clocks([friday], [sla], BERLIN, utc(2026, 6, 6, 12))
    assert (ack.due, ack.breached) == (utc(2026, 6, 8, 8), False)  # the weekend does not count
    assert resolve.due == utc(2026, 6, 10, 12)  # 24 working hours: 1 + 9 + 9 + 5


def sla_config(write_config: Callable[..., Path], sla: str) -> Path:
    rule = '[[alerts]]\nname = "bad-review"\nchannel = "#cx-alerts"\nmax_rating = 2\n'
    return write_config(rule + "[[sla]]\n" + sla)


def config_error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(path, {"CXBOT_WEB_SECRET": "x"})
    return str(info.value)


def test_sla_config(write_config: Callable[..., Path]) -> None:
    path = sla_config(
        write_config,
        'rule = "bad-review"\nack_within = "2h"\nresolve_within = "2d"\n'
        'business_hours = "mon-fri 09:00-18:00"\nescalate_to = "#cx-leads"\n',
    )
    [sla] = load_settings(path, {"CXBOT_WEB_SECRET": "x"}).file.sla
    assert (sla.within("ack"), sla.escalate_to) == (timedelta(hours=2), "#cx-leads")


@pytest.mark.parametrize(
    ("sla", "message"),
    [
        ('rule = "nope"\nack_within = "2h"\n', "rule 'nope' is not an [[alerts]] rule"),
        ('rule = "bad-review"\nack_within = "2 hours"\n', "is not a duration"),
        ('rule = "bad-review"\n', "set ack_within, resolve_within or both"),
        ('rule = "bad-review"\nack_within = "2h"\nbusiness_hours = "9-5"\n', "business hours"),
        ('rule = "bad-review"\nack_within = "2h"\nescalate_to = "#Leads x"\n', "sla['bad-review']"),
        ('rule = "bad-review"\nack_within = "2h"\nescalate = "#x"\n', "unknown key"),
    ],
)
def test_sla_config_errors(write_config: Callable[..., Path], sla: str, message: str) -> None:
    assert message in config_error(sla_config(write_config, sla))


def test_spans_and_an_answer_without_slas() -> None:
    assert [span(timedelta(seconds=s)) for s in (40, 300, 3600, 4800, 86400, 97200)] == [
        "40s", "5m", "1h", "1h 20m", "1d", "1d 3h",
    ]  # fmt: skip
    assert span(timedelta(hours=-2)) == "2h"
    empty = render_sla(SlaReport([], {}), [], BERLIN, utc(2026, 6, 3, 8))
    assert empty.plain.startswith("No SLAs are configured")

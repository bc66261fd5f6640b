"""Periods: parsing, windows in the team's timezone, DST, previous periods, buckets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cxbot.periods import (
    PeriodError,
    PeriodSpec,
    Window,
    bucket_unit,
    buckets,
    day_start,
    parse_period,
    previous,
    resolve,
)

IST = ZoneInfo("Europe/Istanbul")
NY = ZoneInfo("America/New_York")
BER = ZoneInfo("Europe/Berlin")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def spec(text: str) -> PeriodSpec:
    s = parse_period(text)
    assert s is not None
    return s


@pytest.mark.parametrize(
    ("text", "kind", "hours", "canonical"),
    [
        ("24h", "rolling", 24, "24h"),
        ("7d", "rolling", 168, "7d"),
        ("30D", "rolling", 720, "30d"),
        ("90d", "rolling", 2160, "90d"),
        ("365d", "rolling", 8760, "365d"),
        ("12h", "rolling", 12, "12h"),
        ("36h", "rolling", 36, "36h"),
        ("48h", "rolling", 48, "2d"),
        ("2w", "rolling", 336, "14d"),
        ("7 days", "rolling", 168, "7d"),
        ("last 7 days", "rolling", 168, "7d"),
        ("past 24 hours", "rolling", 24, "24h"),
        ("last 30d", "rolling", 720, "30d"),
        ("1 week", "rolling", 168, "7d"),
        ("this week", "this_week", 0, "this week"),
        ("Last  Week", "last_week", 0, "last week"),
        ("this month", "this_month", 0, "this month"),
        ("last month", "last_month", 0, "last month"),
        ("today", "today", 0, "today"),
        ("yesterday", "yesterday", 0, "yesterday"),
        ("all", "all", 0, "all time"),
        ("all time", "all", 0, "all time"),
    ],
)
def test_parse_period(text: str, kind: str, hours: int, canonical: str) -> None:
    s = spec(text)
    assert (s.kind, s.hours, s.text) == (kind, hours, canonical)


def test_parse_range() -> None:
    assert parse_period("2026-11-01..2026-11-15") == PeriodSpec(
        "range", "2026-11-01..2026-11-15", first=date(2026, 11, 1), last=date(2026, 11, 15)
    )
    assert parse_period("2026-11-01") == PeriodSpec(
        "range", "2026-11-01", first=date(2026, 11, 1), last=date(2026, 11, 1)
    )


@pytest.mark.parametrize(
    "text", ["refund", "week", "this", "7", "d7", "7x", "last", "", "-7d", "2026-11", "7d7", "nps"]
)
def test_not_a_period(text: str) -> None:
    assert parse_period(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "0d",
        "0h",
        "99999d",
        "2026-11-15..2026-11-01",
        "2026-02-30",
        "2026-13-01..2026-13-02",
        "2000-01-01..2026-01-01",
        "9999-12-31",
        "0001-01-01",
    ],
)
def test_bad_periods_say_why(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text)


def test_rolling_windows_and_previous() -> None:
    now = utc(2026, 11, 20, 10, 30)
    w = resolve(spec("7d"), now, IST)
    assert (w.start, w.end, w.label) == (utc(2026, 11, 13, 10, 30), now, "last 7 days")
    p = previous(spec("7d"), w, IST)
    assert p is not None and (p.start, p.end) == (utc(2026, 11, 6, 10, 30), w.start)
    assert resolve(spec("24h"), now, IST).label == "last 24 hours"


def test_this_week_starts_monday_local_istanbul() -> None:
    now = utc(2026, 11, 20, 10, 0)  # a Friday; Istanbul is UTC+3 all year
    w = resolve(spec("this week"), now, IST)
    assert w.start == utc(2026, 11, 15, 21, 0)  # Monday 16 Nov 00:00 +03
    assert w.end == now
    p = previous(spec("this week"), w, IST)
    assert p is not None and (p.start, p.end) == (utc(2026, 11, 8, 21, 0), utc(2026, 11, 13, 10))


def test_week_boundary_monday_just_after_local_midnight() -> None:
    now = utc(2026, 11, 15, 21, 30)  # Monday 00:30 in Istanbul, still Sunday in UTC
    w = resolve(spec("this week"), now, IST)
    assert w.start == utc(2026, 11, 15, 21, 0)
    last = resolve(spec("last week"), now, IST)
    assert (last.start, last.end) == (utc(2026, 11, 8, 21, 0), utc(2026, 11, 15, 21, 0))


def test_last_week_across_dst_new_york() -> None:
    # DST ended Sunday 1 Nov 2026 in New York: the week from Monday 26 Oct is 169 hours long.
    now = utc(2026, 11, 4, 15, 0)
    w = resolve(spec("last week"), now, NY)
    assert w.start == utc(2026, 10, 26, 4, 0)  # 00:00 EDT
    assert w.end == utc(2026, 11, 2, 5, 0)  # 00:00 EST
    assert w.duration == timedelta(hours=169)
    p = previous(spec("last week"), w, NY)
    assert p is not None and p.duration == timedelta(hours=168)
    assert p.end == w.start


def test_this_week_across_dst_berlin() -> None:
    # DST starts Sunday 29 Mar 2026 in Berlin: the week of Monday 23 Mar is 167 hours long.
    now = utc(2026, 3, 30, 12, 0)
    last = resolve(spec("last week"), now, BER)
    assert last.start == utc(2026, 3, 22, 23, 0)  # 00:00 CET
    assert last.end == utc(2026, 3, 29, 22, 0)  # 00:00 CEST
    assert last.duration == timedelta(hours=167)
    this = resolve(spec("this week"), now, BER)
    p = previous(spec("this week"), this, BER)
    # Same local wall time one week earlier: Monday 00:00 CET to Monday 14:00 CET.
    assert p is not None and (p.start, p.end) == (utc(2026, 3, 22, 23, 0), utc(2026, 3, 23, 13))


def test_months() -> None:
    now = utc(2026, 3, 15, 12, 0)
    this = resolve(spec("this month"), now, BER)
    assert this.start == utc(2026, 2, 28, 23, 0)
    p = previous(spec("this month"), this, BER)
    assert p is not None and p.start == utc(2026, 1, 31, 23, 0)
    assert p.end == utc(2026, 2, 15, 12, 0)  # as far into February as we are into March
    last = resolve(spec("last month"), now, BER)
    assert (last.start, last.end) == (utc(2026, 1, 31, 23, 0), utc(2026, 2, 28, 23, 0))
    p2 = previous(spec("last month"), last, BER)
    assert p2 is not None and (p2.start, p2.end) == (utc(2025, 12, 31, 23), last.start)
    # 31 March: the previous month has no 31st, so the comparison stops at its end.
    end_of_march = resolve(spec("this month"), utc(2026, 3, 31, 20, 0), BER)
    p3 = previous(spec("this month"), end_of_march, BER)
    assert p3 is not None and p3.end == end_of_march.start


def test_january_previous_month_is_december() -> None:
    last = resolve(spec("last month"), utc(2026, 1, 10), IST)
    assert (last.start, last.end) == (utc(2025, 11, 30, 21), utc(2025, 12, 31, 21))


def test_today_yesterday_and_ranges() -> None:
    now = utc(2026, 11, 20, 10, 0)
    assert resolve(spec("today"), now, NY).start == utc(2026, 11, 20, 5, 0)
    y = resolve(spec("yesterday"), now, NY)
    assert (y.start, y.end) == (utc(2026, 11, 19, 5), utc(2026, 11, 20, 5))
    r = resolve(spec("2026-11-01..2026-11-15"), now, NY)
    # 1 Nov 00:00 EDT to 16 Nov 00:00 EST: fifteen local days, one of them 25 hours long.
    assert (r.start, r.end) == (utc(2026, 11, 1, 4), utc(2026, 11, 16, 5))
    p = previous(spec("2026-11-01..2026-11-15"), r, NY)
    assert p is not None and (p.start, p.end) == (utc(2026, 10, 17, 4), utc(2026, 11, 1, 4))


def test_all_time_has_no_previous() -> None:
    w = resolve(spec("all"), utc(2026, 11, 20), IST)
    assert w.start.year == 1970 and previous(spec("all"), w, IST) is None


def test_day_start_is_dst_safe() -> None:
    assert day_start(date(2026, 3, 8), NY) == utc(2026, 3, 8, 5)  # still EST at midnight
    assert day_start(date(2026, 3, 9), NY) == utc(2026, 3, 9, 4)  # EDT
    # Santiago skips 00:00-01:00 at the start of DST: the day starts at the jump.
    scl = ZoneInfo("America/Santiago")
    start = day_start(date(2026, 9, 6), scl)
    assert start.astimezone(scl).date() == date(2026, 9, 6)
    assert (start - timedelta(seconds=1)).astimezone(scl).date() == date(2026, 9, 5)


def test_daily_buckets_follow_local_days_across_dst() -> None:
    w = Window(day_start(date(2026, 3, 6), NY), day_start(date(2026, 3, 11), NY), "")
    days = buckets(w, NY)
    assert [b.duration for b in days] == [timedelta(hours=h) for h in (24, 24, 23, 24, 24)]
    assert all(b.start.astimezone(NY).hour == 0 for b in days)
    assert days[0].start == w.start and days[-1].end == w.end


def test_bucket_sizes() -> None:
    now = utc(2026, 11, 20, 10, 30)
    assert bucket_unit(resolve(spec("24h"), now, IST)) == "hour"
    assert len(buckets(resolve(spec("24h"), now, IST), IST)) == 25  # partial hours at both ends
    assert bucket_unit(resolve(spec("7d"), now, IST)) == "day"
    assert len(buckets(resolve(spec("7d"), now, IST), IST)) == 8
    w90 = resolve(spec("90d"), now, IST)
    assert bucket_unit(w90) == "week"
    weekly = buckets(w90, IST)
    assert all(b.start.astimezone(IST).weekday() == 0 for b in weekly[1:])
    w365 = resolve(spec("365d"), now, IST)
    monthly = buckets(w365, IST)
    assert bucket_unit(w365) == "month" and len(monthly) == 13
    assert all(b.start.astimezone(IST).day == 1 for b in monthly[1:])
    # Buckets tile the window exactly.
    for b in (weekly, monthly):
        assert all(x.end == y.start for x, y in zip(b, b[1:], strict=False))
    assert buckets(Window(now, now, ""), IST) == []

"""The weekly digest's pure core and its queries, with a fixed clock and hand-computed figures.

The data set (Europe/Istanbul, UTC+3 all year): week 2026-W47 is Mon 16 Nov 00:00 local
(15 Nov 21:00 UTC) to Mon 23 Nov 00:00 local (22 Nov 21:00 UTC); W46 is the week before.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from pydantic import ValidationError
from sqlite_utils import Database

from cxbot.digest.build import (
    DigestData,
    Scope,
    WeekError,
    build_digest,
    digest_window,
    last_complete_week,
    latest_occurrence,
    occurrence,
    week_bounds,
    week_of,
)
from cxbot.digest.chart import chart_name, chart_png
from cxbot.digest.config import DigestConfig, parse_schedule
from cxbot.digest.queries import collect, digest_preview
from cxbot.digest.render import duration, quoted, render, render_plain, scrub
from cxbot.metrics import Counts
from cxbot.slack.blocks import REDACTED, console_text
from cxbot.store.rollup import set_rollup_timezone
from cxbot.store.writer import connect, migrate
from tests.kit.digest_data import add, fill, utc
from tests.kit.fakeslack import validate_message
from tests.kit.postgres import Engine

IST = ZoneInfo("Europe/Istanbul")
NY = ZoneInfo("America/New_York")
MONDAY_9 = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Mon 23 Nov 09:00 in Istanbul


# --- weeks ---------------------------------------------------------------------------------------


def test_week_bounds_in_istanbul_are_local_midnights() -> None:
    assert week_bounds("2026-W47", IST) == (utc(2026, 11, 15, 21), utc(2026, 11, 22, 21))
    assert week_bounds("2026-w01", IST) == (utc(2025, 12, 28, 21), utc(2026, 1, 4, 21))


@pytest.mark.parametrize(
    ("week", "start", "end", "hours"),
    [
        # DST starts Sun 8 Mar 2026, the last day of ISO week 10: a 167-hour week.
        ("2026-W10", utc(2026, 3, 2, 5), utc(2026, 3, 9, 4), 167),
        ("2026-W11", utc(2026, 3, 9, 4), utc(2026, 3, 16, 4), 168),
        # DST ends Sun 1 Nov 2026, the last day of ISO week 44: a 169-hour week.
        ("2026-W44", utc(2026, 10, 26, 4), utc(2026, 11, 2, 5), 169),
        ("2026-W45", utc(2026, 11, 2, 5), utc(2026, 11, 9, 5), 168),
    ],
)
def test_week_bounds_across_dst_in_new_york(
    week: str, start: datetime, end: datetime, hours: int
) -> None:
    assert week_bounds(week, NY) == (start, end)
    assert (end - start) == timedelta(hours=hours)


def test_bad_weeks_say_what_to_write() -> None:
    with pytest.raises(WeekError, match="YYYY-Www"):
        week_bounds("2026-47", IST)
    with pytest.raises(WeekError, match="2027 has no ISO week 53"):
        week_bounds("2027-W53", IST)
    assert week_bounds("2026-W53", IST)[0] == utc(2026, 12, 27, 21)  # 2026 has 53 weeks
    with pytest.raises(WeekError, match="not started"):
        digest_window("2026-W49", IST, MONDAY_9)


def test_the_week_of_now_and_the_last_complete_one_are_local() -> None:
    sunday_late = utc(2026, 11, 22, 21, 30)  # Sunday in UTC, Monday 00:30 in Istanbul
    assert (week_of(sunday_late, IST), last_complete_week(sunday_late, IST)) == (
        "2026-W48",
        "2026-W47",
    )
    assert (week_of(sunday_late, ZoneInfo("UTC")), week_of(MONDAY_9, IST)) == (
        "2026-W47",
        "2026-W48",
    )


def test_schedule_occurrences_and_the_latest_due() -> None:
    monday = parse_schedule("Monday 9:00")
    assert monday.text == "mon 09:00"
    assert occurrence("2026-W47", monday, IST) == MONDAY_9
    assert latest_occurrence(MONDAY_9, monday, IST) == ("2026-W47", MONDAY_9)
    one_minute_early = MONDAY_9 - timedelta(minutes=1)
    assert latest_occurrence(one_minute_early, monday, IST) == ("2026-W46", utc(2026, 11, 16, 6))
    # New York: the same 09:00 local is 14:00 UTC in winter and 13:00 UTC in summer.
    assert occurrence("2026-W44", monday, NY) == utc(2026, 11, 2, 14)
    assert occurrence("2026-W10", monday, NY) == utc(2026, 3, 9, 13)
    friday = parse_schedule("fri 17:30")  # a late-week send still reports the last full week
    assert latest_occurrence(utc(2026, 11, 26, 12), friday, IST) == (
        "2026-W46",
        utc(2026, 11, 20, 14, 30),
    )


@pytest.mark.parametrize("week", ["2026-W09", "2026-W10", "2026-W43", "2026-W44"])
def test_apscheduler_fires_when_we_say_the_digest_is_due(week: str) -> None:
    s = parse_schedule("mon 09:00")
    trigger = CronTrigger(day_of_week="mon", hour=s.hour, minute=s.minute, timezone=NY)
    start, _ = week_bounds(week, NY)
    assert trigger.get_next_fire_time(None, start + timedelta(days=1)) == occurrence(week, s, NY)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("daily 09:00", "digests are weekly"),
        ("mon 9am", "is not a schedule"),
        ("mnday 09:00", "is not a weekday"),
        ("mon 25:00", "is not a time of day"),
    ],
)
def test_bad_schedules_are_config_errors(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DigestConfig(schedule=text)


def test_filters_must_name_a_digest_channel() -> None:
    with pytest.raises(ValidationError, match="'#apps' is not in digest.channels"):
        DigestConfig(channels=["#cx-weekly"], filters=[{"channel": "#apps", "kinds": ["review"]}])
    with pytest.raises(ValidationError, match="leave the key out"):
        DigestConfig(channels=["#a"], filters=[{"channel": "#a", "sources": []}])
    config = DigestConfig(
        channels=["#cx-weekly", "#apps"], filters=[{"channel": "#apps", "sources": ["appstore"]}]
    )
    assert Scope.of(config.filter_for("apps")) == Scope(("appstore",), None, None)
    assert config.filter_for("#cx-weekly") is None


# --- a small data set with hand-computed figures (tests/digest_data.py) --------------------------


@pytest.fixture
def db(engine: Engine) -> Iterator[Database]:
    database = engine.connect()
    migrate(database)
    fill(database)
    yield database
    database.conn.close()


def digest_for(db: Database, scope: Scope | None = None, week: str = "2026-W47") -> Any:
    window = digest_window(week, IST, MONDAY_9)
    return build_digest(collect(db, window, scope or Scope(), MONDAY_9))


@pytest.mark.parametrize("rollup_zone", ["UTC", "Europe/Istanbul"])
def test_hand_computed_figures(db: Database, rollup_zone: str) -> None:
    set_rollup_timezone(db, ZoneInfo(rollup_zone))  # exact either way (raw edges when UTC)
    d = digest_for(db)
    c = d.changes
    assert (c["volume"].n, c["volume"].n_before) == (26, 20)
    assert (c["nps"].current, c["nps"].before, c["nps"].n, c["nps"].n_before) == pytest.approx(
        (100 * 2 / 12, 60.0, 12, 10)
    )
    assert (c["csat"].current, c["csat"].before) == pytest.approx((60.0, 75.0))
    assert (c["ces"].current, c["ces"].before, c["ces"].n) == pytest.approx((5.0, 6.0, 3))
    assert (c["rating"].current, c["rating"].before) == pytest.approx((3.0, 4.0))
    # Negative share: 2 reviews + 2 tickets of 26 this week; 1 review of 20 the week before.
    assert (c["negative"].current, c["negative"].before) == pytest.approx((100 * 4 / 26, 5.0))
    assert d.data.current.sentiment_sum == pytest.approx(0.6 + 0.4 - 0.5 - 0.8 - 0.7 - 0.3)
    assert d.headline == "NPS fell 43 points to 17 (n=12)."
    groups = {(g.source, g.kind): (g.current.n, g.before.n) for g in d.data.groups}
    assert groups == {
        ("appstore", "review"): (4, 3),
        ("typeform", "survey"): (20, 16),
        ("zendesk", "ticket"): (2, 1),
    }
    assert [(t.topic, t.current, t.before, t.negative) for t in d.rising] == [("billing", 6, 1, 2)]
    # Worst first: the 1-star review (-1.0), the -0.7 ticket, the 2-star review (-0.5).
    assert [r.sentiment for r in d.data.negative] == [-0.8, -0.7, -0.5]
    loop = d.data.loop
    assert (loop.raised, loop.acknowledged, loop.resolved) == (3, 2, 1)
    assert loop.median_ack_seconds == 3600  # median of 30 and 90 minutes
    assert len(d.data.daily) == 28 and d.data.daily[-1][0] == date(2026, 11, 22)
    assert sum(c.n for _, c in d.data.daily[-7:]) == 26


def test_rendered_digest_reads_and_fits_slack(db: Database) -> None:
    d = digest_for(db)
    text = render_plain(d)
    for line in (
        "Weekly CX digest · 2026-W47",
        "NPS fell 43 points to 17 (n=12).",
        "Mon 16 Nov – Sun 22 Nov 2026 (Europe/Istanbul)",
        "Volume  26 signals  ·  +30% vs last week (20)",
        "NPS  +17 (n=12)  ·  -43 pts vs last week (+60, n=10)",
        "CSAT  60% (n=5)  ·  -15 pts vs last week (75%, n=4)",
        "CES  5.00/7 (n=3)  ·  -1.00 vs last week (6.00/7, n=2)",
        "Rating  3.00★ (n=4)  ·  -1.00 vs last week (4.00★, n=3)",
        "By kind: survey 20 (+25%) · review 4 (+33%) · ticket 2 (+100%)",
        "1. billing 6 mentions, +5 (+500%) · 33% negative",
        "Alerts raised 3 · acknowledged 2 (67%) · resolved 1 · median time to acknowledge 1 h 0 min",
    ):
        assert line in text, line
    assert "Login loops <!channel> *now*" in text  # the terminal shows the words as written
    assert "open (https://apps.example/r/4)" in text
    message = render(d)
    assert validate_message(message) == []
    blocks = json.dumps(message["blocks"])
    assert "<!channel>" not in blocks and "&lt;!channel&gt;" in blocks
    assert "*now*" not in blocks  # user text cannot format
    assert "<https://apps.example/r/4|open>" in blocks
    assert message["blocks"][0]["type"] == "header"
    assert "<!channel>" not in message["text"]  # the fallback is parsed by Slack too


def test_the_closed_loop_line_shows_replies_to_customers(db: Database) -> None:
    d = digest_for(db)
    assert "replied to the customer" not in render_plain(d)  # none sent: nothing said
    loop = dataclasses.replace(d.data.loop, replied=2, median_reply_seconds=1800)
    replied = dataclasses.replace(d, data=dataclasses.replace(d.data, loop=loop))
    assert (
        "resolved 1 · median time to acknowledge 1 h 0 min · replied to the customer 2 (67%)"
        " · median time to first reply 30 min"
    ) in render_plain(replied)


def test_a_source_with_no_surveys(db: Database) -> None:
    d = digest_for(db, Scope(("appstore",), None, "App reviews"))
    text = render_plain(d)
    assert "Weekly CX digest · 2026-W47 · App reviews" in text
    assert "No data for NPS, CSAT, CES in either week." in text
    assert "NPS " not in text.replace("No data for NPS", "")
    assert (d.changes["rating"].n, d.changes["volume"].n) == (4, 4)
    # +33% is past the volume threshold but on 4 signals: the headline says it cannot call it.
    assert d.headline == "4 signals (+33% on the week before): too few to call any change."
    assert d.data.loop.raised == 2  # the ticket's alert is not the app channel's
    assert [r.source for r in d.data.negative] == ["appstore", "appstore"]


def test_the_console_shows_a_sent_digest_as_print_does(db: Database) -> None:
    # The console sink prints the message's blocks: paragraphs and all, like `digest --print`.
    for scope in (Scope(), Scope(("appstore",), None, "App reviews")):
        d = digest_for(db, scope)
        assert "\n\n" in render_plain(d)
        assert console_text(render(d)) == render_plain(d)


def test_kinds_filter(db: Database) -> None:
    d = digest_for(db, Scope(None, ("ticket",)))
    assert (d.data.current.n, d.data.before.n) == (2, 1)
    assert "kinds: ticket" in render_plain(d)


def test_an_empty_week(db: Database) -> None:
    now = utc(2026, 12, 8, 6)
    d = build_digest(collect(db, digest_window("2026-W49", IST, now), Scope(), now))
    assert d.headline == "No signals this week (1 in the week before)."  # W48's one mention
    nothing = build_digest(collect(db, digest_window("2026-W40", IST, now), Scope(), now))
    assert nothing.headline == "No signals this week."
    text = render_plain(nothing)
    assert "No alerts were raised." in text and "Key figures" not in text
    assert validate_message(render(nothing)) == []
    assert chart_png(nothing) is None  # nothing to draw


def test_the_running_week_is_compared_with_the_same_days(db: Database) -> None:
    wednesday = utc(2026, 11, 18, 9)  # Wed 18 Nov 12:00 Istanbul
    window = digest_window("2026-W47", IST, wednesday)
    assert not window.complete
    assert window.prev_end == utc(2026, 11, 11, 9) and window.end == wednesday
    assert "week so far" in render_plain(build_digest(collect(db, window, Scope(), wednesday)))


def test_a_dst_week_in_new_york(tmp_path: Path) -> None:
    database = connect(tmp_path / "ny.db")
    migrate(database)
    set_rollup_timezone(database, NY)
    add(database, utc(2026, 10, 26, 3, 59))  # Sun 25 Oct 23:59 EDT: week 43
    add(database, utc(2026, 10, 26, 4, 15))  # Mon 26 Oct 00:15 EDT: week 44
    add(database, utc(2026, 11, 2, 4, 30))  # Sun 1 Nov 23:30 EST (after the change): week 44
    add(database, utc(2026, 11, 2, 5, 0))  # Mon 2 Nov 00:00 EST: week 45
    now = utc(2026, 11, 2, 14)
    d = build_digest(collect(database, digest_window("2026-W44", NY, now), Scope(), now))
    assert (d.data.current.n, d.data.before.n) == (2, 1)
    assert [(day, c.n) for day, c in d.data.daily[-7:] if c.n] == [
        (date(2026, 10, 26), 1),
        (date(2026, 11, 1), 1),
    ]
    database.conn.close()


def test_headline_prefers_the_biggest_change_past_its_threshold() -> None:
    window = digest_window("2026-W47", IST, MONDAY_9)
    big = Counts(n=100, promoters=30, passives=40, detractors=30, negative=20)
    small = Counts(n=60, promoters=30, passives=40, detractors=30, negative=12)
    d = build_digest(DigestData(window, Scope(), big, small))
    assert d.headline == "Volume rose 67% to 100 signals (60 in the week before)."
    first = build_digest(DigestData(window, Scope(), big, Counts()))
    assert first.headline == "100 signals; none in the week before to compare with."
    steady = build_digest(DigestData(window, Scope(), big, Counts(n=95, negative=19)))
    assert steady.headline == "No big changes: 100 signals (+5% on the week before)."
    few = build_digest(DigestData(window, Scope(), Counts(n=14), Counts(n=9)))
    assert few.headline == "14 signals (+56% on the week before): too few to call any change."


def test_chart_is_a_png_and_the_digest_does_without_matplotlib(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = digest_for(db)
    assert chart_name(d, "#App Reviews") == (
        "cx-digest-2026-W47-app-reviews.png",
        "Daily volume and sentiment, 26 Oct – 22 Nov 2026",
    )
    pytest.importorskip("matplotlib")
    png = chart_png(d)
    assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n")

    import cxbot.digest.chart as chart

    def missing(name: str) -> None:
        raise ImportError(name)

    monkeypatch.setattr(chart.importlib, "import_module", missing)
    assert chart.chart_png(d) is None


def test_preview_uses_the_channel_filter(db: Database) -> None:
    config = DigestConfig(
        channels=["#cx-weekly", "#apps"], filters=[{"channel": "#apps", "sources": ["appstore"]}]
    )
    everything = digest_preview(db, MONDAY_9 + timedelta(days=2), IST, config)
    apps = digest_preview(db, MONDAY_9, IST, config, channel="apps")
    assert "2026-W47" in everything.plain and "26 signals" in everything.plain
    assert "sources: appstore" in apps.plain and "4 signals" in apps.plain
    assert not apps.public and apps.blocks is not None
    running = digest_preview(db, MONDAY_9, IST, config, week="2026-W48")
    assert "week so far" in running.plain


def test_durations() -> None:
    assert [duration(s) for s in (42, 600, 3600, 5400, 90000)] == [
        "42 s",
        "10 min",
        "1 h 0 min",
        "1 h 30 min",
        "1 d 1 h",
    ]


def test_digest_rows_are_written_once_and_follow_the_outbox(db: Database) -> None:
    from cxbot.digest.records import enqueue_digest, record_skipped

    message = {"message": {"text": "t", "blocks": None}, "chart": None}
    assert enqueue_digest(db, "2026-W47", "#cx-weekly", message, "t", MONDAY_9)
    assert not enqueue_digest(db, "2026-W47", "#cx-weekly", message, "t", MONDAY_9)
    assert not record_skipped(db, "2026-W47", "#cx-weekly", MONDAY_9)
    [(oid, key)] = db.execute("SELECT id, dedup_key FROM outbox WHERE kind = 'digest'").fetchall()
    assert key == "digest:2026-W47:#cx-weekly"
    status = "SELECT status, sent_at FROM digests WHERE period = '2026-W47'"
    assert db.execute(status).fetchall() == [("queued", None)]
    db.execute("UPDATE outbox SET status = 'sending' WHERE id = ?", [oid])
    assert db.execute(status).fetchall() == [("queued", None)]  # not final: nothing copied
    db.execute("UPDATE outbox SET status = 'sent', sent_at = 'T' WHERE id = ?", [oid])
    assert db.execute(status).fetchall() == [("sent", "T")]  # the m004 trigger copied it


def test_scrub_replaces_only_the_erased_quotes_everywhere(db: Database) -> None:
    """An erasure's edit of a digest: the erased signal's line goes from the blocks, the
    fallback text and the plain text (mrkdwn escapes and all); others stay."""
    d = digest_for(db)
    quotes = quoted(d)
    assert [q["n"] for q in quotes] == list(range(1, len(quotes) + 1)) and len(quotes) >= 2
    message, plain = render(d), render_plain(d)
    gone, kept = quotes[0], quotes[1]
    assert all(line in plain or line in json.dumps(message, ensure_ascii=False)
               for line in gone["lines"])  # fmt: skip
    new_message, new_plain, left = scrub(message, plain, quotes, {gone["id"]})
    assert left == quotes[1:]
    blob = json.dumps(new_message, ensure_ascii=False)
    for line in gone["lines"]:
        assert line not in blob and line not in new_plain
    assert f"1. {REDACTED}" in new_plain and f"1. {REDACTED}" in new_message["text"]
    assert kept["lines"][0] in blob and kept["lines"][2] in new_plain
    assert scrub(new_message, new_plain, left, {gone["id"]}) == (new_message, new_plain, left)

"""The closed-loop reply figures, pure, and how the digest and `/cx summary` show them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from cxbot.cx.answers import render_summary
from cxbot.cx.queries import Stats
from cxbot.metrics import Counts
from cxbot.models import Filters
from cxbot.periods import Window
from cxbot.replies.figures import ReplyFigures, reply_figures

AS_OF = datetime(2026, 12, 7, tzinfo=UTC)


def test_share_and_median_wait_count_replies_sent_by_the_cut_off() -> None:
    rows = [
        ("2026-12-01T10:00:00.000000Z", "2026-12-01T10:30:00.000000Z"),  # 30 min
        ("2026-12-02T10:00:00.000000Z", "2026-12-02T12:00:00.000000Z"),  # 2 h
        ("2026-12-03T10:00:00.000000Z", "2026-12-03T11:00:00.000000Z"),  # 1 h
        ("2026-12-04T10:00:00.000000Z", None),  # not replied
        ("2026-12-05T10:00:00.000000Z", "2026-12-08T10:00:00.000000Z"),  # after the cut-off
    ]
    figures = reply_figures(rows, AS_OF)
    assert figures == ReplyFigures(alerted=5, replied=3, median_seconds=3600.0)
    assert figures.share == 0.6
    assert reply_figures([], AS_OF) == ReplyFigures() and ReplyFigures().share is None


def test_summary_shows_the_replied_line() -> None:
    window = Window(datetime(2026, 12, 1, tzinfo=UTC), AS_OF, "last 7 days")
    stats = Stats(window, None, Counts(n=4), None)
    answer = render_summary(stats, Filters(), ZoneInfo("UTC"),
                            replies=ReplyFigures(4, 3, 5400.0))  # fmt: skip
    assert "Replied 3 of 4 alerted (75%) · median time to first reply 1 h 30 min" in answer.text
    plain = render_summary(stats, Filters(), ZoneInfo("UTC"), replies=ReplyFigures())
    assert "Replied" not in plain.text

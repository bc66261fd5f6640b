"""The pure parts: SVG charts on plain data, spikes, the closed-loop figures, CSV, the page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from cxbot.dashboard import charts, page
from cxbot.dashboard.data import closed_loop, spikes, tile
from cxbot.dashboard.listcsv import csv_text
from cxbot.metrics import Counts


def test_sparkline_draws_a_line_through_present_values_and_breaks_at_gaps() -> None:
    assert charts.sparkline([]) == "" and charts.sparkline([1.0]) == ""
    assert charts.sparkline([None, None]) == ""
    svg = charts.sparkline([0.0, 10.0, None, 5.0, 5.0], width=100, height=20)
    assert svg.count("<polyline") == 2
    assert 'points="0,18 25,2"' in svg and 'points="75,10 100,10"' in svg


def test_stacked_bars_stack_the_labels_and_mark_spikes() -> None:
    buckets = [
        {"label": "Mon 01", "n": 10, "negative": 2, "neutral": 3, "positive": 5, "unscored": 0,
         "spike": False},
        {"label": "Tue <02>", "n": 20, "negative": 20, "neutral": 0, "positive": 0,
         "unscored": 0, "spike": True},
    ]  # fmt: skip
    svg = charts.stacked_bars(buckets, width=200, height=114)
    assert svg.count("<rect") == 4  # three labels in the first bar, one in the second
    assert svg.count('class="spike"') == 1
    assert "Tue &lt;02&gt;" in svg and "<02>" not in svg
    assert charts.stacked_bars([]) == ""


def test_trend_greys_small_buckets_off_the_line() -> None:
    points = [
        {"label": "a", "value": 50.0, "n": 12, "grey": False},
        {"label": "b", "value": -80.0, "n": 3, "grey": True},
        {"label": "c", "value": 10.0, "n": 30, "grey": False},
        {"label": "d", "value": None, "n": 0, "grey": True},
    ]
    svg = charts.trend_line(points, -100, 100, width=400, height=100)
    assert svg.count('class="grey"') == 1
    [line] = re.findall(r'<polyline points="([^"]+)"', svg)
    assert line == "50,25 250,45"  # the grey bucket is not on the line
    assert "fewer than 10 answers" in svg


def test_spikes_and_tiles() -> None:
    assert spikes([]) == []
    assert spikes([1, 2, 1, 9, 2]) == [False, False, False, True, False]
    assert spikes([3, 3, 3]) == [False, False, False]  # below the minimum
    cur = Counts(n=10, promoters=3, passives=1, detractors=1, negative=4, neutral=6)
    prev = Counts(n=8, promoters=1, passives=1, detractors=2, negative=2, neutral=6)
    assert tile("nps", cur, prev, [cur, prev])["shown"] == "+40"
    assert tile("nps", cur, prev, [])["change"] == "+65 pts"
    assert tile("volume", cur, prev, [])["change"] == "+25%"
    negative = tile("negative", cur, prev, [])
    assert (negative["shown"], negative["change"]) == ("40%", "+15 pts")
    assert tile("csat", cur, None, [])["shown"] == "no data"


def test_closed_loop_figures() -> None:
    alerted = [
        ("acknowledged", "U1", "2026-12-01T09:00:00Z", "2026-12-01T09:10:00Z"),
        ("resolved", "U2", "2026-12-01T09:00:00Z", "2026-12-01T09:30:00Z"),
        ("new", None, "2026-12-01T10:00:00Z", None),
        ("resolved", None, "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"),
    ]
    loop = closed_loop(alerted, [(None, 2), ("U1", 1)])
    assert loop["alerts"] == 4 and loop["acknowledged"] == 3 and loop["resolved"] == 2
    assert loop["acknowledged_share"] == 75.0 and loop["resolved_share"] == 50.0
    assert loop["median_ack_s"] == 1800.0
    assert loop["open_by_assignee"] == [{"assignee": None, "n": 2}, {"assignee": "U1", "n": 1}]
    assert closed_loop([], [])["acknowledged_share"] is None


def test_csv_defuses_formulas() -> None:
    text = csv_text([{"id": 1, "title": "=HYPERLINK(1)", "text": "fine", "rating": None}])
    assert text.splitlines()[1].startswith("1,,,,,,,,,,,'=HYPERLINK(1),fine,")


def test_the_attention_feed_shows_the_sla_column_only_when_slas_exist() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC).isoformat()
    signal = {"id": 7, "source": "web", "title": "<b>bad</b>", "text": None, "url": "javascript:x"}
    item = {"alert_id": 1, "signal": signal, "status": "new", "assignee": None,
            "alerted_at": now, "age_s": 7200, "slack": "https://slack.com/archives/C1/p1", "sla": None}  # fmt: skip
    html = page._attention({"attention": [item]})
    assert "SLA" not in html and "2 h" in html and "&lt;b&gt;bad" in html
    assert "javascript:" not in html  # only http(s) originals are linked
    html = page._attention({"attention": [{**item, "sla": "1 h left"}]})
    assert "SLA left" in html and "1 h left" in html

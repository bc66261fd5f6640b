"""Metrics against values computed by hand from the standard definitions."""

from __future__ import annotations

import pytest

from cxbot.metrics import (
    METRICS,
    Counts,
    Mix,
    avg_rating,
    ces,
    csat,
    csat_from_counts,
    delta,
    format_change,
    is_rising,
    mix_from_counts,
    nps,
    nps_from_counts,
    pct_change,
    sentiment_mix,
    sparkline,
    total,
)


def test_nps_hand_computed() -> None:
    # 3 promoters (10, 10, 9), 1 passive (7), 1 detractor (3): (3 - 1) / 5 = +40
    assert nps([10, 10, 9, 7, 3]) == 40.0
    # 2 promoters, 2 passives (8, 7), 2 detractors (6, 0): 0
    assert nps([10, 9, 8, 7, 6, 0]) == 0.0
    assert nps([0, 1, 2]) == -100.0
    assert nps([9]) == 100.0
    assert nps([]) is None


def test_nps_boundaries() -> None:
    assert nps([6]) == -100.0  # 6 is a detractor
    assert nps([7]) == 0.0 and nps([8]) == 0.0  # passives
    assert nps([9]) == 100.0


def test_nps_from_counts_matches_values() -> None:
    assert nps_from_counts(3, 1, 1) == 40.0
    assert nps_from_counts(0, 0, 0) is None
    assert nps_from_counts(1, 2, 1) == 0.0
    assert nps_from_counts(2, 1, 1) == pytest.approx(25.0)


def test_csat_is_share_of_4_and_5() -> None:
    assert csat([5, 4, 3, 1]) == 50.0
    assert csat([5, 5, 5]) == 100.0
    assert csat([3, 2, 1]) == 0.0
    assert csat([]) is None
    assert csat_from_counts(7, 8) == 87.5


def test_ces_and_rating_are_means() -> None:
    assert ces([1, 7, 4]) == 4.0
    assert ces([6, 7]) == 6.5
    assert ces([]) is None
    assert avg_rating([5, 4, 1]) == pytest.approx(10 / 3)
    assert avg_rating([]) is None


def test_sentiment_mix() -> None:
    assert sentiment_mix(["negative", "positive", "positive", None]) == Mix(25, 0, 50, 25, 4)
    assert sentiment_mix([]) is None
    assert mix_from_counts(1, 1, 1, 1) == Mix(25, 25, 25, 25, 4)


def test_counts_add_and_subtract() -> None:
    a = Counts(n=3, promoters=2, detractors=1, rating_sum=9, rating_n=2)
    b = Counts(n=1, promoters=1)
    assert a + b == Counts(n=4, promoters=3, detractors=1, rating_sum=9, rating_n=2)
    assert (a + b) - b == a
    assert total([a, b, Counts()]) == a + b
    assert Counts.of([1] + [None] * 15) == Counts(n=1)


def test_registry_reads_counts() -> None:
    c = Counts(
        n=10,
        promoters=3,
        passives=1,
        detractors=1,
        csat_n=4,
        csat_good=2,
        ces_n=2,
        ces_sum=11,
        rating_n=3,
        rating_sum=12,
        sentiment_n=4,
        sentiment_sum=-1.0,
    )
    assert METRICS["nps"].value(c) == 40.0 and METRICS["nps"].sample(c) == 5
    assert METRICS["csat"].value(c) == 50.0 and METRICS["csat"].sample(c) == 4
    assert METRICS["ces"].value(c) == 5.5
    assert METRICS["rating"].value(c) == 4.0
    assert METRICS["sentiment"].value(c) == -0.25
    assert METRICS["volume"].value(c) == 10.0
    assert METRICS["nps"].value(Counts()) is None


def test_changes() -> None:
    assert delta(40, 32) == 8 and delta(None, 3) is None and delta(3, None) is None
    assert pct_change(120, 100) == 20.0
    assert pct_change(5, 0) is None and pct_change(None, 4) is None
    assert format_change(METRICS["nps"], 40, 32) == "+8 pts"
    assert format_change(METRICS["volume"], 90, 100) == "-10%"
    assert format_change(METRICS["ces"], 5.5, 5.25) == "+0.25"
    assert format_change(METRICS["csat"], None, 50) == "n/a"


def test_sparkline() -> None:
    assert sparkline([1, 2, 3, 4, 5, 6, 7, 8]) == "▁▂▃▄▅▆▇█"
    assert sparkline([0, 10]) == "▁█"
    assert sparkline([3, 3, 3]) == "▅▅▅"  # flat: the middle bar
    assert sparkline([1, None, 8]) == "▁ █"
    assert sparkline([None, None]) == "  "
    assert sparkline([]) == ""
    assert sparkline([-100, 0, 100]) == "▁▅█"


def test_rising() -> None:
    assert is_rising(6, 4)  # 1.5x and at least 5
    assert not is_rising(5, 4)
    assert is_rising(5, 0)
    assert not is_rising(4, 0)  # too few to call


def test_signed_never_says_minus_zero() -> None:
    from cxbot.metrics import signed

    assert signed(3.4) == "+3" and signed(-1.26, 2) == "-1.26"
    assert signed(-0.3) == "±0" and signed(0.004, 2) == "±0.00" and signed(0) == "±0"

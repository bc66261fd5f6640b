"""The experience metrics, defined once: pure functions over plain values or aggregated counts.

Standard definitions (docs/commands.md):
- NPS: % promoters (9-10) minus % detractors (0-6) over 0-10 answers, from -100 to +100.
- CSAT: % of answers that are 4 or 5 on a 1-5 scale.
- CES: the mean answer on the 1-7 scale (CES 2.0: 7 = "strongly agree it was easy"; higher is
  better).
- Rating: mean stars, 1-5. Sentiment: mean text sentiment (-1..1) and the mix of final labels.

Every metric is computable from additive counts (`Counts`), so the daily rollup (cxbot/store/rollup.py) and a
raw scan of signals feed the same functions; the rollup's SQL takes its thresholds from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

PROMOTER_MIN = 9  # NPS 9-10
PASSIVE_MIN = 7  # NPS 7-8; below is a detractor (0-6)
CSAT_GOOD_MIN = 4  # CSAT 4-5 are satisfied
LABELS: tuple[str, ...] = ("negative", "neutral", "positive", "unscored")


@dataclass(frozen=True)
class Counts:
    """Additive sums over a set of signals; field names are the rollup table's columns."""

    n: int = 0
    rating_n: int = 0
    rating_sum: float = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    csat_n: int = 0
    csat_good: int = 0
    ces_n: int = 0
    ces_sum: float = 0
    negative: int = 0
    neutral: int = 0
    positive: int = 0
    unscored: int = 0  # includes signals not analysed yet (sentiment_label NULL)
    sentiment_n: int = 0
    sentiment_sum: float = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(**{f: getattr(self, f) + getattr(other, f) for f in COUNT_FIELDS})

    def __sub__(self, other: Counts) -> Counts:
        return Counts(**{f: getattr(self, f) - getattr(other, f) for f in COUNT_FIELDS})

    @classmethod
    def of(cls, values: Sequence[Any]) -> Counts:
        """From a row of the rollup's columns in `COUNT_FIELDS` order (NULL sums are 0)."""
        return cls(**{f: v or 0 for f, v in zip(COUNT_FIELDS, values, strict=True)})


COUNT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Counts))


def total(counts: Iterable[Counts]) -> Counts:
    result = Counts()
    for c in counts:
        result = result + c
    return result


# --- from plain values -------------------------------------------------------------------------


def nps(scores: Iterable[float]) -> float | None:
    values = list(scores)
    promoters = sum(1 for s in values if s >= PROMOTER_MIN)
    detractors = sum(1 for s in values if s < PASSIVE_MIN)
    return nps_from_counts(promoters, len(values) - promoters - detractors, detractors)


def csat(scores: Iterable[float]) -> float | None:
    values = list(scores)
    return csat_from_counts(sum(1 for s in values if s >= CSAT_GOOD_MIN), len(values))


def ces(scores: Iterable[float]) -> float | None:
    values = list(scores)
    return mean_from_counts(sum(values), len(values))


def avg_rating(ratings: Iterable[float]) -> float | None:
    values = list(ratings)
    return mean_from_counts(sum(values), len(values))


@dataclass(frozen=True)
class Mix:
    """Sentiment label shares in percent (of all signals, unscored included)."""

    negative: float
    neutral: float
    positive: float
    unscored: float
    n: int


def sentiment_mix(labels: Iterable[str | None]) -> Mix | None:
    values = [label if label in LABELS else "unscored" for label in labels]
    return mix_from_counts(*(values.count(label) for label in LABELS))


# --- from counts (what the rollup gives) -------------------------------------------------------


def nps_from_counts(promoters: int, passives: int, detractors: int) -> float | None:
    n = promoters + passives + detractors
    return None if n <= 0 else 100.0 * (promoters - detractors) / n


def csat_from_counts(good: int, n: int) -> float | None:
    return None if n <= 0 else 100.0 * good / n


def mean_from_counts(total_: float, n: int) -> float | None:
    return None if n <= 0 else total_ / n


def mix_from_counts(negative: int, neutral: int, positive: int, unscored: int) -> Mix | None:
    n = negative + neutral + positive + unscored
    if n <= 0:
        return None
    return Mix(
        100.0 * negative / n, 100.0 * neutral / n, 100.0 * positive / n, 100.0 * unscored / n, n
    )


# --- the metric registry: what `/cx nps|csat|...` and summaries show ----------------------------

Direction = Literal["higher", "lower"]


@dataclass(frozen=True)
class Metric:
    name: str
    title: str
    value: Callable[[Counts], float | None]
    sample: Callable[[Counts], int]
    fmt: Callable[[float], str]
    delta_unit: str  # how a change is written: "pts" (percentage points) or "" (plain)


def signed(x: float, digits: int = 0) -> str:
    """+3, -1.25, and ±0 for anything that rounds to zero (never "-0")."""
    text = f"{x:+.{digits}f}"
    return "±" + text[1:] if float(text) == 0 else text


def _signed(x: float) -> str:
    return signed(x)


METRICS: dict[str, Metric] = {
    "volume": Metric(
        "volume", "Volume", lambda c: float(c.n), lambda c: c.n, lambda x: f"{x:,.0f}", "%"
    ),
    "nps": Metric(
        "nps",
        "NPS",
        lambda c: nps_from_counts(c.promoters, c.passives, c.detractors),
        lambda c: c.promoters + c.passives + c.detractors,
        _signed,
        "pts",
    ),
    "csat": Metric(
        "csat",
        "CSAT",
        lambda c: csat_from_counts(c.csat_good, c.csat_n),
        lambda c: c.csat_n,
        lambda x: f"{x:.0f}%",
        "pts",
    ),
    "ces": Metric(
        "ces",
        "CES",
        lambda c: mean_from_counts(c.ces_sum, c.ces_n),
        lambda c: c.ces_n,
        lambda x: f"{x:.2f}/7",
        "",
    ),
    "rating": Metric(
        "rating",
        "Rating",
        lambda c: mean_from_counts(c.rating_sum, c.rating_n),
        lambda c: c.rating_n,
        lambda x: f"{x:.2f}★",
        "",
    ),
    "sentiment": Metric(
        "sentiment",
        "Sentiment",
        lambda c: mean_from_counts(c.sentiment_sum, c.sentiment_n),
        lambda c: c.sentiment_n,
        lambda x: signed(x, 2),
        "",
    ),
}


# --- changes and trends ------------------------------------------------------------------------


def delta(current: float | None, previous: float | None) -> float | None:
    """Absolute change (percentage points for NPS/CSAT); None when either side has no data."""
    if current is None or previous is None:
        return None
    return current - previous


def pct_change(current: float | None, previous: float | None) -> float | None:
    """Relative change in percent (used for volume); None when there is no base to compare to."""
    if current is None or previous is None or previous == 0:
        return None
    return 100.0 * (current - previous) / previous


def format_change(metric: Metric, current: float | None, previous: float | None) -> str:
    if metric.delta_unit == "%":
        change = pct_change(current, previous)
        return "n/a" if change is None else f"{signed(change)}%"
    d = delta(current, previous)
    if d is None:
        return "n/a"
    return f"{signed(d)} pts" if metric.delta_unit == "pts" else signed(d, 2)


RISING_MIN = 5  # a topic needs this many mentions before it can be called rising
RISING_FACTOR = 1.5


def is_rising(current: int, previous: int) -> bool:
    """A topic is rising when it has at least RISING_MIN mentions and 1.5x the previous period's
    (any count from zero counts as rising once it reaches the minimum)."""
    return current >= RISING_MIN and current >= RISING_FACTOR * previous


BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float | None]) -> str:
    """One bar per value scaled between the min and max present; gaps (no data) are spaces."""
    present = [v for v in values if v is not None]
    if not present:
        return " " * len(values)
    low, high = min(present), max(present)
    span = high - low
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        elif span == 0:
            out.append(BARS[len(BARS) // 2])
        else:
            out.append(BARS[min(len(BARS) - 1, int((v - low) / span * (len(BARS) - 1) + 0.5))])
    return "".join(out)

"""From text score and explicit scores to the final label, and where the label came from.

Explicit scores outrank words: a customer who gives 1 star is unhappy whatever the text says.

  rating (1-5 stars)  1-2 negative   3 neutral    4-5 positive
  NPS (0-10)          0-6 negative   7-8 neutral  9-10 positive   (detractor/passive/promoter)
  CSAT (1-5)          1-2 negative   3 neutral    4-5 positive
  CES (1-7)           1-3 negative   4 neutral    5-7 positive

CES: cxbot reads the 1-7 scale as agreement with "it was easy to get my issue handled"
(CES 2.0, and how Delighted and most survey tools ask it), so HIGH = low effort = good. A
source whose survey asks "how much effort" (high = bad) must store 8 - answer.

A neutral explicit score (3 stars, passive, CSAT 3, CES 4) becomes negative when the text is
clearly negative (score below `clearly_negative_below`); the source is then 'text'. When a
signal has both a rating and a score, the more negative one decides (a promoter NPS must not
hide a 1-star review); ties go to the rating. Fractional scores use the same cut points.
"""

from __future__ import annotations

NEGATIVE, NEUTRAL, POSITIVE, UNSCORED = "negative", "neutral", "positive", "unscored"
_ORDER = {NEGATIVE: 0, NEUTRAL: 1, POSITIVE: 2}

# (upper bound of negative, upper bound of neutral): value < a negative, value < b neutral.
_CUTS: dict[str, tuple[float, float]] = {
    "rating": (3, 4),
    "nps": (7, 9),
    "csat": (3, 4),
    "ces": (4, 5),
}


def explicit_label(value: float, scale: str) -> str:
    low, high = _CUTS[scale]
    return NEGATIVE if value < low else NEUTRAL if value < high else POSITIVE


def text_label(score: float | None, negative_below: float, positive_above: float) -> str:
    if score is None:
        return UNSCORED
    if score < negative_below:
        return NEGATIVE
    return POSITIVE if score > positive_above else NEUTRAL


def final_label(
    *,
    text_score: float | None,
    text_polarity: str,
    rating: int | None,
    score: float | None,
    score_type: str | None,
    clearly_negative_below: float,
) -> tuple[str, str]:
    """(sentiment_label, sentiment_source)."""
    explicit: list[tuple[str, str]] = []
    if rating is not None:
        explicit.append((explicit_label(rating, "rating"), "rating"))
    if score is not None and score_type in ("nps", "csat", "ces"):
        explicit.append((explicit_label(score, score_type), "score"))
    if explicit:
        label, source = min(explicit, key=lambda item: _ORDER[item[0]])  # stable: rating first
        if label == NEUTRAL and text_score is not None and text_score < clearly_negative_below:
            return NEGATIVE, "text"
        return label, source
    if text_polarity == UNSCORED:
        return UNSCORED, "none"
    return text_polarity, "text"

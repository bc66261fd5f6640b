"""Explicit scores outrank text: the precedence table, CES direction, rating + score together."""

from __future__ import annotations

import pytest

from cxbot.enrich.labels import explicit_label, final_label, text_label

NEG_TEXT = "Terrible, it broke after a week and support never answered. Total junk."
MILD_NEG_TEXT = "It's OK but delivery was late."
POS_TEXT = "Great product, works perfectly, thank you!"


@pytest.mark.parametrize(
    ("fields", "text", "expected"),
    [
        ({"rating": 1}, POS_TEXT, ("negative", "rating")),
        ({"rating": 2}, POS_TEXT, ("negative", "rating")),
        ({"rating": 3}, POS_TEXT, ("neutral", "rating")),
        ({"rating": 3}, MILD_NEG_TEXT, ("neutral", "rating")),
        ({"rating": 3}, NEG_TEXT, ("negative", "text")),
        ({"rating": 4}, NEG_TEXT, ("positive", "rating")),
        ({"rating": 5}, NEG_TEXT, ("positive", "rating")),
        ({"score": 0, "score_type": "nps"}, POS_TEXT, ("negative", "score")),
        ({"score": 6, "score_type": "nps"}, POS_TEXT, ("negative", "score")),
        ({"score": 7, "score_type": "nps"}, POS_TEXT, ("neutral", "score")),
        ({"score": 8, "score_type": "nps"}, NEG_TEXT, ("negative", "text")),
        ({"score": 9, "score_type": "nps"}, NEG_TEXT, ("positive", "score")),
        ({"score": 10, "score_type": "nps"}, None, ("positive", "score")),
        ({"score": 1, "score_type": "csat"}, POS_TEXT, ("negative", "score")),
        ({"score": 2, "score_type": "csat"}, None, ("negative", "score")),
        ({"score": 3, "score_type": "csat"}, MILD_NEG_TEXT, ("neutral", "score")),
        ({"score": 4, "score_type": "csat"}, NEG_TEXT, ("positive", "score")),
        ({"score": 5, "score_type": "csat"}, None, ("positive", "score")),
        # CES 1-7: agreement with "it was easy" -- high is low effort, which is good.
        ({"score": 1, "score_type": "ces"}, POS_TEXT, ("negative", "score")),
        ({"score": 3, "score_type": "ces"}, None, ("negative", "score")),
        ({"score": 4, "score_type": "ces"}, None, ("neutral", "score")),
        ({"score": 4, "score_type": "ces"}, NEG_TEXT, ("negative", "text")),
        ({"score": 5, "score_type": "ces"}, NEG_TEXT, ("positive", "score")),
        ({"score": 7, "score_type": "ces"}, None, ("positive", "score")),
        ({}, NEG_TEXT, ("negative", "text")),
        ({}, POS_TEXT, ("positive", "text")),
        ({}, None, ("unscored", "none")),
    ],
)
def test_precedence_table(enrich_text, fields: dict, text: str | None, expected: tuple) -> None:
    got = enrich_text(text, **fields)
    assert (got.sentiment_label, got.sentiment_source) == expected


def test_text_score_is_kept_beside_the_final_label(enrich_text) -> None:
    got = enrich_text(NEG_TEXT, rating=5)
    assert (got.sentiment_label, got.text_sentiment is not None and got.text_sentiment < -0.4) == (
        "positive",
        True,
    )


@pytest.mark.parametrize(
    ("rating", "score", "expected"),
    [
        (1, 10.0, ("negative", "rating")),  # a promoter NPS does not hide a 1-star review
        (5, 2.0, ("negative", "score")),
        (3, 9.0, ("neutral", "rating")),
        (4, 9.0, ("positive", "rating")),
    ],
)
def test_rating_and_score_together_the_more_negative_wins(
    rating: int, score: float, expected: tuple
) -> None:
    assert (
        final_label(
            text_score=None,
            text_polarity="unscored",
            rating=rating,
            score=score,
            score_type="nps",
            clearly_negative_below=-0.4,
        )
        == expected
    )


@pytest.mark.parametrize(
    ("value", "scale", "label"),
    [
        (6.5, "nps", "negative"),
        (8.9, "nps", "neutral"),
        (9.0, "nps", "positive"),
        (2.5, "csat", "negative"),
        (3.5, "csat", "neutral"),
        (4.0, "csat", "positive"),
        (3.9, "ces", "negative"),
        (4.5, "ces", "neutral"),
        (5.0, "ces", "positive"),
    ],
)
def test_fractional_scores_use_the_same_cut_points(value: float, scale: str, label: str) -> None:
    assert explicit_label(value, scale) == label


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (None, "unscored"),
        (-0.06, "negative"),
        (-0.05, "neutral"),
        (0.2, "neutral"),
        (0.21, "positive"),
    ],
)
def test_text_thresholds(score: float | None, label: str) -> None:
    assert text_label(score, -0.05, 0.2) == label

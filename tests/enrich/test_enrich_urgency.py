"""Urgency levels 0..3 from the taxonomy's cues and the final label."""

from __future__ import annotations

import pytest

from cxbot.enrich.urgency import urgency_level


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("How do I change my plan?", 0),
        ("Thanks, all good now!", 0),
        ("I have a problem with the export.", 1),
        ("The parcel is late.", 1),  # no cue, but labelled negative
        ("This is the third time I ask for my invoice.", 2),
        ("I want to cancel my subscription.", 2),
        ("I need to speak to a manager.", 2),
        ("I sent 4 emails about this.", 2),
        ("I will contact my lawyer.", 3),
        ("The charger caught fire last night.", 3),
        ("My account was hacked and someone ordered stuff.", 3),
        ("برای بار سوم پیام میدم", 2),
        ("از شما شکایت می‌کنم", 3),
        ("اشتراکم رو لغو کنید", 2),
        ("kaçıncı kez yazıyorum", 2),
        ("avukatıma vereceğim", 3),
        ("ürün patladı, çok tehlikeli", 3),
        ("bir sorun var", 1),
    ],
)
def test_levels(enrich_text, text: str, level: int) -> None:
    assert enrich_text(text).urgency == level


def test_a_bad_rating_alone_is_level_one(enrich_text) -> None:
    assert [enrich_text(None, rating=r).urgency for r in (1, 3, 5)] == [1, 0, 0]


@pytest.mark.parametrize(
    ("cue", "label", "level"),
    [
        (0, "neutral", 0),
        (0, "negative", 1),
        (2, "negative", 2),
        (3, "positive", 3),
        (0, "unscored", 0),
    ],
)
def test_urgency_level(cue: int, label: str, level: int) -> None:
    assert urgency_level(cue, label) == level

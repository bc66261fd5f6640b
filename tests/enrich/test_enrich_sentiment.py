"""The ensemble analyser on the team's own sentences, and what it leaves unscored.

The ensemble was the default until the multilingual analyser (which keeps it for English) took
its place; this module pins it, and checks that the default now scores what it left unscored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cxbot.enrich import Enricher, Enrichment, EnrichSettings
from cxbot.enrich.analysers.lexicon import TextBlobAnalyser, VaderAnalyser

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher(EnrichSettings(analyser="ensemble"), ROOT)


@pytest.fixture(scope="module")
def enrich_text(enricher: Enricher) -> Any:
    def run(text: str | None, **fields: Any) -> Enrichment:
        args: dict[str, Any] = {"title": None, "rating": None, "score": None, "score_type": None}
        args.update(fields)
        return enricher.enrich(text=text, **args)

    return run


# Complaints a CX team must see, written without a single emotional word.
PLAIN_COMPLAINTS = [
    "My package never arrived.",
    "I was charged twice for one order.",
    "Still waiting for my refund.",
    "Please cancel my subscription.",
    "The app doesn't load since Tuesday.",
    "I have been on hold for 40 minutes.",
    "Order says delivered but nothing is here.",
    "This is the third time I ask for my invoice.",
    "Returned it the next day.",
    "Can't log in after the update.",
]


@pytest.mark.parametrize("text", PLAIN_COMPLAINTS)
def test_plain_complaints_are_negative(enrich_text, text: str) -> None:
    got = enrich_text(text)
    assert (got.lang, got.sentiment_label, got.sentiment_source) == ("en", "negative", "text")


def test_general_lexicons_alone_miss_plain_complaints() -> None:
    # Why the CX cues exist: TextBlob sees no sentiment at all in most of these.
    tb = TextBlobAnalyser()
    assert [tb.polarity(t) for t in PLAIN_COMPLAINTS] == [0.0] * len(PLAIN_COMPLAINTS)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("The food was not good.", "negative"),
        ("Not worth the money.", "negative"),
        ("I would not recommend this shop.", "negative"),
        ("No issues at all, works great.", "positive"),
        ("Never had a problem with them.", "positive"),
        ("Thanks for nothing.", "negative"),
        ("Thanks for losing my bag, great job.", "negative"),
        ("Great service, my issue was fixed in five minutes.", "positive"),
        ("Highly recommend this seller.", "positive"),
        ("How do I change the email on my account?", "neutral"),
        ("The meeting was moved to Thursday.", "neutral"),
    ],
)
def test_negation_sarcasm_praise_and_neutral(enrich_text, text: str, label: str) -> None:
    assert enrich_text(text).sentiment_label == label


def test_negated_damage_is_not_a_complaint(enrich_text) -> None:
    assert enrich_text("The box was not damaged at all.").sentiment_label != "negative"


UNREAD = [
    ("سفارشم هنوز نرسیده، خیلی بد بود", "fa"),
    ("پشتیبانی اصلاً جواب نمیده", "fa"),
    ("kargo çok geç geldi, berbat bir deneyim", "tr"),
    ("siparisim hala gelmedi", "tr"),
    ("لم يصل الطلب حتى الآن", "ar"),
]


@pytest.mark.parametrize(("text", "lang"), UNREAD)
def test_languages_the_ensemble_cannot_read_are_unscored(enrich_text, text: str, lang: str) -> None:
    got = enrich_text(text)
    assert (got.lang, got.text_sentiment, got.sentiment_label, got.sentiment_source) == (
        lang,
        None,
        "unscored",
        "none",
    )


@pytest.mark.parametrize(("text", "lang"), UNREAD)
def test_the_default_analyser_scores_them(text: str, lang: str) -> None:
    got = Enricher(EnrichSettings(), ROOT).enrich(
        text=text, title=None, rating=None, score=None, score_type=None
    )
    assert (got.lang, got.sentiment_label, got.sentiment_source) == (lang, "negative", "text")


def test_unscored_text_still_takes_an_explicit_score(enrich_text) -> None:
    got = enrich_text("غذا سرد رسید", rating=1)
    assert (got.lang, got.text_sentiment, got.sentiment_label, got.sentiment_source) == (
        "fa",
        None,
        "negative",
        "rating",
    )


@pytest.mark.parametrize(
    ("text", "label"), [("👍", "positive"), ("😡😡", "negative"), ("❤️", "positive")]
)
def test_emoji_only_text(enrich_text, text: str, label: str) -> None:
    got = enrich_text(text)
    assert (got.lang, got.sentiment_label, got.sentiment_source) == (None, label, "text")


@pytest.mark.parametrize("analyser", ["textblob", "vader"])
def test_plain_lexicons_do_not_fake_a_neutral_for_emoji(analyser: str) -> None:
    got = Enricher(EnrichSettings(analyser=analyser), ROOT).enrich(
        text="👍", title=None, rating=None, score=None, score_type=None
    )
    assert (got.text_sentiment, got.sentiment_label) == (None, "unscored")


@pytest.mark.parametrize("text", [None, "", "   "])
def test_no_text_no_score(enrich_text, text: str | None) -> None:
    assert enrich_text(text) == Enrichment(None, None, "unscored", "none", [], 0)


def test_title_is_read_with_the_text(enrich_text) -> None:
    got = enrich_text("Used it on Monday.", title="Broke after one use")
    assert (got.sentiment_label, got.topics) == ("negative", ["product_quality"])


def test_enrich_many_matches_enrich(enricher: Enricher) -> None:
    rows = [
        {
            "text": "My package never arrived.",
            "title": None,
            "rating": None,
            "score": None,
            "score_type": None,
            "id": 7,
            "author_email": "x@example.com",
        },
        {"text": "هنوز منتظرم", "rating": 5},
        {"text": None, "score": 3.0, "score_type": "nps"},
    ]
    one_by_one = [
        enricher.enrich(
            text=r.get("text"),
            title=r.get("title"),
            rating=r.get("rating"),
            score=r.get("score"),
            score_type=r.get("score_type"),
        )
        for r in rows
    ]
    assert enricher.enrich_many(rows) == one_by_one
    assert [(e.sentiment_label, e.sentiment_source) for e in one_by_one] == [
        ("negative", "text"),
        ("positive", "rating"),
        ("negative", "score"),
    ]


def test_scores_are_bounded_and_rounded(enricher: Enricher) -> None:
    texts = [
        "Amazing amazing amazing!!! Love love love it 😍😍",
        "Worst. Scam. Fraud. Never again!!!",
    ]
    scores = [e.text_sentiment for e in enricher.enrich_many([{"text": t} for t in texts])]
    assert [s is not None and -1 <= s <= 1 and round(s, 4) == s for s in scores] == [True, True]


def test_vader_analyser_reads_english(enrich_text) -> None:
    vader = VaderAnalyser()
    assert (vader.reads("en"), vader.reads("fa"), vader.reads(None)) == (True, False, False)

"""The faster TextBlob and VADER wrappers give exactly the libraries' own scores."""

from __future__ import annotations

from pathlib import Path

import pytest
from textblob import TextBlob
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from cxbot.enrich.analysers.lexicon import TextBlobAnalyser, VaderAnalyser

DATA = Path(__file__).parent / "data"

# Cases that exercise each branch the wrappers re-implement.
EDGE_CASES = [
    "NOT good at all!!!",
    "The food was GREAT but the service was not so good",
    "It is kind of ok, sort of nice",
    "least helpful agent, not the least bit sorry",
    "never so happy, never this bad",
    "without doubt the best; without a doubt terrible",
    "this is the bomb, yeah right, bad ass",
    "I don't think it isn't good, no bad, no good",
    "Love it 😍😍 but 😡 at the delay 👍",
    "  padded text with spaces  ",
    ":) :( :D <3 ;)",
    "",
    "?!?!",
    "Really really REALLY bad!!!! Why??",
]


def texts() -> list[str]:
    out = list(EDGE_CASES)
    for name in ("sentiment_dev_en.tsv", "sentiment_check_en.tsv", "english_gate.tsv"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                out.append(line.split("\t", 1)[1])
    return out


@pytest.fixture(scope="module")
def originals() -> tuple[SentimentIntensityAnalyzer, TextBlobAnalyser, VaderAnalyser]:
    return SentimentIntensityAnalyzer(), TextBlobAnalyser(), VaderAnalyser()


def test_textblob_polarity_is_textblobs(originals) -> None:
    _, tb, _ = originals
    diffs = [(t, tb.polarity(t), TextBlob(t).sentiment.polarity) for t in texts()]
    assert [d for d in diffs if d[1] != d[2]] == []


def test_vader_compound_is_vaders(originals) -> None:
    vader, _, ours = originals
    diffs = [(t, ours.compound(t), vader.polarity_scores(t)["compound"]) for t in texts()]
    assert [d for d in diffs if d[1] != d[2]] == []


def random_texts(n: int, seed: int) -> list[str]:
    """Strings built from what pattern's tokenizer treats specially."""
    import random

    rng = random.Random(seed)
    pool = [
        "good", "bad", "not", "very", "never", "Mr.", "e.g.", "U.S.", "etc.", "T.", "vs.", "A.",
        "don't", "I'd", "we'll", "they're", "you've", "it's", "I'm", "can't", "...", ".", "!",
        "?", ",", ";", ":", "(", ")", "[", "]", '"', "'", "\u201c", "\u201d", "\u2018", "\u2019",
        ":)", ": )", ":-(", "<3", ";)", "8-)", ":'(", "(!)", "( ! )", "#tag", "@user", "$5",
        "-", "--", "well...", "end.", "(really)", "'quoted'", '"said"', "ok!!", "why??", "x.y",
        "\n\n", "\r\n", "\n", "\t", "\u00a0", "\u2003", "😍", "great!", "(sic)", "U.S.A.",
    ]  # fmt: skip
    out = []
    for _ in range(n):
        parts = [rng.choice(pool) for _ in range(rng.randint(1, 18))]
        glue = rng.choice([" ", "", " ", "  "])
        out.append(glue.join(parts))
    return out


def test_fast_tokenizer_is_patterns() -> None:
    from textblob.en import sentiment

    from cxbot.enrich.analysers.patterntok import find_tokens

    cases = texts() + random_texts(3000, seed=7)
    diffs = [(t, find_tokens(t), sentiment.tokenizer(t)) for t in cases]
    assert [d for d in diffs if d[1] != d[2]] == []


def test_textblob_polarity_on_random_texts(originals) -> None:
    _, tb, _ = originals
    cases = random_texts(1000, seed=11)
    assert [t for t in cases if tb.polarity(t) != TextBlob(t).sentiment.polarity] == []

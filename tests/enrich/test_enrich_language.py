"""Language detection on short texts (the team's own fixture, tests/enrich/data/lang_short.tsv)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxbot.enrich.language import NO_LANGUAGE, LanguageDetector
from cxbot.enrich.settings import DEFAULT_LANGUAGES

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector(DEFAULT_LANGUAGES, 0.15)


def rows() -> list[tuple[str, str]]:
    lines = (DATA / "lang_short.tsv").read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t", 1)) for line in lines if line and not line.startswith("#")]  # type: ignore[misc]


def test_short_text_accuracy(detector: LanguageDetector) -> None:
    got = [(lang, detector.detect(text)) for lang, text in rows()]
    correct = sum(g == p for g, p in got)
    taken_for_english = [(g, p) for g, p in got if p == "en" and g != "en"]
    # Measured 0.96 with the default languages; English is what the default analyser reads,
    # so a non-English text taken for English is the costly mistake: none allowed.
    assert (correct / len(got) >= 0.93, taken_for_english) == (True, [])


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Where is my order? It has been two weeks.", "en"),
        ("@acme_help https://acme.example/x my order never arrived", "en"),
        ("سفارش من کجاست؟ دو هفته گذشته", "fa"),
        ("طلبي لم يصل بعد، أين هو؟", "ar"),
        ("Siparişim iki haftadır gelmedi", "tr"),
        ("Где мой заказ?", "ru"),
        ("👍👍", NO_LANGUAGE),
        ("12345 !!!", NO_LANGUAGE),
        ("ok", None),  # too little to tell: unknown, not a guess
    ],
)
def test_examples(detector: LanguageDetector, text: str, lang: str | None) -> None:
    assert detector.detect(text) == lang


def test_script_filter_keeps_latin_text_out_of_arabic_script_languages() -> None:
    detector = LanguageDetector(["fa", "ar", "en"], 0.0)
    assert [detector.detect(t) for t in ["merci", "سلام، سفارشم کجاست؟", "hello there"]] == [
        "en",
        "fa",
        "en",
    ]


def test_single_candidate_script_needs_no_model() -> None:
    detector = LanguageDetector(["en", "fa", "he"], 0.15)
    assert detector.detect("איפה ההזמנה שלי") == "he"

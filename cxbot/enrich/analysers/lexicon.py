"""The two general English lexicons: TextBlob (pattern) and VADER. Both are fully offline.

TextBlob's sentiment uses the pattern lexicon shipped inside the textblob package; it needs no
NLTK corpora (checked with an empty NLTK_DATA).

Both libraries spend most of their time on bookkeeping rather than on sentiment, and the
enricher must do >= 2,000 texts/s on one core. So each is wrapped with the same algorithm minus
that overhead; tests/enrich/test_enrich_lexicon_speedups.py checks that the scores are
identical to the libraries' own on every sentence we have:

* TextBlob: `TextBlob(text).sentiment` builds a blob and a namedtuple class per call, and
  pattern's lexicon is a "lazy dict" whose every lookup goes through a Python-level loader
  check. We call the pattern sentiment function directly, on a lexicon instance whose lookups
  are plain dict lookups once it is loaded, with pattern's tokenizer sped up (patterntok.py).
* VADER: `polarity_scores` walks the text character by character to replace emoji even when
  there is none, and lower-cases the whole word list again for every sentiment word it checks
  for negation (quadratic in the text length). We skip the walk when no emoji character is
  present, lower-case the word list once per text, and skip the per-word scoring call for
  words that are not in its lexicon (it would add a 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textblob import en as textblob_en
from vaderSentiment import vaderSentiment as vader_module
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer, SentiText

from cxbot.enrich.analysers import patterntok
from cxbot.enrich.analysers.vocab import english_words, reads_as_english


class _PatternLexicon(textblob_en.Sentiment):  # type: ignore[misc]
    """textblob.en.sentiment with plain dict lookups (it is loaded eagerly in _pattern_lexicon)."""

    __contains__ = dict.__contains__
    __getitem__ = dict.__getitem__
    get = dict.get
    assessments = patterntok.assessments


def _pattern_lexicon() -> Any:
    shared = textblob_en.sentiment
    lexicon = _PatternLexicon(
        path=shared.path,
        synset="wordnet_id",
        negations=shared.negations,
        modifiers=shared.modifiers,
        modifier=shared.modifier,
        tokenizer=patterntok.find_tokens,  # pattern's tokenizer, common cases fast (patterntok.py)
        language="en",
    )
    lexicon.load()
    return lexicon


class _Words(list[str]):
    """VADER's word list, carrying its lower-cased copy so it is made once per text."""

    lowered: list[str]


class _FastVader(SentimentIntensityAnalyzer):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        # VADER replaces a character when it is a key of its emoji table. (A set, not a regex
        # character class: with ~3,500 astral-plane members the class is scanned linearly.)
        self._emoji_chars = frozenset(k for k in self.emojis if len(k) == 1)

    def polarity_scores(self, text: str) -> dict[str, float]:
        # Same steps as SentimentIntensityAnalyzer.polarity_scores (vaderSentiment 3.3.2).
        if not self._emoji_chars.isdisjoint(text):
            return dict(super().polarity_scores(text))
        sentitext = SentiText(text.strip())
        words = _Words(sentitext.words_and_emoticons)
        words.lowered = [w.lower() for w in words]
        sentitext.words_and_emoticons = words
        sentiments: list[float] = []
        for i, item in enumerate(words):
            low = words.lowered[i]
            if low in vader_module.BOOSTER_DICT:
                sentiments.append(0)
                continue
            if i < len(words) - 1 and low == "kind" and words.lowered[i + 1] == "of":
                sentiments.append(0)
                continue
            if low not in self.lexicon:
                sentiments.append(0)  # what sentiment_valence(0, ...) does for such a word
                continue
            sentiments = self.sentiment_valence(0, sentitext, item, i, sentiments)
        sentiments = self._but_check(words, sentiments)
        return dict(self.score_valence(sentiments, sentitext.text))

    # The checks below are vaderSentiment 3.3.2's, reading the list lowered once per text
    # (words.lowered) instead of lowering it on every call.

    @staticmethod
    def _negation_check(valence: float, words: Any, start_i: int, i: int) -> float:
        low = _lowered(words)
        negated = _negated
        if start_i == 0:
            if negated(low[i - 1]):
                valence = valence * vader_module.N_SCALAR
        if start_i == 1:
            if low[i - 2] == "never" and (low[i - 1] == "so" or low[i - 1] == "this"):
                valence = valence * 1.25
            elif low[i - 2] == "without" and low[i - 1] == "doubt":
                pass
            elif negated(low[i - 2]):
                valence = valence * vader_module.N_SCALAR
        if start_i == 2:
            if (
                low[i - 3] == "never"
                and (low[i - 2] == "so" or low[i - 2] == "this")
                or (low[i - 1] == "so" or low[i - 1] == "this")
            ):
                valence = valence * 1.25
            elif low[i - 3] == "without" and (low[i - 2] == "doubt" or low[i - 1] == "doubt"):
                pass
            elif negated(low[i - 3]):
                valence = valence * vader_module.N_SCALAR
        return valence

    @staticmethod
    def _but_check(words: Any, sentiments: list[float]) -> list[float]:
        low = _lowered(words)
        if "but" in low:
            bi = low.index("but")
            for sentiment in sentiments:
                si = sentiments.index(sentiment)  # sic: vader's own (first equal value)
                if si < bi:
                    sentiments.pop(si)
                    sentiments.insert(si, sentiment * 0.5)
                elif si > bi:
                    sentiments.pop(si)
                    sentiments.insert(si, sentiment * 1.5)
        return sentiments

    @staticmethod
    def _special_idioms_check(valence: float, words: Any, i: int) -> float:
        low = _lowered(words)
        special, booster = vader_module.SPECIAL_CASES, vader_module.BOOSTER_DICT
        onezero = f"{low[i - 1]} {low[i]}"
        twoonezero = f"{low[i - 2]} {low[i - 1]} {low[i]}"
        twoone = f"{low[i - 2]} {low[i - 1]}"
        threetwoone = f"{low[i - 3]} {low[i - 2]} {low[i - 1]}"
        threetwo = f"{low[i - 3]} {low[i - 2]}"
        for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
            if seq in special:
                valence = special[seq]
                break
        if len(low) - 1 > i:
            zeroone = f"{low[i]} {low[i + 1]}"
            if zeroone in special:
                valence = special[zeroone]
        if len(low) - 1 > i + 1:
            zeroonetwo = f"{low[i]} {low[i + 1]} {low[i + 2]}"
            if zeroonetwo in special:
                valence = special[zeroonetwo]
        for n_gram in (threetwoone, threetwo, twoone):
            if n_gram in booster:
                valence = valence + booster[n_gram]
        return valence


_NEGATE = frozenset(vader_module.NEGATE)


def _negated(word: str) -> bool:
    """vader's negated([word]) for a lower-case word, without copying its word list per call."""
    return word in _NEGATE or "n't" in word


def _lowered(words: Any) -> list[str]:
    lowered = getattr(words, "lowered", None)
    return lowered if lowered is not None else [str(w).lower() for w in words]


class TextBlobAnalyser:
    """TextBlob polarity. English only: its lexicon is English adjectives (and no emoji)."""

    name = "textblob"

    def __init__(self) -> None:
        self._lexicon = _pattern_lexicon()
        self._vocabulary = english_words()

    def reads(self, lang: str | None) -> bool:
        return lang == "en"

    def polarity(self, text: str) -> float:
        return float(self._lexicon(text)[0])

    def score_many(self, texts: Sequence[str]) -> list[float | None]:
        return [self.polarity(t) if reads_as_english(t, self._vocabulary) else None for t in texts]


class VaderAnalyser:
    """VADER compound score: English social text.

    Emoji-only text is not read: VADER scores common CX emoji (thumbs up, angry face) 0, which
    would be a fake neutral. The ensemble adds its own emoji table and reads such text.
    """

    name = "vader"

    def __init__(self) -> None:
        self._vader = _FastVader()
        self._vocabulary = english_words()

    def reads(self, lang: str | None) -> bool:
        return lang == "en"

    def compound(self, text: str) -> float:
        return float(self._vader.polarity_scores(text)["compound"])

    def score_many(self, texts: Sequence[str]) -> list[float | None]:
        return [self.compound(t) if reads_as_english(t, self._vocabulary) else None for t in texts]

"""The two general English lexicons: TextBlob (pattern) and VADER. Both are fully offline.

TextBlob's sentiment uses the pattern lexicon shipped inside the textblob package; it needs no
NLTK corpora (checked with an empty NLTK_DATA). We call textblob.en.sentiment -- the function
TextBlob's default PatternAnalyzer calls -- directly: TextBlob(text).sentiment gives the same
polarity, but builds a blob and a namedtuple class per call (3x the time).
"""

from __future__ import annotations

from collections.abc import Sequence

from textblob.en import sentiment as pattern_sentiment
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer


class TextBlobAnalyser:
    """TextBlob polarity. English only: its lexicon is English adjectives (and no emoji)."""

    name = "textblob"

    def reads(self, lang: str | None) -> bool:
        return lang == "en"

    def polarity(self, text: str) -> float:
        return float(pattern_sentiment(text)[0])

    def score_many(self, texts: Sequence[str]) -> list[float]:
        return [self.polarity(t) for t in texts]


class VaderAnalyser:
    """VADER compound score: English social text.

    Emoji-only text is not read: VADER scores common CX emoji (thumbs up, angry face) 0, which
    would be a fake neutral. The ensemble adds its own emoji table and reads such text.
    """

    name = "vader"

    def __init__(self) -> None:
        self._vader = SentimentIntensityAnalyzer()

    def reads(self, lang: str | None) -> bool:
        return lang == "en"

    def compound(self, text: str) -> float:
        return float(self._vader.polarity_scores(text)["compound"])

    def score_many(self, texts: Sequence[str]) -> list[float]:
        return [self.compound(t) for t in texts]

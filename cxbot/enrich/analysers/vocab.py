"""Is a text English enough for an English lexicon to read it?

The language detector can take romanised Persian ("merci, kheili mamnoon"), Hindi ("bahut
accha hai") or Turkish typed without Turkish letters for English: they are Latin-script and
short. An English lexicon then finds no word it knows and returns 0.0 -- a fake neutral. So the
English analysers also check the words: at least half of the words (2+ letters; @handles,
#hashtags and links left out) must be English words. The vocabulary is the ~68k words of the
Brill tagger lexicon shipped inside textblob, plus VADER's lexicon (slang, "lol", "smh").

The 0.5 share was chosen on tests/enrich/data/english_gate.tsv (our own sentences): English
with brands, names and slang scored 0.67-1.0, romanised Persian/Hindi/Turkish 0.0-0.33.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import textblob
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from cxbot.enrich.textnorm import without_handles_and_links

MIN_ENGLISH_SHARE = 0.5
_WORDS = re.compile(r"[^\W\d_]{2,}")


@functools.lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    words: set[str] = set()
    path = Path(textblob.__file__).parent / "en" / "en-lexicon.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        word = line.split(" ", 1)[0].lower()
        if word.isalpha():
            words.add(word)
    words.update(w for w in SentimentIntensityAnalyzer().lexicon if w.isalpha())
    return frozenset(words)


def english_share(text: str, vocabulary: frozenset[str]) -> float:
    """Share of the text's words that are English words; 1.0 when it has no words at all."""
    words = _WORDS.findall(without_handles_and_links(text).lower())
    if not words:
        return 1.0
    return sum(w in vocabulary for w in words) / len(words)


def reads_as_english(text: str, vocabulary: frozenset[str]) -> bool:
    return english_share(text, vocabulary) >= MIN_ENGLISH_SHARE

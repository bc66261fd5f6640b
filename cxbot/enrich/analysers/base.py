"""What the enricher needs from a sentiment analyser."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Analyser(Protocol):
    """Scores texts in -1 (negative) .. 1 (positive).

    `reads(lang)` says whether a text detected as `lang` (ISO 639-1, language.NO_LANGUAGE for
    text without letters, None when undetectable) can be scored at all; the enricher only
    passes such texts to `score_many`. `score_many` may still return None for a text it finds
    it cannot read after all (too few English words, symbols that carry no sentiment). Either
    way the text is 'unscored' -- never a made-up 0.0.
    """

    name: str

    def reads(self, lang: str | None) -> bool: ...

    def score_many(self, texts: Sequence[str]) -> list[float | None]: ...

"""What the enricher needs from a sentiment analyser."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Analyser(Protocol):
    """Scores texts in -1 (negative) .. 1 (positive).

    `reads(lang)` says whether a text detected as `lang` (ISO 639-1, language.NO_LANGUAGE for
    emoji-only text, None when undetectable) can be scored at all. The enricher never calls
    `score_many` with a text the analyser cannot read: such texts are 'unscored', not 0.0.
    """

    name: str

    def reads(self, lang: str | None) -> bool: ...

    def score_many(self, texts: Sequence[str]) -> list[float]: ...

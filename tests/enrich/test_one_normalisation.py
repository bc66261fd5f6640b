"""One normalisation for every matcher (issue 14, defect 12): a word hidden by an invisible
character or typed in fullwidth letters gets the same topic AND the same alert keyword."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxbot.alerts.rules import has_keyword
from cxbot.enrich.textnorm import fold
from cxbot.enrich.topics import Taxonomy

TOPICS = Path(__file__).resolve().parents[2] / "config" / "topics.toml"

HIDDEN = [
    "I want a ref\u200bund now",  # zero-width space
    "I want a ref\u2060und now",  # word joiner
    "I want a ref\u00adund now",  # soft hyphen
    "I want a \u202erefund\u202c now",  # bidi override around the word
    "I want a re\u2066fund\u2069 now",  # bidi isolate inside it
    "I want a \ufeffrefund now",  # BOM
    "I want a ｒｅｆｕｎｄ now",  # fullwidth
    "I want a REFUND now",
]


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.from_files(TOPICS)


@pytest.mark.parametrize("text", HIDDEN)
def test_topics_and_alert_keywords_agree(taxonomy: Taxonomy, text: str) -> None:
    assert "refund" in taxonomy.topics(fold(text))
    assert has_keyword(text, ["refund"])


def test_keywords_are_folded_like_the_text() -> None:
    assert has_keyword("STRASSE closed", ["straße"])
    assert has_keyword("cafe was cold", ["Café"])
    assert not has_keyword("prefund", ["refund"])  # still whole words only


def test_fold_drops_invisible_characters() -> None:
    assert fold("a\u200bb\u202ec\u2067d\ufeffe\u00adf") == "abcdef"

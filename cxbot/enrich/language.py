"""Language detection with py3langid, restricted to the configured languages and the text's script.

Why py3langid (measured in docs/enrichment.md on our own short CX texts): 96-97% accuracy on
2-8 word texts when restricted to the languages we expect, never took a Persian/Turkish/other
text for English there, ~10k short texts/s on one core, 4.5 MB installed, BSD licence, fully
offline and deterministic. lingua was less accurate on the same texts and needs ~1 GB of RAM
for all languages; langdetect is 50x slower and random unless seeded; fastText's lite model
was most accurate but took 4 non-English texts for English, which is the costly mistake here.

Two guards on top of the model:

* the script filter: a Latin-script text is never labelled Persian and an Arabic-script text
  never English; only candidates written in the text's main script compete;
* a confidence floor: below it the text is "undetectable" (None) rather than a guess, so an
  English-only analyser never scores a text we are unsure is English.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

from cxbot.enrich.textnorm import dominant_script, without_handles_and_links
from cxbot.errors import ConfigError

# Internal marker for text with no letters at all (emoji, emoticons, digits): ISO 639-2 "no
# linguistic content". Analysers that read emoji (VADER) may score it; it is reported as None.
NO_LANGUAGE = "zxx"

# Languages whose script is not Latin, by script name from textnorm.dominant_script.
_SCRIPTS: dict[str, str] = {
    **dict.fromkeys(["ar", "fa", "ur", "ps", "ug", "sd", "ckb"], "arabic"),
    **dict.fromkeys(
        ["ru", "uk", "bg", "sr", "mk", "kk", "ky", "mn", "be", "tg", "tt", "ba"], "cyrillic"
    ),
    "el": "greek",
    "he": "hebrew",
    "yi": "hebrew",
    **dict.fromkeys(["hi", "mr", "ne", "sa"], "devanagari"),
    **dict.fromkeys(["bn", "as"], "bengali"),
    "th": "thai",
    "ko": "hangul",
    "ja": "kana",
    "zh": "han",
}
# Scripts textnorm does not count: such languages compete whatever the text's script.
_UNCOUNTED = {
    "am",
    "dz",
    "gu",
    "hy",
    "ka",
    "km",
    "kn",
    "lo",
    "ml",
    "my",
    "or",
    "pa",
    "si",
    "ta",
    "te",
}

# The first ~160 characters (some 30 words) decide: enough for a sure answer on prose, and
# py3langid walks the text byte by byte in Python, so every further character costs time.
_SCAN_CHARS = 500
_SAMPLE_CHARS = 160


def _script_of(lang: str) -> str | None:
    if lang in _UNCOUNTED:
        return None
    return _SCRIPTS.get(lang, "latin")


class LanguageDetector:
    """`detect(text)` -> ISO 639-1 code, NO_LANGUAGE for text without letters, or None."""

    def __init__(self, languages: Iterable[str] | None, min_confidence: float) -> None:
        langid = importlib.import_module("py3langid.langid")
        self._ident: Any = langid.LanguageIdentifier.from_model_file(
            langid.MODEL_FILE, norm_probs=True
        )
        known = {code for code in self._ident.labels if len(code) == 2}
        wanted = sorted(set(languages)) if languages else sorted(known)
        unknown = [code for code in wanted if code not in known]
        if unknown:
            raise ConfigError(
                f"enrich.languages: py3langid does not know {', '.join(unknown)}"
                f" (known: {', '.join(sorted(known))})"
            )
        self._ident.set_languages(wanted)
        # The model ships float16 weights; numpy has no fast float16 matrix product, so every
        # text paid ~75 us converting the rows it touched. float32 once: ~13 MB, same scores.
        self._ident.nb_ptc = self._ident.nb_ptc.astype("float32")
        self.languages: tuple[str, ...] = tuple(wanted)
        self._min_confidence = min_confidence
        # A script with exactly one candidate needs no model (Hebrew -> he when he is configured).
        by_script: dict[str | None, list[str]] = {}
        for code in wanted:
            by_script.setdefault(_script_of(code), []).append(code)
        self._only: dict[str, str] = {
            script: codes[0]
            for script, codes in by_script.items()
            if script is not None and len(codes) == 1 and None not in by_script
        }
        self._scripts = {code: _script_of(code) for code in wanted}

    def detect(self, text: str) -> str | None:
        # Links and @handles are not language; left in they pull short texts to English.
        sample = without_handles_and_links(text[:_SCAN_CHARS])[:_SAMPLE_CHARS]
        script, letters = dominant_script(sample)
        if letters == 0:
            return NO_LANGUAGE
        if script in self._only:
            return self._only[script]
        # Usually the best candidate overall is written in the text's script and sure enough;
        # its confidence among same-script candidates can only be higher, so accept it as is.
        best, p = self._ident.classify(sample)
        if self._scripts.get(best) in (script, None) and p >= self._min_confidence:
            return str(best)
        # Otherwise rank every candidate, keep those written in this script and renormalise, so
        # the confidence is "how sure among languages this text could be in".
        ranked = [
            (code, p)
            for code, p in self._ident.rank(sample)
            if self._scripts[code] in (script, None)
        ]
        if not ranked:
            return None
        total = sum(p for _, p in ranked)
        code, p = ranked[0]
        if total <= 0 or p / total < self._min_confidence:
            return None
        return str(code)

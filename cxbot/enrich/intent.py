"""What the customer wants: complaint, question, request (feature/change), praise, churn_risk.

    intent(text, lang, rating=None, sentiment=None) -> one of INTENTS, or None when unknown

A pure function over cue regexes per language (en, fa, tr, ar), written by the cxbot team for
cxbot from its knowledge of how customers write; not derived from any evaluation set. Measured
on tests/enrich/data/intent_<lang>.tsv (written before the cues, never tuned on; see
tests/enrich/test_intent.py). Other languages get only the rating/sentiment fallback.

Order of precedence, and why:
1. churn_risk -- "cancel my account", "switching to X": the costliest signal to miss, and it
   often comes wrapped in a question or a request ("how do I cancel?", "please close it").
2. request -- a wish for a feature or change; often phrased as a question ("can you add...?").
3. complaint vs praise -- counted cues; praise must outnumber complaint cues ("support fixed
   my problem, thanks" is praise; "not happy" is a complaint: negations are complaint cues).
   A complaint outranks a question: "why does it keep crashing?" is a complaint.
4. question -- a question mark or an interrogative word, with no complaint cue.
5. fallback: rating (1-2 stars complaint, 4-5 praise), then the text's sentiment score in -1..1
   (< -0.3 complaint, > 0.3 praise) when the caller has one; else None.
"""

from __future__ import annotations

import re
import unicodedata

from cxbot.enrich.intent_cues import CHURN, COMPLAINT, CUES, PRAISE, QUESTION, REQUEST

INTENTS = (COMPLAINT, QUESTION, REQUEST, PRAISE, CHURN)
SENTIMENT_CUT = 0.3  # |score| a text must reach for the sentiment fallback to name an intent


_AR_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه", "ى": "ي", "ـ": None})
_FA_FOLD = str.maketrans({"ي": "ی", "ك": "ک", "\u200c": None, "أ": "ا", "ة": "ه"})
_TR_CASE = str.maketrans({"İ": "i", "I": "ı"})
_SPACES = re.compile(r"\s+")


def _normalise(text: str, lang: str) -> str:
    """Lower case, diacritics off (Arabic script), letter variants folded per language."""
    if lang == "tr":
        text = text.translate(_TR_CASE)
    text = text.lower()
    if lang in ("ar", "fa"):
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
        text = text.translate(_AR_FOLD if lang == "ar" else _FA_FOLD)
    return _SPACES.sub(" ", text).strip()


def _count(pattern: re.Pattern[str], text: str) -> int:
    return sum(1 for _ in pattern.finditer(text))


def intent(
    text: str | None,
    lang: str | None,
    rating: int | None = None,
    sentiment: float | None = None,
) -> str | None:
    """The customer's intent for one text (see the module docstring), or None when unknown."""
    cues = CUES.get(lang or "")
    if text and cues:
        norm = _normalise(text, lang or "")
        if cues[CHURN].search(norm):
            return CHURN
        if cues[REQUEST].search(norm):
            return REQUEST
        bad, good = _count(cues[COMPLAINT], norm), _count(cues[PRAISE], norm)
        if good > bad:
            return PRAISE
        if bad:
            return COMPLAINT
        if cues[QUESTION].search(norm):
            return QUESTION
    if rating is not None:
        if rating <= 2:
            return COMPLAINT
        if rating >= 4:
            return PRAISE
    if sentiment is not None:
        if sentiment < -SENTIMENT_CUT:
            return COMPLAINT
        if sentiment > SENTIMENT_CUT:
            return PRAISE
    return None

"""Text folding shared by keyword matching (topics, urgency, CX rules) and script counting.

`fold` maps the spellings customers actually type onto one form, so a keyword list needs one
entry per word instead of one per spelling:

* case and accents: "İADE", "iade" and "iäde" fold alike; Turkish ı folds to i because many
  Turkish users type without Turkish letters ("siparis", "cok") and we want both to match;
* Arabic-script letters: Arabic yeh/kaf/teh-marbuta become the Persian forms, hamza and
  harakat are dropped, tatweel is removed -- Persian text is routinely typed on Arabic
  keyboards, so "كيفيت" and "کیفیت" must be the same word;
* the zero-width non-joiner becomes a space, so "حساب‌ها" (accounts) still starts with the word
  "حساب" and the attached plural does not hide it;
* Persian and Arabic-Indic digits become ASCII digits;
* compatibility forms (fullwidth "ｒｅｆｕｎｄ", ligatures) become their plain letters (NFKD, which
  also splits off the accents), and the invisible characters that hide a word from a matcher
  -- zero-width space and joiners, word joiner, soft hyphen, bidi marks, embeddings, overrides
  and isolates, BOM -- are removed: "ref\u200bund" is "refund".

Folding is applied to keywords and texts alike, so it never needs to be reversible. It is the
one normalisation of every matcher: topics, urgency, CX rules and alert keywords
(cxbot/alerts/rules.py).
"""

from __future__ import annotations

import re
import unicodedata

# Combining marks left by NFKD: Latin accents, Arabic harakat, hamza/madda above and below.
_MARKS = re.compile("[\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")

_TABLE = str.maketrans(
    {
        "\u0131": "i",  # dotless i
        "\u064a": "\u06cc",  # Arabic yeh -> Persian yeh
        "\u0649": "\u06cc",  # alef maksura -> Persian yeh
        "\u0643": "\u06a9",  # Arabic kaf -> Persian kaf
        "\u06d5": "\u0647",  # ae (left from heh-with-yeh) -> heh
        "\u0629": "\u0647",  # teh marbuta -> heh
        "\u0640": None,  # tatweel (decorative stretching)
        "\u200c": " ",  # zero-width non-joiner separates a Persian suffix: treat as a break
        "\u200d": None,  # zero-width joiner
        "\u200f": None,  # right-to-left mark
        "\u200e": None,  # left-to-right mark
        # Invisible in rendered text, so they can split a word without anyone seeing it.
        **dict.fromkeys(["\u200b", "\u2060", "\ufeff", "\u00ad", "\u061c"]),
        **dict.fromkeys(map(chr, range(0x202A, 0x202F))),  # bidi embeddings and overrides
        **dict.fromkeys(map(chr, range(0x2066, 0x206A))),  # bidi isolates
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # Persian digits
        **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
    }
)


def fold(text: str) -> str:
    """The matching form of `text`: lower-case, accent-free, one spelling per letter."""
    decomposed = unicodedata.normalize("NFKD", text)
    return _MARKS.sub("", decomposed).translate(_TABLE).casefold()


# Scripts that decide which candidate languages a text can be in. Ranges cover the letters
# customers use; anything else counts as "other" and restricts nothing.
_SCRIPT_RES: dict[str, re.Pattern[str]] = {
    "latin": re.compile("[A-Za-z\u00c0-\u024f\u1e00-\u1eff]"),
    "arabic": re.compile(
        "[\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufefc]"
    ),
    "cyrillic": re.compile("[\u0400-\u04ff]"),
    "greek": re.compile("[\u0370-\u03ff]"),
    "hebrew": re.compile("[\u05d0-\u05ea]"),
    "devanagari": re.compile("[\u0900-\u097f]"),
    "bengali": re.compile("[\u0980-\u09ff]"),
    "thai": re.compile("[\u0e00-\u0e7f]"),
    "hangul": re.compile("[\uac00-\ud7af\u1100-\u11ff]"),
    "kana": re.compile("[\u3040-\u30ff]"),
    "han": re.compile("[\u4e00-\u9fff]"),
}


_ASCII_LETTERS = re.compile("[A-Za-z]")


def without_handles_and_links(text: str) -> str:
    """`text` without @handles, e-mail addresses and links; '#' and '_' become spaces.

    They are not language. Split on whitespace rather than use a regex for "non-blanks, '@',
    non-blanks", which backtracks over every word of every text looking for the '@'.
    """
    if "@" in text or "http" in text or "www." in text:
        text = " ".join(
            w for w in text.split() if "@" not in w and not w.startswith(("http", "www."))
        )
    return text.replace("#", " ").replace("_", " ")


def dominant_script(text: str) -> tuple[str | None, int]:
    """The script most letters of `text` are in, and how many letters were counted.

    Japanese mixes kana and Han; any kana at all makes it "kana" so it is not taken for Chinese.
    """
    if text.isascii():  # most texts: one C-speed check instead of eleven scans
        letters = len(_ASCII_LETTERS.findall(text))
        return ("latin" if letters else None), letters
    counts = {name: len(rx.findall(text)) for name, rx in _SCRIPT_RES.items()}
    total = sum(counts.values())
    if total == 0:
        return None, 0
    if counts["kana"]:
        return "kana", total
    name = max(counts, key=counts.__getitem__)
    return name, total

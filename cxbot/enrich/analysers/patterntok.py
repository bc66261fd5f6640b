"""pattern's find_tokens and Sentiment.assessments (textblob 0.18-0.20, textblob/_text.py), faster.

TextBlob's sentiment spends most of its time splitting the text into tokens and scanning the
emoticon table. This is the same algorithm, step for step, with the work skipped where it
provably changes nothing:

* the seven contraction rules are literal strings, so `str.replace` does what `re.sub` did;
* `\\s` in `re` is exactly `str.isspace`, so collapsing whitespace and `(\\S+)\\s` over the text
  plus a space is `str.split()`;
* a token that neither starts with punctuation nor ends with punctuation or a period goes
  through pattern's two loops untouched, so it is appended directly;
* without a sentence-ending token the sentence loop yields the token list unchanged, and the
  sarcasm rule needs a "!";
* `assessments` looked each short non-word token up by lower-casing every emoticon of every
  mood; here that lookup is a dict built once (first mood wins, as in pattern's loop).

test_enrich_lexicon_speedups.py compares the output with textblob's own tokenizer on our
sentences and on random strings of words, punctuation, quotes, abbreviations and emoticons.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from textblob import _text as pattern

_PUNCT = tuple(pattern.PUNCTUATION.replace(".", ""))
_PUNCT_FIRST = frozenset(_PUNCT)
_PUNCT_LAST = frozenset((*_PUNCT, "."))
_PUNCT_OR_PERIOD = (*_PUNCT, ".")
_REPLACE: dict[str, str] = dict(pattern.replacements)
_EOS = pattern.EOS
_ENDS = frozenset(("...", ".", "!", "?", _EOS))
_CLOSERS = ("'", '"', "\u201d", "\u2019", "...", ".", "!", "?", ")", _EOS)


def _is_abbreviation(t: str) -> bool:
    return (
        t in pattern.ABBREVIATIONS
        or pattern.RE_ABBR1.match(t) is not None
        or pattern.RE_ABBR2.match(t) is not None
        or pattern.RE_ABBR3.match(t) is not None
    )


def _split_punctuation(t: str, tokens: list[str]) -> None:
    """pattern's per-token loops, unchanged, for tokens with punctuation at an end."""
    tail: list[str] = []
    while t.startswith(_PUNCT) and t not in _REPLACE:
        tokens.append(t[0])
        t = t[1:]
    while t.endswith(_PUNCT_OR_PERIOD) and t not in _REPLACE:
        if t.endswith(_PUNCT):
            tail.append(t[-1])
            t = t[:-1]
        if t.endswith("..."):
            tail.append("...")
            t = t[:-3].rstrip(".")
        if t.endswith("."):
            if _is_abbreviation(t):
                break
            tail.append(t[-1])
            t = t[:-1]
    if t != "":
        tokens.append(t)
    tokens.extend(reversed(tail))


def find_tokens(string: str) -> list[str]:
    """Sentences of space-separated tokens, as textblob.en.parser.find_tokens returns them."""
    string = str(string)
    for a, b in _REPLACE.items():
        string = string.replace(a, b)
    string = (
        string.replace("\u201c", " \u201c ")
        .replace("\u201d", " \u201d ")
        .replace("\u2018", " \u2018 ")
        .replace("\u2019", " \u2019 ")
        .replace("'", " ' ")
        .replace('"', ' " ')
    )
    if "\n" in string:
        string = string.replace("\r\n", "\n")
        string = re.sub(r"\n{2,}", f" {_EOS} ", string)
    tokens: list[str] = []
    for t in string.split():
        if t[0] in _PUNCT_FIRST or t[-1] in _PUNCT_LAST:
            _split_punctuation(t, tokens)
        else:
            tokens.append(t)
    if _ENDS.isdisjoint(tokens):
        sentences = [tokens] if tokens else []
    else:
        sentences = _sentences(tokens)
    joined = (" ".join(s) for s in sentences)
    joined = (pattern.RE_SARCASM.sub("(!)", s) if "!" in s else s for s in joined)
    return [
        pattern.RE_EMOTICONS.sub(lambda m: m.group(1).replace(" ", "") + m.group(2), s)
        for s in joined
    ]


def _sentences(tokens: list[str]) -> list[list[str]]:
    """pattern's sentence loop, unchanged."""
    sentences: list[list[str]] = [[]]
    i = j = 0
    while j < len(tokens):
        if tokens[j] in _ENDS:
            while j < len(tokens) and tokens[j] in _CLOSERS:
                if tokens[j] in ("'", '"') and sentences[-1].count(tokens[j]) % 2 == 0:
                    break  # balanced quotes
                j += 1
            sentences[-1].extend(t for t in tokens[i:j] if t != _EOS)
            sentences.append([])
            i = j
        j += 1
    sentences[-1].extend(tokens[i:j])
    return [s for s in sentences if len(s) > 0]


# pattern's emoticon check lower-cases every emoticon of every mood for each short non-word
# token; this is the same first-mood-wins lookup, built once.
_EMOTICON_POLARITY: dict[str, float] = {}
for (_mood, _polarity), _faces in pattern.EMOTICONS.items():
    for _face in _faces:
        _EMOTICON_POLARITY.setdefault(_face.lower(), _polarity)


def assessments(
    self: Any, words: Iterable[tuple[str | None, str | None]] | None = None, negation: bool = True
) -> list[tuple[list[str], float, float, str | None]]:
    """pattern's Sentiment.assessments, unchanged but for the emoticon lookup above."""
    if words is None:
        words = []
    a: list[dict[str, Any]] = []
    m: tuple[str, str | None] | None = None  # preceding modifier
    n: str | None = None  # preceding negation
    for w, pos in words:
        if w is None:
            continue
        if w in self and pos in self[w]:
            p, s, i = self[w][pos]
            if m is None:
                a.append(dict(w=[w], p=p, s=s, i=i, n=1, x=self.labeler.get(w)))
            if m is not None:
                a[-1]["w"].append(w)
                a[-1]["p"] = max(-1.0, min(p * a[-1]["i"], +1.0))
                a[-1]["s"] = max(-1.0, min(s * a[-1]["i"], +1.0))
                a[-1]["i"] = i
                a[-1]["x"] = self.labeler.get(w)
            if n is not None:
                a[-1]["w"].insert(0, n)
                a[-1]["i"] = 1.0 / a[-1]["i"]
                a[-1]["n"] = -1
            m = None
            n = None
            if pos and pos in self.modifiers or any(map(self[w].__contains__, self.modifiers)):
                m = (w, pos)
            if negation and w in self.negations:
                n = w
        else:
            if negation and w in self.negations:
                n = w
            elif n and len(w.strip("'")) > 1:
                n = None
            if n is not None and m is not None and (pos in self.modifiers or self.modifier(m[0])):
                a[-1]["w"].append(n)
                a[-1]["n"] = -1
                n = None
            elif m and len(w) > 2:
                m = None
            if w == "!" and len(a) > 0:
                a[-1]["w"].append("!")
                a[-1]["p"] = max(-1.0, min(a[-1]["p"] * 1.25, +1.0))
            if w == "(!)":
                a.append(dict(w=[w], p=0.0, s=1.0, i=1.0, n=1, x=pattern.IRONY))
            if w.isalpha() is False and len(w) <= 5 and w not in pattern.PUNCTUATION:
                face = _EMOTICON_POLARITY.get(w)
                if face is not None:
                    a.append(dict(w=[w], p=face, s=1.0, i=1.0, n=1, x=pattern.MOOD))
    return [(d["w"], d["p"] * -0.5 if d["n"] < 0 else d["p"], d["s"], d["x"]) for d in a]

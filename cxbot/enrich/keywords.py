"""Keyword lists -> an index matched on folded text (textnorm.fold) in one pass over its words.

The matching rules are documented at the top of config/topics.toml; this is their code.

Why an index and not one big regex per group: Python's `re` cannot skip ahead when every
alternative starts with a word-edge assertion, so 300 keywords cost ~2 ms per text. Here the
text is split into words once; each word is looked up by its exact form and by its prefixes,
and only keywords of several words run an anchored regex to check the words that follow.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from cxbot.enrich.textnorm import fold

_VOWELS = "aeiou"
# A keyword of this many letters or more also matches longer words in suffixing languages.
PREFIX_MIN_LETTERS = 4
_WORD = re.compile(r"\w+")
K = TypeVar("K", bound=Hashable)


def english_forms(word: str) -> set[str]:
    """`word` and its regular English inflections (plural, -ed, -ing, 3rd person).

    Over-generation ("refundes") is harmless: such strings never occur. Under-generation
    is what we avoid: charge -> charging (e dropped), ship -> shipped (consonant doubled),
    reply -> replied (y -> i).
    """
    if not word.isalpha():
        return {word}  # "2fa", "404": no inflection
    forms = {word, word + "s", word + "es", word + "ed", word + "d", word + "ing"}
    if len(word) > 2 and word.endswith("e"):
        forms.add(word[:-1] + "ing")
    if len(word) > 2 and word.endswith("y") and word[-2] not in _VOWELS:
        forms |= {word[:-1] + "ies", word[:-1] + "ied"}
    if (
        len(word) >= 3
        and word[-1] not in _VOWELS + "wxy"
        and word[-2] in _VOWELS
        and word[-3] not in _VOWELS
    ):
        forms |= {word + word[-1] + "ed", word + word[-1] + "ing"}
    return forms


@dataclass(frozen=True)
class _Word:
    """How one word of a keyword matches a word of the text."""

    forms: frozenset[str]  # exact forms, or the one prefix when `prefix`
    prefix: bool

    def regex(self) -> str:
        if self.prefix:
            return re.escape(next(iter(self.forms))) + r"\w*"
        alts = sorted(self.forms, key=len, reverse=True)  # longest first, before the edge check
        return "(?:" + "|".join(re.escape(f) for f in alts) + ")"


def parse_keyword(keyword: str, lang: str) -> list[_Word] | str:
    """The words of a plain keyword, or the regex source of a `re:` keyword."""
    raw = keyword.strip()
    if raw.startswith("re:"):
        re.compile(raw[3:])  # raises re.error for the caller to report
        return raw[3:]
    exact = raw.startswith("=")
    star = raw.endswith("*")
    words = _WORD.findall(fold(raw.strip("=*")))
    if not words:
        raise ValueError(f"keyword {keyword!r} has no letters or digits")
    out = []
    for i, word in enumerate(words):
        last = i == len(words) - 1
        if last and star:
            out.append(_Word(frozenset([word]), True))
        elif exact:
            out.append(_Word(frozenset([word]), False))
        elif lang == "en":
            # Phrasal verbs inflect their first word ("logged in"), nouns their last: do both.
            out.append(_Word(frozenset(english_forms(word)), False))
        elif last and len(word) >= PREFIX_MIN_LETTERS:
            out.append(_Word(frozenset([word]), True))
        else:
            out.append(_Word(frozenset([word]), False))
    return out


class KeywordIndex(Generic[K]):
    """Which groups' keywords occur in a folded text. Groups are any hashable keys."""

    def __init__(self, groups: Iterable[tuple[K, Iterable[tuple[str, Iterable[str]]]]]) -> None:
        # first word -> [(group, anchored regex for the rest, or None for one-word keywords)]
        self._exact: dict[str, list[tuple[K, re.Pattern[str] | None]]] = {}
        prefixes: dict[str, list[tuple[K, re.Pattern[str] | None]]] = {}
        self._regexes: list[tuple[K, re.Pattern[str]]] = []
        for key, lists in groups:
            for lang, keywords in lists:
                for keyword in keywords:
                    self._add(key, parse_keyword(keyword, lang), prefixes)
        # Prefix keywords are filed under their first `_head` letters: one dict lookup per word
        # of the text, then a startswith() per keyword filed there.
        self._head = min((len(p) for p in prefixes), default=1)
        self._prefix: dict[str, list[tuple[str, K, re.Pattern[str] | None]]] = {}
        for prefix, entries in prefixes.items():
            bucket = self._prefix.setdefault(prefix[: self._head], [])
            bucket.extend((prefix, key, tail) for key, tail in entries)

    def _add(
        self,
        key: K,
        parsed: list[_Word] | str,
        prefixes: dict[str, list[tuple[K, re.Pattern[str] | None]]],
    ) -> None:
        if isinstance(parsed, str):
            self._regexes.append((key, re.compile(parsed)))
            return
        first, rest = parsed[0], parsed[1:]
        tail = None
        if rest:
            # Anchored at the first word's start; the separator is any non-word run, so
            # "two-factor", "two factor" and "don't" / "don t" all match.
            source = first.regex() + "".join(r"\W+" + w.regex() for w in rest) + r"(?!\w)"
            tail = re.compile(source)
        table = prefixes if first.prefix else self._exact
        for form in first.forms:
            table.setdefault(form, []).append((key, tail))

    def groups_in(self, folded: str) -> set[K]:
        found: set[K] = set()
        head = self._head
        for m in _WORD.finditer(folded):
            word = m.group()
            for key, tail in self._exact.get(word, ()):
                if key not in found and (tail is None or tail.match(folded, m.start())):
                    found.add(key)
            for prefix, key, tail in self._prefix.get(word[:head], ()):
                if (
                    key not in found
                    and word.startswith(prefix)
                    and (tail is None or tail.match(folded, m.start()))
                ):
                    found.add(key)
        for key, rx in self._regexes:
            if key not in found and rx.search(folded):
                found.add(key)
        return found

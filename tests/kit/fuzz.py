"""Hypothesis strategies for "any JSON parses or is a 400" tests.

`json_values(keys)` is `st.recursive` over scalar leaves with lists and dictionaries as the
containers. The extend step is a `functools.partial` of a module-level function, not a lambda:
hypothesis checks that extend uses its argument by reading the lambda's source with `inspect`,
and that reads the file as it is on disk *now* at the line the code object was compiled from.
A test file edited while the suite runs (lines shifted) makes it read an unrelated line and raise
"HypothesisDeprecationWarning: extend=... doesn't use it's argument", an error in this suite. A
partial has no source to read, so the check cannot misfire.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

FLOATS: SearchStrategy[float] = st.floats()
FINITE = st.floats(allow_nan=False)  # inf still allowed: json.dumps writes it as Infinity


def scalars(
    text_size: int = 10,
    *,
    floats: SearchStrategy[float] | None = FLOATS,
    extra: Sequence[str] = (),
) -> SearchStrategy[Any]:
    """None, booleans, integers, floats (unless None), text up to `text_size`, and `extra`."""
    parts: list[SearchStrategy[Any]] = [st.none(), st.booleans(), st.integers()]
    if floats is not None:
        parts.append(floats)
    parts.append(st.text(max_size=text_size))
    if extra:
        parts.append(st.sampled_from(list(extra)))
    return st.one_of(parts)


def _containers(
    children: SearchStrategy[Any],
    *,
    keys: SearchStrategy[str],
    max_list: int,
    max_dict: int,
) -> SearchStrategy[Any]:
    return st.lists(children, max_size=max_list) | st.dictionaries(
        keys, children, max_size=max_dict
    )


def json_values(
    keys: Sequence[str] | SearchStrategy[str] | None = None,
    *,
    leaves: SearchStrategy[Any] | None = None,
    max_list: int = 3,
    max_dict: int = 3,
    max_leaves: int = 15,
) -> SearchStrategy[Any]:
    """Nested JSON values. `keys`: the dictionary keys, a list (drawn from) or a strategy;
    by default short text. `leaves`: by default `scalars()`."""
    if keys is None:
        keys = st.text(max_size=6)
    elif not isinstance(keys, SearchStrategy):
        keys = st.sampled_from(list(keys))
    extend = partial(_containers, keys=keys, max_list=max_list, max_dict=max_dict)
    return st.recursive(scalars() if leaves is None else leaves, extend, max_leaves=max_leaves)

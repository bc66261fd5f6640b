"""Mutations of a JSON fixture, for the adapters' "every change parses or is a 400" tests."""

from __future__ import annotations

import copy
from typing import Any

DELETE = object()  # in WEIRD: remove the key instead of replacing its value
WEIRD: list[Any] = [DELETE, None, True, 0, -1, 1e308, 2**70, "", "x", [], [1, "a"], {}, {"a": 1}]


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key/index path inside a JSON value."""
    found = [prefix] if prefix else []
    if isinstance(value, dict | list):
        children = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in children:
            found += paths(child, (*prefix, key))
    return found


def replaced(data: Any, path: tuple[Any, ...], new: Any) -> Any:
    out = copy.deepcopy(data)
    cur = out
    for key in path[:-1]:
        cur = cur[key]
    if new is DELETE:
        del cur[path[-1]]
    else:
        cur[path[-1]] = new
    return out

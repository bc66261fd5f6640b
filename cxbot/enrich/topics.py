"""The topic and urgency taxonomy: TOML files -> compiled keyword groups -> matches.

The file format is documented at the top of config/topics.toml. A second (user) file extends
or replaces groups of the first; see `merge`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cxbot.enrich.keywords import KeywordIndex, parse_keyword
from cxbot.errors import ConfigError

_NAME = re.compile(r"^[a-z0-9_]+$")
_LANG = re.compile(r"^[a-z]{2}$")
_SECTIONS = ("topics", "urgency")


@dataclass
class Group:
    """One topic or urgency group as read from TOML (before compiling)."""

    name: str
    keywords: dict[str, list[str]] = field(default_factory=dict)  # language -> keywords
    level: int | None = None  # urgency groups only
    description: str = ""


Groups = dict[str, dict[str, Group]]  # section -> name -> group


def _fail(path: Path, where: str, message: str) -> ConfigError:
    return ConfigError(f"{path}: [{where}] {message}")


def _parse_group(path: Path, section: str, name: str, table: Any) -> tuple[Group, bool, bool]:
    """(group, replace, enabled) from one [section.name] table, validated."""
    where = f"{section}.{name}"
    if not _NAME.match(name):
        raise _fail(path, where, "names are lower-case letters, digits and underscores")
    if not isinstance(table, dict):
        raise _fail(path, where, "must be a table")
    group = Group(name)
    replace, enabled = False, True
    for key, value in table.items():
        if key == "description" and isinstance(value, str):
            group.description = value
        elif key == "replace" and isinstance(value, bool):
            replace = value
        elif key == "enabled" and isinstance(value, bool):
            enabled = value
        elif key == "level" and section == "urgency":
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 3:
                raise _fail(path, where, "level must be 1, 2 or 3")
            group.level = value
        elif _LANG.match(key):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise _fail(path, where, f"{key} must be a list of strings")
            for keyword in value:
                try:
                    parse_keyword(keyword, key)
                except (re.error, ValueError) as exc:
                    raise _fail(path, where, f"bad keyword {keyword!r}: {exc}") from None
            group.keywords[key] = list(value)
        else:
            raise _fail(
                path,
                where,
                f"unknown key {key!r} (expected description, replace, enabled,"
                f"{' level,' if section == 'urgency' else ''} or a 2-letter language code)",
            )
    return group, replace, enabled


def read_file(path: Path) -> dict[str, dict[str, tuple[Group, bool, bool]]]:
    """Every group of one taxonomy file, with its replace/enabled flags."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: taxonomy file not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read taxonomy: {exc}") from None
    unknown = set(doc) - set(_SECTIONS)
    if unknown:
        raise ConfigError(
            f"{path}: unknown tables {sorted(unknown)}; expected [topics.*], [urgency.*]"
        )
    out: dict[str, dict[str, tuple[Group, bool, bool]]] = {}
    for section in _SECTIONS:
        tables = doc.get(section, {})
        if not isinstance(tables, dict):
            raise ConfigError(f"{path}: [{section}] must hold tables like [{section}.name]")
        out[section] = {n: _parse_group(path, section, n, t) for n, t in tables.items()}
    return out


def merge(base: Groups, extra: dict[str, dict[str, tuple[Group, bool, bool]]], path: Path) -> None:
    """Apply a user file over `base` in place: extend, replace or remove groups."""
    for section, groups in extra.items():
        target = base.setdefault(section, {})
        for name, (group, replace, enabled) in groups.items():
            if not enabled:
                target.pop(name, None)
                continue
            old = target.get(name)
            if old is None or replace:
                target[name] = group
                continue
            for lang, keywords in group.keywords.items():
                have = old.keywords.setdefault(lang, [])
                have.extend(k for k in keywords if k not in have)
            old.level = group.level if group.level is not None else old.level
            old.description = group.description or old.description
    _check_levels(base, path)


def _check_levels(groups: Groups, path: Path) -> None:
    for name, group in groups.get("urgency", {}).items():
        if group.level is None:
            raise ConfigError(f"{path}: [urgency.{name}] needs a level (1..3)")


def load_groups(main: Path, extra: Path | None = None) -> Groups:
    """The main file's groups, with the user's file (if any) merged over them."""
    groups: Groups = {
        section: {name: group for name, (group, _, enabled) in tables.items() if enabled}
        for section, tables in read_file(main).items()
    }
    _check_levels(groups, main)
    if extra is not None:
        merge(groups, read_file(extra), extra)
    return groups


class Taxonomy:
    """Compiled groups. `topics(folded)` and `urgency(folded)` take textnorm.fold(text)."""

    def __init__(self, groups: Groups) -> None:
        topics = groups.get("topics", {})
        urgency = groups.get("urgency", {})
        self._levels = {name: group.level or 0 for name, group in urgency.items()}
        self._index: KeywordIndex[tuple[str, str]] = KeywordIndex(
            [(("topics", name), g.keywords.items()) for name, g in topics.items()]
            + [(("urgency", name), g.keywords.items()) for name, g in urgency.items()]
        )
        self.topic_names: tuple[str, ...] = tuple(
            sorted(name for name, g in topics.items() if any(g.keywords.values()))
        )

    @classmethod
    def from_files(cls, main: Path, extra: Path | None = None) -> Taxonomy:
        return cls(load_groups(main, extra))

    def match(self, folded: str) -> tuple[list[str], int]:
        """(sorted topic names, highest urgency level of the cues found) in one pass."""
        topics: list[str] = []
        level = 0
        for section, name in self._index.groups_in(folded):
            if section == "topics":
                topics.append(name)
            else:
                level = max(level, self._levels[name])
        return sorted(topics), level

    def topics(self, folded: str) -> list[str]:
        return self.match(folded)[0]

    def urgency(self, folded: str) -> int:
        return self.match(folded)[1]

"""The docs keep up with the code: every config key, CLI verb and `/cx` verb is documented."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel

from cxbot.cli import main
from cxbot.config import FileConfig
from cxbot.cx.grammar import VERBS

ROOT = Path(__file__).resolve().parent.parent


def keys(model: type[BaseModel]) -> set[str]:
    found: set[str] = set()
    for name, field in model.model_fields.items():
        found.add(name)
        ann = field.annotation
        for candidate in (ann, *getattr(ann, "__args__", ())):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                found |= keys(candidate)
    return found


def test_every_config_key_is_in_configuration_md() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text()
    forms = ("`{}`", "`[{}]`", "`[[{}]]`", "`[{}.")
    missing = sorted(k for k in keys(FileConfig) if not any(f.format(k) in doc for f in forms))
    assert missing == []


def test_every_cli_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()

    def names(group: click.Group, prefix: str = "cxbot") -> list[str]:
        out = []
        for name, cmd in group.commands.items():
            if isinstance(cmd, click.Group):
                out += names(cmd, f"{prefix} {name}")
            else:
                out.append(f"{prefix} {name}")
        return out

    assert sorted(n for n in names(main) if f"`{n}" not in readme) == []


def test_every_cx_verb_is_in_commands_md() -> None:
    doc = (ROOT / "docs" / "commands.md").read_text()
    assert sorted(v for v in VERBS if f"/cx {v}" not in doc) == []


def test_every_source_type_is_in_sources_md() -> None:
    from cxbot.sources import POLLERS, provider_names

    doc = (ROOT / "docs" / "sources.md").read_text()
    assert sorted(t for t in [*provider_names(), *POLLERS] if f"`{t}`" not in doc) == []


def documented_defaults() -> dict[tuple[str, str], Any]:
    """(section, key) → the default docs/configuration.md gives, where it is a TOML value."""
    found: dict[tuple[str, str], Any] = {}
    section = ""
    for line in (ROOT / "docs" / "configuration.md").read_text().splitlines():
        heading = re.fullmatch(r"## (?:`\[(\w+)\]`|Top level)", line)
        if line.startswith("## "):
            section = (heading.group(1) or "") if heading else "-"
        row = re.match(r"\| `(\w+)` \| `([^`]+)` \|", line)
        if row and section != "-":
            try:
                found[(section, row.group(1))] = tomllib.loads(f"v = {row.group(2)}")["v"]
            except tomllib.TOMLDecodeError:
                pass
    return found


def test_shipped_config_code_and_docs_agree_on_defaults() -> None:
    # A newcomer reads one default in the docs; the code and the shipped file must not differ.
    code = FileConfig().model_dump()
    shipped = tomllib.loads((ROOT / "config" / "cxbot.toml").read_text())
    documented = documented_defaults()
    assert len(documented) > 30
    for (section, key), value in documented.items():
        in_code = code[section][key] if section else code[key]
        assert in_code == value, f"{section or 'top level'}.{key}: code {in_code!r}, docs {value!r}"
        table = shipped.get(section, {}) if section else shipped
        if key in table and not isinstance(table[key], dict | list):
            assert table[key] == value, f"config/cxbot.toml {section}.{key}: {table[key]!r}"

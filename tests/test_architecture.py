"""The tree is the diagram: rules on the package layout that keep it so (docs/architecture.md).

- at most 12 modules at the top of `cxbot/`, no module over 450 lines, no import cycle;
- SQL text only in `store/` and in each package's one data-access module;
- the pure stages never import the store or open a connection.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cxbot"
STAGES = ("listener", "sources", "store", "enrich", "alerts", "outbox", "slack", "cx", "digest",
          "dashboard")  # fmt: skip
# Each package's one module allowed to hold SQL text (store/ holds SQL throughout).
DATA_ACCESS = {
    "cxbot.enrich.rows",
    "cxbot.alerts.records",
    "cxbot.outbox.rows",
    "cxbot.cx.queries",
    "cxbot.digest.queries",
    "cxbot.digest.records",
    "cxbot.poll.records",
    "cxbot.privacy.records",
    "cxbot.replies.records",
}
# Modules that are plain functions over plain data.
PURE = ("cxbot.sources", "cxbot.enrich.analysers", "cxbot.alerts.rules", "cxbot.alerts.sla",
        "cxbot.metrics",
        "cxbot.periods", "cxbot.slack.blocks", "cxbot.slack.fmt", "cxbot.slack.text",
        "cxbot.models", "cxbot.slack.reply_view", "cxbot.replies.base", "cxbot.replies.options",
        "cxbot.replies.zendesk", "cxbot.replies.intercom", "cxbot.replies.helpscout",
        "cxbot.replies.trustpilot", "cxbot.replies.app_store", "cxbot.replies.google_play",
        "cxbot.replies.google_business")  # fmt: skip
SQL = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b",
                 re.S)  # fmt: skip


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The cxbot modules `name` imports (a package counts when a name is not a submodule)."""
    tree = ast.parse(path.read_text())
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in MODULES}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{a.name}" for a in node.names} & MODULES.keys()
            out |= subs
            if len(subs) < len(node.names) and node.module in MODULES:
                out.add(node.module)
    out.discard(name)
    return out


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def test_the_top_level_is_small_and_every_stage_is_a_package() -> None:
    top = sorted(
        p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")
    )
    assert len(top) <= 12, top
    for stage in STAGES:
        assert (PACKAGE / stage / "__init__.py").exists(), stage


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_over_450_lines(name: str) -> None:
    assert len(MODULES[name].read_text().splitlines()) <= 450


def test_there_is_no_import_cycle() -> None:
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name)
    assert cycles == []


def test_sql_lives_in_the_store_and_one_data_access_module_per_package() -> None:
    def strings(path: Path) -> list[str]:
        tree = ast.parse(path.read_text())
        return [
            n.value
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        ]

    holders = {
        name
        for name, path in MODULES.items()
        if any(SQL.search(s) for s in strings(path)) and not name.startswith("cxbot.store")
    }
    assert holders <= DATA_ACCESS, sorted(holders - DATA_ACCESS)
    per_package = defaultdict(list)
    for name in holders:
        per_package[name.split(".")[1]].append(name)
    # digest/ keeps two: its reads (queries) and its own table's records.
    assert all(len(v) == 1 for k, v in per_package.items() if k != "digest"), per_package


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith(PURE)))
def test_pure_modules_do_not_touch_the_store(name: str) -> None:
    reached = {m for m in GRAPH[name] if m.startswith("cxbot.store")}
    assert reached == set()
    assert "sqlite_utils" not in MODULES[name].read_text()

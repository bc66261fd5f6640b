"""Fixtures: config files in tmp_path, the real app on a loopback port, the fake Slack."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # test modules import helpers by plain name

from fakeslack import fake_slack_fixture  # noqa: E402,F401
from support import BASE_TOML, WEB_SECRET, Server, serving  # noqa: E402

from cxbot.config import Settings, load_settings  # noqa: E402


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    def write(extra: str = "", *, base: bool = True) -> Path:
        path = tmp_path / "cxbot.toml"
        text = (BASE_TOML.format(db=tmp_path / "cxbot.db") if base else "") + extra
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def env() -> dict[str, str]:
    return {"CXBOT_WEB_SECRET": WEB_SECRET}


@pytest.fixture
def settings(write_config: Callable[..., Path], env: dict[str, str]) -> Settings:
    return load_settings(write_config(""), env)


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[Server]:
    async with serving(settings) as server:
        yield server

"""Fixtures: config files in tmp_path, settings made from them, the real app on a loopback port,
the fake Slack, and `blockbuster` for the tests that run the app in-process.

The helpers behind them live in tests/kit (`from tests.kit.support import …`).
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path

import pytest
import pytest_asyncio

from cxbot.config import Settings
from tests.kit.blocking import blockbuster_for_cxbot
from tests.kit.fakeslack import FakeSlack
from tests.kit.postgres import Cluster, Databases, Engine, start_cluster
from tests.kit.support import (
    BASE_TOML,
    WEB_SECRET,
    MakeSettings,
    Server,
    serving,
    settings_from,
    slack_env,
)


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """write_config(extra, base=True): tmp_path/cxbot.toml, BASE_TOML (its db in tmp_path) + extra."""

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
def make_settings(write_config: Callable[..., Path], env: dict[str, str]) -> MakeSettings:
    """make_settings(extra, env=None): Settings from BASE_TOML + extra, with `env` (by default
    the `env` fixture: the web source's secret)."""

    def make(extra: str = "", env_: Mapping[str, str] | None = None) -> Settings:
        return settings_from(write_config(extra), env if env_ is None else env_)

    return make


@pytest.fixture
def settings(make_settings: MakeSettings) -> Settings:
    return make_settings()


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[Server]:
    async with serving(settings) as server:
        yield server


@pytest_asyncio.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A started FakeSlack with #cx-alerts (C0001) and #cx-weekly (C0002)."""
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def slack_settings(make_settings: MakeSettings, fake_slack: FakeSlack) -> MakeSettings:
    """slack_settings(extra): settings whose Slack is the `fake_slack` server."""

    def make(extra: str = "") -> Settings:
        return make_settings(extra, slack_env(fake_slack))

    return make


@pytest.fixture
def blockbuster() -> Iterator[list[str]]:
    """Blocking calls made on the event loop by cxbot fail the test at teardown, each with its
    stack (tests/kit/blocking.py). The flow tests that run the app in-process use it:
    `pytestmark = pytest.mark.usefixtures("blockbuster")`, set up first and torn down last, so
    the app's start and stop are watched too."""
    with blockbuster_for_cxbot() as findings:
        yield findings
    if findings:
        pytest.fail("blocking calls on the event loop:\n" + "\n".join(findings), pytrace=False)


# --- engines: the storage-touching tests run on SQLite and on PostgreSQL ---------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--engine",
        choices=("sqlite", "postgres", "both"),
        default="both",
        help="storage engine(s) for the tests that take the `engine` fixture (default both)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--engine")
        names = ["sqlite", "postgres"] if chosen == "both" else [chosen]
        metafunc.parametrize("engine", names, indirect=True)


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[Databases]:
    """The session's PostgreSQL cluster (started on first use). Skipped with the reason when
    it cannot start, except under CI=true, where CI must run the PostgreSQL tests."""
    import os

    cluster: Cluster | None = None
    try:
        cluster = start_cluster()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and could not start: {exc}")
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    try:
        yield Databases(cluster)
    finally:
        cluster.stop()


@pytest.fixture
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """`engine` is parametrised by `--engine`: a fresh database on each engine."""
    if request.param == "postgres":
        databases: Databases = request.getfixturevalue("pg_databases")
        made = Engine("postgres", tmp_path / "cxbot.db", databases.fresh(), databases)
    else:
        made = Engine("sqlite", tmp_path / "cxbot.db")
    yield made
    made.close_all()


@pytest.fixture
def pg_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh PostgreSQL database, for the tests about PostgreSQL alone (replicas)."""
    if request.config.getoption("--engine") == "sqlite":
        pytest.skip("PostgreSQL-only test; --engine sqlite")
    pg_databases: Databases = request.getfixturevalue("pg_databases")
    made = Engine("postgres", tmp_path / "cxbot.db", pg_databases.fresh(), pg_databases)
    yield made
    made.close_all()

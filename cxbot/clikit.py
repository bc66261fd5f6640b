"""What every `cxbot` verb shares: the --config option and loading settings or exiting."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from cxbot.config import Settings, load_settings
from cxbot.errors import ConfigError

F = TypeVar("F", bound=Callable[..., Any])


def config_option(fn: F) -> F:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Config file (default: $CXBOT_CONFIG, else config/cxbot.toml).",
    )(fn)


def settings_or_exit(config_path: Path | None) -> Settings:
    try:
        return load_settings(config_path)
    except ConfigError as exc:
        click.echo(f"cxbot: config error:\n{exc}", err=True)
        sys.exit(2)

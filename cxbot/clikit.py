"""What every `cxbot` verb shares: the --config option and loading settings or exiting."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
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


class PollProgress:
    """`cxbot poll`'s progress on stderr. Given `--since`, the span back to that time is known,
    so a bar shows how far back each source's walk has come (pages come newest first); without
    it the provider's history has no known length, so a count and the date reached are shown."""

    def __init__(self, since: datetime | None, sources: int) -> None:
        self.since = since
        self.now = datetime.now(UTC)
        self.span = max(1, int((self.now - since).total_seconds())) if since else 0
        self.read: dict[str, int] = {}
        self.reached: dict[str, int] = {}
        self.bar: Any = None
        if since is not None:
            self.bar = click.progressbar(
                length=self.span * sources, label=f"poll back to {since:%Y-%m-%d}", file=sys.stderr
            )

    def __enter__(self) -> PollProgress:
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)
        elif self.read:
            click.echo("", err=True)

    def __call__(self, source: str, n: int, oldest: datetime | None) -> None:
        self.read[source] = self.read.get(source, 0) + n
        if self.bar is not None:
            back = int((self.now - oldest).total_seconds()) if oldest else 0
            done = min(self.span, max(self.reached.get(source, 0), back))
            self.bar.update(done - self.reached.get(source, 0))
            self.reached[source] = done
            return
        when = f", back to {oldest:%Y-%m-%d}" if oldest else ""
        click.echo(f"\r{source}: {self.read[source]} review(s) read{when}  ", nl=False, err=True)

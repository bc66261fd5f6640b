"""The `cxbot` command line. Thin: load config, call the library, print. The only place that exits."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from .config import Settings, load_settings
from .errors import ConfigError
from .errors import HTTPError as CxbotHTTPError

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


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cxbot")
def main() -> None:
    """cxbot: customer-experience signals from every channel, stored durably and brought to Slack."""


@main.command()
@config_option
@click.option("--host", default=None, help="Interface to listen on (default from config: 0.0.0.0).")
@click.option("--port", type=int, default=None, help="Port (default: $PORT, else 8080).")
def serve(config_path: Path | None, host: str | None, port: int | None) -> None:
    """Run the listener, Slack endpoints and scheduler in one process."""
    from aiohttp import web

    from .app import create_app

    settings = settings_or_exit(config_path)
    setup_logging()
    app = create_app(settings)
    listen_host = host or settings.file.server.host
    listen_port = settings.port if port is None else port
    log = logging.getLogger("cxbot")
    log.info("database %s; sources: %s", settings.db_path, ", ".join(settings.sources) or "none")
    # run_app turns SIGTERM/SIGINT into a graceful stop: no new connections, the writer drains.
    web.run_app(app, host=listen_host, port=listen_port, access_log=None, print=None)
    log.info("stopped")


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("migrate")
@config_option
def db_migrate(config_path: Path | None) -> None:
    """Bring the database schema up to date."""
    from .store import connect, migrate

    settings = settings_or_exit(config_path)
    database = connect(settings.db_path)
    try:
        applied = migrate(database)
    finally:
        database.conn.close()
    if applied:
        click.echo(f"{settings.db_path}: applied {', '.join(applied)}")
    else:
        click.echo(f"{settings.db_path}: schema up to date")


def _numbered_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                yield number, line


@main.command()
@config_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--source",
    default="ingest",
    show_default=True,
    help="Source name the signals are stored under (the idempotency scope).",
)
def ingest(config_path: Path | None, file: Path, source: str) -> None:
    """Backfill from JSON Lines (one generic signal per line); idempotent."""
    from .ingest import ingest_lines

    settings = settings_or_exit(config_path)
    total = sum(1 for _ in _numbered_lines(file))
    with click.progressbar(length=total, label=f"ingest {file.name}", file=sys.stderr) as bar:
        report = ingest_lines(settings, _numbered_lines(file), source=source, progress=bar.update)
    click.echo(
        f"{report.accepted} accepted, {report.duplicates} duplicate, {len(report.rejected)} rejected"
        f" ({report.enriched} enriched)"
    )
    for number, message in report.rejected[:50]:
        click.echo(f"  line {number}: {message}", err=True)
    if len(report.rejected) > 50:
        click.echo(f"  … and {len(report.rejected) - 50} more rejected lines", err=True)
    if report.rejected:
        sys.exit(1)


@main.command("check-config")
@config_option
def check_config(config_path: Path | None) -> None:
    """Validate the config and print a redacted summary."""
    settings = settings_or_exit(config_path)
    summary = {
        "config": str(settings.path) if settings.path else "(defaults)",
        "database": str(settings.db_path),
        "timezone": settings.file.timezone,
        "port": settings.port,
        "slack": "token set" if settings.slack_token else "console (no SLACK_BOT_TOKEN)",
        "sources": {
            name: {
                "type": s.type,
                "verify": s.verify,
                "secret": "set" if s.secret else None,
                "token": "set" if s.token else None,
            }
            for name, s in settings.sources.items()
        },
        "alerts": [r.name for r in settings.file.alerts],
    }
    click.echo(json.dumps(summary, indent=2))


@main.command()
@config_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", "source_name", required=True, help="Source name from the config.")
@click.option(
    "--header",
    "headers",
    multiple=True,
    metavar="NAME:VALUE",
    help="A header the delivery came with (some adapters read the event type from one).",
)
def replay(
    config_path: Path | None, file: Path, source_name: str, headers: tuple[str, ...]
) -> None:
    """Push a saved delivery through the same path as a webhook, without the signature check.

    For debugging an integration: the signals are stored (deduplicated as usual), enriched,
    and their alerts owed, to be delivered by `cxbot serve`.
    """
    from .replay import replay_file

    settings = settings_or_exit(config_path)
    pairs: dict[str, str] = {}
    for h in headers:
        name, sep, value = h.partition(":")
        if not sep:
            raise click.BadParameter(f"{h!r} is not NAME:VALUE", param_hint="--header")
        pairs[name.strip().lower()] = value.strip()
    try:
        answer = replay_file(settings, source_name, file.read_bytes(), pairs)
    except CxbotHTTPError as exc:
        click.echo(f"cxbot: {exc.status} {json.dumps(exc.payload(), ensure_ascii=False)}", err=True)
        sys.exit(1)
    click.echo(json.dumps(answer, ensure_ascii=False))

"""The `cxbot` command line. Thin: load config, call the library, print. The only place that exits."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from cxbot.clikit import config_option, settings_or_exit
from cxbot.config import Settings
from cxbot.dashboard.commands import dashboard_link
from cxbot.errors import HTTPError as CxbotHTTPError
from cxbot.privacy.commands import customer, export_command


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

    from cxbot.app import create_app
    from cxbot.listener.startup import config_lines, exposure_lines, listening_line

    settings = settings_or_exit(config_path)
    setup_logging()
    listen_host = host or settings.file.server.host
    listen_port = settings.port if port is None else port
    log = logging.getLogger("cxbot")
    for level, line in config_lines(settings, Path.cwd()) + exposure_lines(settings, listen_host):
        log.log(level, "%s", line)
    app = create_app(settings)
    # run_app turns SIGTERM/SIGINT into a graceful stop: no new connections, the writer drains.
    web.run_app(
        app,
        host=listen_host,
        port=listen_port,
        access_log=None,
        # Called once the socket is bound: our one line instead of aiohttp's banner.
        print=lambda _banner: log.info("%s", listening_line(settings, listen_host, listen_port)),
        # Open requests get this long after SIGTERM; then the writer drains and we exit.
        shutdown_timeout=settings.file.server.shutdown_timeout_s,
    )
    log.info("stopped")


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("migrate")
@config_option
def db_migrate(config_path: Path | None) -> None:
    """Bring the database schema up to date."""
    from cxbot.store.pg import redacted
    from cxbot.store.writer import connect_for, migrate

    settings = settings_or_exit(config_path)
    url = settings.file.database.url
    where = redacted(url) if url else str(settings.db_path)
    database = connect_for(settings.db_path, settings.file.database)
    try:
        applied = migrate(database)
    finally:
        database.conn.close()
    if applied:
        click.echo(f"{where}: applied {', '.join(applied)}")
    else:
        click.echo(f"{where}: schema up to date")


@db.command("copy")
@config_option
@click.option("--to", "url", required=True, help="postgresql://… of an empty database")
def db_copy(config_path: Path | None, url: str) -> None:
    """Copy the SQLite database into a PostgreSQL one (idempotent; counts checked)."""
    from cxbot.store.copy import CopyError, copy_database, count_rows
    from cxbot.store.pg import redacted

    settings = settings_or_exit(config_path)
    if not url.startswith(("postgresql://", "postgres://")):
        raise click.BadParameter("expected a postgresql://… URL", param_hint="--to")
    try:
        total = count_rows(settings.db_path) if settings.db_path.exists() else 0
        with click.progressbar(length=total, label="copy", file=sys.stderr) as bar:
            copied = copy_database(settings.db_path, url, progress=bar.update)
    except CopyError as exc:
        click.echo(f"cxbot: {exc}", err=True)
        sys.exit(1)
    for c in copied:
        click.echo(f"{c.table}: {c.target} rows ({c.inserted} new)")
    click.echo(f"copied {settings.db_path} to {redacted(url)}; row counts match")


@db.command("vacuum")
@config_option
def db_vacuum(config_path: Path | None) -> None:
    """Return the space of deleted rows to the disk (SQLite; PostgreSQL's autovacuum does it)."""
    from cxbot.store.retention import checkpoint

    settings = settings_or_exit(config_path)
    if settings.file.database.url:
        return click.echo(
            "PostgreSQL: autovacuum reclaims space; run VACUUM FULL yourself to shrink"
        )
    click.echo(
        "{}: {} pages before, {} after".format(
            settings.db_path, *checkpoint(settings.db_path, vacuum=True)
        )
    )


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
    from cxbot.backfill import ingest_lines

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


@main.command()
@config_option
@click.argument("source", required=False)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="Read back to this date (UTC) now, without alerting; default: from the stored cursor.",
)
def poll(config_path: Path | None, source: str | None, since: Any) -> None:
    """Poll the sources without webhooks now (all, or SOURCE); idempotent."""
    from datetime import UTC

    from cxbot.backfill import poll_once
    from cxbot.clikit import PollProgress

    settings = settings_or_exit(config_path)
    if not settings.polls:
        click.echo("cxbot: no poll source in the config (see docs/sources.md)", err=True)
        sys.exit(2)
    start = since.replace(tzinfo=UTC) if since else None
    with PollProgress(start, len(settings.polls) if not source else 1) as progress:
        try:
            reports = poll_once(settings, [source] if source else [], start, progress=progress)
        except CxbotHTTPError as exc:
            click.echo(f"cxbot: {exc.message}", err=True)
            sys.exit(2)
    failed = False
    for name, report in reports:
        if report is None:
            click.echo(f"{name}: skipped (another process is polling it right now)")
            continue
        kind = "backfill, no alerts" if report.backfill else "new reviews alert"
        edits = f", {report.edited} edited" if report.edited else ""
        line = f"{name}: {report.accepted} new{edits}, {report.duplicates} duplicate, {report.pages} page(s) ({kind})"
        if report.skipped:
            line += f", {report.skipped} unreadable"
        click.echo(line + (f"; error: {report.error}" if report.error else ""))
        failed = failed or report.error is not None
    if failed:
        sys.exit(1)


def _database_label(settings: Settings) -> str:
    """The SQLite path, or the PostgreSQL URL without its password."""
    from cxbot.store.pg import redacted

    url = settings.file.database.url
    return redacted(url) if url else str(settings.db_path)


@main.command("check-config")
@config_option
def check_config(config_path: Path | None) -> None:
    """Validate the config and print a redacted summary (warnings on stderr)."""
    from cxbot.listener.startup import config_lines, database_label, exposure_lines

    settings = settings_or_exit(config_path)
    host = settings.file.server.host
    for level, line in config_lines(settings, Path.cwd()) + exposure_lines(settings, host):
        if level >= logging.WARNING:
            click.echo(f"cxbot: warning: {line}", err=True)
    summary = {
        "config": str(settings.path.resolve()) if settings.path else "(defaults)",
        "database": database_label(settings),
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
        "polls": {
            name: {"type": p.type, "interval_seconds": p.interval}
            for name, p in settings.polls.items()
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
    from cxbot.backfill import replay_file

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


@main.command()
@config_option
@click.option(
    "--print",
    "mode",
    flag_value="print",
    default=True,
    help="Write the digest as text to the terminal (default): no Slack, no database write.",
)
@click.option(
    "--send", "mode", flag_value="send", help="Record it and deliver it now, once per week."
)
@click.option("--week", metavar="YYYY-Www", help="ISO week, e.g. 2026-W47 (default: last week).")
@click.option("--channel", "channels", multiple=True, help="Only this digest channel (repeatable).")
def digest(
    config_path: Path | None, mode: str, week: str | None, channels: tuple[str, ...]
) -> None:
    """The weekly KPI digest: print it, or send it now (see docs/digest.md)."""
    import asyncio
    import sqlite3
    from datetime import UTC, datetime

    from cxbot.digest.build import Scope, WeekError, build_digest, digest_window, last_complete_week
    from cxbot.digest.job import DigestRunner, send_now
    from cxbot.digest.queries import collect
    from cxbot.digest.render import render_plain
    from cxbot.outbox.worker import OutboxWorker
    from cxbot.slack.sinks import Sink, sink_for
    from cxbot.store.writer import Store, connect_for, writer_for

    settings = settings_or_exit(config_path)
    config = settings.file.digest
    now = datetime.now(UTC)
    period = (week or last_complete_week(now, settings.tz)).strip().upper()
    try:
        window = digest_window(period, settings.tz, now)
    except WeekError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from None
    # A channel given by hand must be a digest channel ('#' optional), in either mode: an unknown
    # one would print or send the unfiltered digest under a name nobody configured.
    known = {c.lstrip("#"): c for c in config.channels}
    unknown = [c for c in channels if c.lstrip("#") not in known]
    if unknown:
        raise click.BadParameter(
            f"{', '.join(map(repr, unknown))} is not a digest channel; [digest] channels are "
            f"{', '.join(config.channels) or 'empty'}",
            param_hint="--channel",
        )
    targets = [known[c.lstrip("#")] for c in channels] or list(config.channels)
    if mode == "print":
        pg = settings.file.database.url is not None
        if not pg and not settings.db_path.exists():
            click.echo(f"cxbot: no database at {settings.db_path}", err=True)
            sys.exit(2)
        database = connect_for(settings.db_path, settings.file.database, readonly=True)
        # --print never writes.
        database.execute(
            "SET default_transaction_read_only = on" if pg else "PRAGMA query_only = ON"
        )
        try:
            for i, channel in enumerate(targets or [None]):
                scope, slas = Scope.of(config.filter_for(channel)), settings.file.sla
                data = collect(database, window, scope, now, slas)
                if len(targets) > 1:
                    click.echo(("\n" if i else "") + f"── {channel} ──")
                click.echo(render_plain(build_digest(data)))
        except sqlite3.OperationalError as exc:
            click.echo(f"cxbot: {settings.db_path}: {exc} (run `cxbot db migrate`?)", err=True)
            sys.exit(2)
        finally:
            database.conn.close()
        return
    if not window.complete:
        raise click.BadParameter(f"{period} is not over yet: --print previews it")
    if not targets:
        raise click.BadParameter("no digest channels: set [digest] channels in the config")
    setup_logging("WARNING")

    async def send() -> list[tuple[str, bool, tuple[Any, ...]]]:
        store = Store(writer_for(settings.db_path, settings.file.database, settings.tz))
        store.open()
        sink: Sink = sink_for(settings.slack_bot_token, settings.slack_api_url)
        slack = settings.file.slack
        worker = OutboxWorker(
            store, sink, timeout_seconds=slack.send_timeout_seconds, pace_seconds=slack.pace_seconds
        )
        try:
            runner = DigestRunner(store, config, settings.tz, slas=settings.file.sla)
            return await send_now(runner, worker, period, now, targets)
        finally:
            await sink.close()
            store.close()

    failed = False
    for channel, new, (status, sent_at, _, outbox_status, error) in asyncio.run(send()):
        if status == "sent":
            line = f"sent at {sent_at}" if new else f"already sent at {sent_at}"
        elif status == "skipped":
            line = "recorded as skipped (missed while down): not sent"
        else:
            line = f"{status}, not delivered yet ({outbox_status}: {error or 'in progress'})"
            failed = True
        click.echo(f"{channel} {period}: {line}")
    if failed:
        sys.exit(1)


@main.command("ask")
@config_option
@click.argument("text", nargs=-1)
def ask_command(config_path: Path | None, text: tuple[str, ...]) -> None:
    """Answer what `/cx TEXT` answers in Slack, as plain text (try `cxbot ask help`)."""
    import asyncio

    from cxbot.cx.ask import answer
    from cxbot.slack.fmt import Answer
    from cxbot.store.writer import Store, writer_for

    settings = settings_or_exit(config_path)

    async def run() -> Answer:
        # The same path as /cx in Slack, on a Store: opening creates and migrates the database
        # if needed; mute/unmute write through its writer.
        store = Store(writer_for(settings.db_path, settings.file.database, settings.tz))
        store.open()
        try:
            return await answer(settings, store, " ".join(text), None, terminal=True)
        finally:
            store.close()

    click.echo(asyncio.run(run()).plain)


@main.command()
@config_option
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Only signals created on or after this day (YYYY-MM-DD, UTC).",
)
def reprocess(config_path: Path | None, since: Any) -> None:
    """Re-enrich stored signals after the analyser or the topic taxonomy changed."""
    from cxbot.backfill import count_reprocessable
    from cxbot.backfill import reprocess as run_reprocess

    settings = settings_or_exit(config_path)
    day = since.strftime("%Y-%m-%d") if since else None
    total = count_reprocessable(settings, day)
    with click.progressbar(length=total, label="reprocess", file=sys.stderr) as bar:
        done = run_reprocess(settings, day, progress=bar.update)
    click.echo(f"{done} signals re-enriched")


main.add_command(customer)
main.add_command(export_command)
main.add_command(dashboard_link)

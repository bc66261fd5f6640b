"""`cxbot customer erase|export`: privacy requests from the command line (cxbot/cli.py adds
the group to the main command)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cxbot.clikit import config_option, settings_or_exit


@click.group()
def customer() -> None:
    """One customer's data: erase it or export it (privacy requests)."""


@customer.command("erase")
@config_option
@click.argument("who")
@click.option("--yes", is_flag=True, help="Erase without asking.")
def customer_erase(config_path: Path | None, who: str, yes: bool) -> None:
    """Erase everything stored about WHO (an e-mail, a handle, provider:handle or a customer id)."""
    import getpass

    from cxbot.privacy import requests
    from cxbot.privacy.records import UnknownIdentifier

    settings = settings_or_exit(config_path)
    try:
        found = requests.preview(settings, who)
    except UnknownIdentifier as exc:
        raise click.BadParameter(str(exc), param_hint="WHO") from None
    if found.empty:
        click.echo("nothing stored for that identifier: nothing to erase")
        return
    where = ", ".join(f"{n} from {source}" for source, n in found.sources) or "no signals"
    click.echo(f"{len(found.customer_ids)} profile(s), {len(found.signal_ids)} signal(s): {where}")
    if not yes:
        click.confirm("Erase them, and redact the Slack messages about them?", abort=True)
    done = requests.erase(settings, who, actor=f"cli:{getpass.getuser()}")
    click.echo(
        f"erased {done.signals} signal(s), {done.customers} profile(s), {done.handles} handle(s);"
        f" {done.events_scrubbed} raw deliveries emptied; {done.messages_dropped} owed"
        f" message(s) dropped, {done.redactions_owed} Slack message(s) to redact"
        + (
            f"; {done.digests_scrubbed} digest(s) no longer quote them"
            if done.digests_scrubbed
            else ""
        )
    )


@customer.command("export")
@config_option
@click.argument("who")
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="File (default: stdout)."
)
def customer_export(config_path: Path | None, who: str, output: Path | None) -> None:
    """Everything stored about WHO, as one JSON document."""
    from cxbot.privacy import requests
    from cxbot.privacy.records import UnknownIdentifier

    settings = settings_or_exit(config_path)
    try:
        data = requests.export(settings, who)
    except UnknownIdentifier as exc:
        raise click.BadParameter(str(exc), param_hint="WHO") from None
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


@click.command("export")
@config_option
@click.argument("query", nargs=-1)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True
)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="File (default: stdout)."
)
def export_command(
    config_path: Path | None, query: tuple[str, ...], fmt: str, output: Path | None
) -> None:
    """The signals behind `/cx volume QUERY` (period and filters, e.g. `30d source:zendesk`),
    one row each: as many rows as /cx volume counts."""
    import sys

    from cxbot.cx.grammar import CommandError
    from cxbot.privacy.export import export

    settings = settings_or_exit(config_path)
    target = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        if output is None:
            written = export(settings, query, fmt, target)
        else:
            with click.progressbar(length=0, label="export", file=sys.stderr) as bar:

                def total(n: int) -> None:
                    bar.length = n

                written = export(settings, query, fmt, target, on_total=total, progress=bar.update)
    except CommandError as exc:
        raise click.BadParameter(exc.message, param_hint="QUERY") from None
    finally:
        if output is not None:
            target.close()
    if output is not None:
        click.echo(f"wrote {written} signal(s) to {output}", err=True)

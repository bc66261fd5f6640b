"""`cxbot dashboard-link [--hours N]` (cxbot/cli.py adds the command to the main group)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from cxbot.clikit import config_option, settings_or_exit
from cxbot.dashboard.auth import LINK_HOURS


@click.command("dashboard-link")
@config_option
@click.option(
    "--hours",
    type=click.FloatRange(min=0.05, max=24 * 31),
    default=LINK_HOURS,
    show_default=True,
    help="How long the link stays valid.",
)
def dashboard_link(config_path: Path | None, hours: float) -> None:
    """Print a personal, expiring sign-in link to the dashboard (signed with CXBOT_SECRET_KEY)."""
    from cxbot.dashboard.links import OFF_MESSAGE, personal_link

    settings = settings_or_exit(config_path)
    link = personal_link(settings, None, datetime.now(UTC), hours)
    if link is None:
        raise click.ClickException(OFF_MESSAGE)
    click.echo(link)

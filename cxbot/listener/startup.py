"""What `cxbot serve` and `check-config` say at start-up: where it listens, what it loaded, and
the set-ups a newcomer gets wrong without noticing (no config file, an unsigned source on a
public interface). Pure: the settings in, (level, line) pairs out.
"""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path

from cxbot.config import DEFAULT_CONFIG, Settings

Line = tuple[int, str]


def database_label(settings: Settings) -> str:
    """The SQLite path, or the PostgreSQL URL without its password."""
    from cxbot.store.pg import redacted

    url = settings.file.database.url
    return redacted(url) if url else str(settings.db_path)


def sources_label(settings: Settings) -> str:
    names = [
        f"{name} ({s.type}{'' if s.verify else ', unsigned'})"
        for name, s in settings.sources.items()
    ]
    return ", ".join(names) or "none"


def listening_line(settings: Settings, host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return (
        f"listening on http://{shown}:{port}; database {database_label(settings)};"
        f" sources: {sources_label(settings)}"
    )


def config_lines(settings: Settings, cwd: Path) -> list[Line]:
    """Which file was loaded; a WARNING when none was, or when it names no source."""
    if settings.path is None:
        return [
            (
                logging.WARNING,
                f"no config file: {cwd / DEFAULT_CONFIG} does not exist and neither --config nor"
                " CXBOT_CONFIG is set; running on defaults with no sources (every /webhooks/…"
                " answers 404)",
            )
        ]
    lines: list[Line] = [(logging.INFO, f"config {settings.path.resolve()}")]
    if not settings.sources:
        lines.append(
            (
                logging.WARNING,
                f"{settings.path}: no [sources.NAME] table: every /webhooks/… answers 404",
            )
        )
    return lines


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def exposure_lines(settings: Settings, host: str) -> list[Line]:
    """A WARNING per unsigned source when other hosts can reach the port."""
    if is_loopback(host):
        return []
    return [
        (
            logging.WARNING,
            f"source {name!r} is unsigned and {host} is reachable from other hosts: anyone who"
            f" can reach the port can post signals to /webhooks/{name} (set secret_env, or"
            " --host 127.0.0.1)",
        )
        for name, s in settings.sources.items()
        if not s.verify
    ]

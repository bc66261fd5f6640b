"""A poll source's table (`[sources.NAME]` with a poll `type`) as typed options, or clear errors.

The keys are the provider's options model (`cxbot/sources/<provider>.py`); the ones naming an
environment variable (`private_key_env`, ...) are resolved here into the `SecretStr` beside
them, and a variable that is unset is refused at start-up, like a webhook source's secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr, ValidationError

from cxbot.errors import ConfigError
from cxbot.sources import POLLERS
from cxbot.sources.polling import Poller, PollOptions

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


@dataclass(frozen=True)
class PollSource:
    name: str
    type: str
    interval: float  # seconds between two runs
    options: PollOptions = field(repr=False)  # holds the resolved secrets

    @property
    def poller(self) -> Poller:
        return POLLERS[self.type]


def interval_seconds(value: str | int | float) -> float:
    """`"15m"`, `"1h"`, `"30s"`, `"2d"` or a number of seconds; at least one second."""
    if isinstance(value, bool):
        raise ValueError('interval must be a duration such as "15m" or a number of seconds')
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        found = _DURATION.match(value)
        if not found:
            raise ValueError(f'interval {value!r} is not a duration such as "15m", "1h" or "30s"')
        seconds = float(found.group(1)) * _UNIT[found.group(2)]
    if seconds < 1:
        raise ValueError("interval must be at least one second")
    return seconds


def _lines(where: str, exc: ValidationError) -> str:
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        key = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key for this source type (see docs/sources.md)"
        out.append(f"{where}.{key}: {msg}" if key else f"{where}: {msg}")
    return "\n".join(out)


def resolve_poll(
    where: str, name: str, raw: Mapping[str, Any], env: Mapping[str, str]
) -> PollSource:
    """`raw` is the source's table as written; `where` names it in errors (`file: sources.X`)."""
    poller = POLLERS[str(raw.get("type"))]
    values = dict(raw)
    for key, var in raw.items():
        if key.endswith("_env") and isinstance(var, str):
            if not env.get(var):
                raise ConfigError(f"{where}.{key}: environment variable {var} is not set")
            target = key.removesuffix("_env")
            if target in values:
                raise ConfigError(
                    f"{where}.{target}: set {key} instead (secrets stay in the environment)"
                )
            values[target] = SecretStr(env[var])
    try:
        options = poller.options.model_validate(values)
        interval = interval_seconds(options.interval)
    except ValidationError as exc:
        raise ConfigError(_lines(where, exc)) from None
    except ValueError as exc:
        raise ConfigError(f"{where}.interval: {exc}") from None
    return PollSource(name=name, type=poller.name, interval=interval, options=options)


def poll_type_names() -> list[str]:
    return sorted(POLLERS)

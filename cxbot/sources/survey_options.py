"""The options survey adapters share (Typeform, Formbricks): which questions are scores on
which scale, and which are free text, for forms whose webhooks do not say."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cxbot.errors import ConfigError

SCALES = ("nps", "csat", "ces", "rating")  # also the order in which a signal's score is picked
OPTIONS = ("score_fields", "text_fields")


def score_fields(options: Mapping[str, Any], what: str) -> dict[str, str]:
    """`score_fields = {<what> = "nps" | "csat" | "ces" | "rating"}`."""
    raw = options.get("score_fields") or {}
    if not isinstance(raw, Mapping) or not all(
        isinstance(k, str) and v in SCALES for k, v in raw.items()
    ):
        raise ConfigError(f"score_fields must map {what} to one of {', '.join(SCALES)}")
    return dict(raw)


def text_fields(options: Mapping[str, Any], what: str) -> list[str] | None:
    """`text_fields = [<what>, …]`, or None when not configured."""
    raw = options.get("text_fields")
    if raw is None:
        return None
    if not isinstance(raw, list | tuple) or not all(isinstance(k, str) for k in raw):
        raise ConfigError(f"text_fields must be a list of {what}")
    return list(raw)


def check_survey_options(options: Mapping[str, Any], what: str) -> list[str]:
    """Problems with a survey source's options, one line each, for the config loader."""
    problems = [
        f"unknown option {k!r} (known: {', '.join(OPTIONS)})" for k in options if k not in OPTIONS
    ]
    for read in (score_fields, text_fields):
        try:
            read(options, what)
        except ConfigError as exc:
            problems.append(str(exc))
    return problems

"""The reply keys a webhook source's table takes (`[sources.NAME]`), beside its adapter's own.

Pure and small: the config loader reads these to keep them apart from the adapter's options
(`check_options`), and resolves their `*_env` keys like every other (the value lands in the key
without `_env`). Poll sources (App Store, Google Play, Business Profile) reply with the
credentials they already poll with, and take no new keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REPLY_KEYS: dict[str, tuple[str, ...]] = {
    "zendesk": ("api_email_env", "api_token_env", "api_url"),
    "intercom": ("api_token_env", "admin_id", "api_url"),
    "helpscout": ("api_token_env", "app_id", "app_secret_env", "user_id", "api_url", "token_url"),
    "trustpilot": (
        "api_token_env",
        "api_key_env",
        "api_secret_env",
        "business_user_id",
        "api_url",
        "token_url",
    ),
}
_URLS = ("api_url", "token_url")


def split_reply_options(
    type_name: str, options: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """The options that are not reply keys (for the adapter's check), and problems with the
    reply keys themselves, one line each."""
    keys = REPLY_KEYS.get(type_name, ())
    rest = {k: v for k, v in options.items() if k not in keys}
    problems: list[str] = []
    for key in keys:
        value = options.get(key)
        if value is None:
            continue
        if not isinstance(value, str | int) or isinstance(value, bool):
            problems.append(f"{key} must be a string")
        elif key in _URLS and not str(value).startswith(("https://", "http://")):
            problems.append(f"{key} must be an http:// or https:// URL")
    return rest, problems

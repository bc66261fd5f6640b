"""Provider adapters, found by the `type` a source has in the config."""

from __future__ import annotations

from importlib import import_module

from .base import Provider

# type name -> module under cxbot.sources; adding a provider is one module and one line here.
_MODULES: dict[str, str] = {
    "generic": "generic",
    "zendesk": "zendesk",
    "intercom": "intercom",
    "helpscout": "helpscout",
    "front": "front",
    "freshdesk": "freshdesk",
    "typeform": "typeform",
    "delighted": "delighted",
    "formbricks": "formbricks",
    "surveymonkey": "surveymonkey",
    "trustpilot": "trustpilot",
    "meta": "meta",
    "x": "x",
    "mastodon": "mastodon",
    "mapped": "mapped",
}


def provider_names() -> list[str]:
    return sorted(_MODULES)


def get_provider(type_name: str) -> Provider:
    try:
        module = _MODULES[type_name]
    except KeyError:
        raise KeyError(type_name) from None
    provider: Provider = import_module(f"{__name__}.{module}").PROVIDER
    return provider


def option_problems(type_name: str, options: dict[str, object]) -> list[str]:
    """Problems with a source's extra config keys, from the adapter's `check_options` if any."""
    module = import_module(f"{__name__}.{_MODULES[type_name]}")
    check = getattr(module, "check_options", None)
    if check is None:
        return [f"unknown option {k!r} (type {type_name!r} takes none)" for k in options]
    problems: list[str] = check(options)
    return problems

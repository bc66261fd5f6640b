"""Provider adapters, found by the `type` a source has in the config.

Adding a provider is one module under `cxbot/sources/` ending in `PROVIDER = Provider(...)` and
one entry in `PROVIDERS` below: a static table, so mypy and a reader can follow every type.
"""

from __future__ import annotations

from cxbot.sources import (
    app_store,
    app_store_rss,
    delighted,
    formbricks,
    freshdesk,
    front,
    generic,
    google_business,
    google_play,
    helpscout,
    intercom,
    mapped,
    mastodon,
    meta,
    reddit,
    surveymonkey,
    trustpilot,
    typeform,
    x,
    zendesk,
)
from cxbot.sources.base import Provider
from cxbot.sources.polling import Poller

PROVIDERS: dict[str, Provider] = {
    p.name: p
    for p in (
        generic.PROVIDER,
        zendesk.PROVIDER,
        intercom.PROVIDER,
        helpscout.PROVIDER,
        front.PROVIDER,
        freshdesk.PROVIDER,
        typeform.PROVIDER,
        delighted.PROVIDER,
        formbricks.PROVIDER,
        surveymonkey.PROVIDER,
        trustpilot.PROVIDER,
        meta.PROVIDER,
        x.PROVIDER,
        mastodon.PROVIDER,
        mapped.PROVIDER,
    )
}


def provider_names() -> list[str]:
    return sorted(PROVIDERS)


def get_provider(type_name: str) -> Provider:
    return PROVIDERS[type_name]  # KeyError for an unknown type; config validation names them


def option_problems(type_name: str, options: dict[str, object]) -> list[str]:
    """Problems with a source's extra config keys, from the adapter's `check_options` if any."""
    check = PROVIDERS[type_name].check_options
    if check is None:
        return [f"unknown option {k!r} (type {type_name!r} takes none)" for k in options]
    return check(options)


# Sources without webhooks, polled by cxbot/poll/ (each module ends in `POLLER = Poller(...)`).
POLLERS: dict[str, Poller] = {
    p.name: p
    for p in (
        app_store_rss.POLLER,
        app_store.POLLER,
        google_play.POLLER,
        google_business.POLLER,
        reddit.POLLER,
    )
}

"""The reply clients by source type, and which configured sources can reply.

A source can reply when its type has a client here and the source has that client's
credentials: a webhook source's reply keys (cxbot/replies/options.py), a poll source's own
poll credentials. `reply_sources(settings)` is read once at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cxbot.config import Settings
from cxbot.replies import (
    app_store,
    google_business,
    google_play,
    helpscout,
    intercom,
    trustpilot,
    zendesk,
)
from cxbot.replies.base import Client

CLIENTS: dict[str, Client] = {
    c.name: c
    for c in (
        zendesk.CLIENT,
        intercom.CLIENT,
        helpscout.CLIENT,
        trustpilot.CLIENT,
        app_store.CLIENT,
        google_play.CLIENT,
        google_business.CLIENT,
    )
}


@dataclass(frozen=True)
class ReplySource:
    name: str
    client: Client
    options: Any = field(repr=False)  # a dict (webhook source) or the poll options model


def reply_sources(settings: Settings) -> dict[str, ReplySource]:
    found: dict[str, ReplySource] = {}
    for name, source in settings.sources.items():
        client = CLIENTS.get(source.type)
        if client is not None and client.configured(source.options):
            found[name] = ReplySource(name, client, source.options)
    for name, poll in settings.polls.items():
        client = CLIENTS.get(poll.type)
        if client is not None and client.configured(poll.options):
            found[name] = ReplySource(name, client, poll.options)
    return found


def can_reply(sources: Mapping[str, ReplySource], signal: Mapping[str, Any]) -> bool:
    """The signal's source can reply and the signal names what to answer."""
    source = sources.get(str(signal.get("source")))
    return source is not None and source.client.target(signal) is not None

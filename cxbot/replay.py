"""`cxbot replay`: a saved delivery through verify-less parse → store → enrich → alerts."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from functools import partial
from typing import Any

from cxbot.alerts.decide import decide_alerts
from cxbot.app import alert_policy
from cxbot.config import Settings
from cxbot.enrich.worker import enrich_all_pending
from cxbot.errors import NotFound
from cxbot.listener.webhooks import answer, check_and_parse, credentials_for, record_for
from cxbot.sources import get_provider
from cxbot.sources.base import Delivery
from cxbot.store.intake import store_delivery
from cxbot.store.writer import writer_for


def replay_file(
    settings: Settings, source_name: str, body: bytes, headers: Mapping[str, str]
) -> dict[str, Any]:
    source = settings.sources.get(source_name)
    if source is None:
        raise NotFound(f"unknown source {source_name!r}: add [sources.{source_name}] to the config")
    provider = get_provider(source.type)
    unchecked = dataclasses.replace(source, verify=False)
    creds = credentials_for(source, settings.file.server.replay_window_seconds)
    delivery = Delivery(body=body, headers=dict(headers), now=time.time())
    parsed = check_and_parse(provider, unchecked, creds, delivery)
    rec = record_for(unchecked, provider, delivery, parsed, "application/json")
    writer = writer_for(settings)
    writer.start()
    try:
        stored = writer.submit(partial(store_delivery, rec=rec)).result()
    finally:
        writer.close()
    enrich_all_pending(settings, after=partial(decide_alerts, policy=alert_policy(settings)))
    return answer(stored, parsed)

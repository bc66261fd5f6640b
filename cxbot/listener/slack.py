"""Slack wiring: a bolt AsyncApp behind our own aiohttp route `POST /slack/events`.

Listeners stay thin — ack within Slack's 3 seconds, then one plain function each — and every
Slack Web API call goes through one `AsyncWebClient` whose base URL comes from SLACK_API_URL.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from cxbot.alerts.actions import apply_action
from cxbot.config import Settings

log = logging.getLogger("cxbot.slack")

Poke = Callable[[], None]
CommandHandler = Callable[
    [dict[str, Any], Callable[..., Awaitable[Any]], Callable[..., Awaitable[Any]]], Awaitable[None]
]


def build_bolt(
    settings: Settings,
    store: Any,
    poke_outbox: Poke,
    client: AsyncWebClient,
    on_command: CommandHandler | None = None,
) -> AsyncApp:
    assert settings.slack_signing_secret is not None
    bolt = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        raise_error_for_unhandled_request=False,
    )

    @bolt.action(re.compile(r"^cx_(ack|assign|resolve)$"))
    async def on_button(
        ack: Callable[[], Awaitable[None]], body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await ack()
        started = time.perf_counter()
        user = body["user"]["id"]
        try:
            signal_id = int(action["value"])
            change = await store.write(
                partial(
                    apply_action,
                    signal_id=signal_id,
                    action=action["action_id"],
                    user=user,
                    now=datetime.now(UTC),
                )
            )
        except (ValueError, LookupError) as exc:
            log.warning("button %s by %s refused: %s", action.get("action_id"), user, exc)
            return
        if change.updates:
            poke_outbox()
        log.info(
            "button %s signal=%d by=%s changed=%s status=%s %.0fms",
            action["action_id"],
            signal_id,
            user,
            change.changed,
            change.status,
            (time.perf_counter() - started) * 1000,
        )

    if on_command is not None:
        handler = on_command

        @bolt.command("/cx")
        async def on_cx(
            ack: Callable[..., Awaitable[Any]],
            command: dict[str, Any],
            respond: Callable[..., Awaitable[Any]],
        ) -> None:
            await handler(command, ack, respond)

    return bolt


def events_route(bolt: AsyncApp) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def slack_events(request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        bolt_response = await bolt.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    return slack_events

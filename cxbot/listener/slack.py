"""Slack wiring: a bolt AsyncApp behind our own aiohttp route `POST /slack/events`.

Listeners stay thin — ack within Slack's 3 seconds, then one plain function each — and every
Slack Web API call goes through one `AsyncWebClient` whose base URL comes from SLACK_API_URL.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from cxbot.config import Settings
from cxbot.errors import BadRequest, Unauthorized
from cxbot.listener.bodies import UPLOADS, read_body
from cxbot.listener.logsafe import OneLine, esc
from cxbot.listener.slack_actions import register_actions, signal_id_of
from cxbot.listener.slack_replies import register as register_replies
from cxbot.models import storable_text
from cxbot.replies.clients import reply_sources
from cxbot.sources.signing import hmac_digest, signature_matches

log = logging.getLogger("cxbot.slack")

Poke = Callable[[], None]
CommandHandler = Callable[
    [dict[str, Any], Callable[..., Awaitable[Any]], Callable[..., Awaitable[Any]]], Awaitable[None]
]
SLACK_WINDOW_S = 300  # Slack's documented replay window for X-Slack-Request-Timestamp


def slack_signature_problem(
    secret: str, body: bytes, timestamp: str | None, signature: str | None, now: float
) -> str | None:
    """Why a request is not from Slack (v0 signature over `v0:{timestamp}:{body}`), or None.
    Checked before Bolt sees the request: Bolt's own check raises on a timestamp that is not
    a number, and logs the whole body of every forged request."""
    if not timestamp or not signature:
        return "missing X-Slack-Request-Timestamp or X-Slack-Signature header"
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return "X-Slack-Request-Timestamp is not a unix time"
    if abs(now - int(timestamp)) > SLACK_WINDOW_S:
        return "stale X-Slack-Request-Timestamp"
    expected = "v0=" + hmac_digest(secret, b"v0:" + timestamp.encode() + b":" + body).hex()
    if not signature_matches(expected, signature):
        return "signature does not match"
    return None


def bolt_logger() -> logging.Logger:
    """Bolt's base logger: its own loggers copy this one's filters."""
    logger = logging.getLogger("cxbot.slack.bolt")
    if not any(isinstance(f, OneLine) for f in logger.filters):
        logger.addFilter(OneLine())
    return logger


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
        # Bolt logs request values (an unhandled request's body): each record made one line.
        logger=bolt_logger(),
    )

    @bolt.error
    async def on_error(error: Exception, response: BoltResponse | None) -> BoltResponse | None:
        # Bolt's default logs a traceback and answers 500. What fails before a listener is
        # almost always Slack's Web API out of reach (auth.test on the first request): one
        # line, and 503, which says "try again", not "cxbot is broken".
        log.error("slack request failed: %s: %s", type(error).__name__, esc(error, 200))
        if response is not None and response.status >= 500:
            body = {"error": "unavailable", "message": "Slack's Web API could not be reached"}
            return BoltResponse(
                status=503, body=json.dumps(body), headers={"content-type": "application/json"}
            )
        return None

    register_actions(bolt, store, poke_outbox)  # the alert message's buttons and menus
    register_replies(bolt, store, poke_outbox, reply_sources(settings), signal_id_of)

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


def _one(value: str | Sequence[str] | None) -> str | None:
    return value if isinstance(value, str) or value is None else None


def events_route(
    bolt: AsyncApp, signing_secret: str
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def slack_events(request: web.Request) -> web.Response:
        # The same bounded read as webhooks: a stalled upload here is cut off too.
        body = await read_body(request, request.app[UPLOADS])
        headers: dict[str, str | Sequence[str]] = {
            storable_text(k.lower()): storable_text(v) for k, v in request.headers.items()
        }
        problem = slack_signature_problem(
            signing_secret,
            body,
            _one(headers.get("x-slack-request-timestamp")),
            _one(headers.get("x-slack-signature")),
            time.time(),
        )
        if problem is not None:
            log.info("slack request refused: %s (%d bytes)", problem, len(body))
            raise Unauthorized(problem)
        try:
            # Bolt parses the body here: JSON, or a form whose `payload` is JSON.
            bolt_request = AsyncBoltRequest(
                body=body.decode("utf-8", "replace"), query=request.query_string, headers=headers
            )
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            # Signed, so Slack's or a holder of the secret's: still a 400, never a 500.
            log.info("slack request refused: body is not JSON or a form: %s", esc(exc, 120))
            raise BadRequest("the body is not a Slack request (JSON or a form)") from None
        bolt_response = await bolt.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    return slack_events

"""`POST /webhooks/{source}` and `GET /webhooks/{source}`: verify, parse, store, answer.

A delivery is answered 200 only after the commit holding its rows (cxbot/store/writer.py), so nothing
acknowledged is lost. Storage trouble is 503, never 404/410: some providers disable a webhook
that answers those.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from cxbot.config import Source
from cxbot.errors import (
    BadRequest,
    HTTPError,
    NotFound,
    ServiceUnavailable,
    UnsupportedMediaType,
)
from cxbot.listener.bodies import UPLOADS, read_body
from cxbot.listener.handoff import quick_gil_handoff
from cxbot.listener.keys import BIG_PARSES, NEW_SIGNALS, SOURCES, STORE
from cxbot.listener.logsafe import esc
from cxbot.models import iso_utc, storable_text
from cxbot.sources import get_provider
from cxbot.sources.base import Credentials, Delivery, Parsed, Provider
from cxbot.store.intake import DeliveryRecord, StoredDelivery, store_deliveries

log = logging.getLogger("cxbot.webhooks")

PARSE_INLINE_MAX = 64 * 1024  # bytes; a typical delivery (a few KB) is parsed on the loop


def _lookup(request: web.Request) -> tuple[Source, Provider]:
    name = request.match_info["source"]
    source = request.app[SOURCES].get(name)
    if source is None:
        raise NotFound(f"unknown source {name!r}: add [sources.{name}] to the config")
    return source, get_provider(source.type)


def _check_content_type(request: web.Request, provider: Provider) -> None:
    ctype = request.content_type  # without parameters such as charset
    if ctype in provider.content_types or (
        ctype.endswith("+json") and "application/json" in provider.content_types
    ):
        return
    raise UnsupportedMediaType(
        f"content type {ctype or '(none)'!r} not accepted here; send {', '.join(provider.content_types)}"
    )


def delivery_from(request: web.Request, body: bytes) -> Delivery:
    # Undecodable bytes in a header or the query arrive as lone surrogates; made storable here,
    # once, so no adapter or signature check meets text it cannot encode.
    return Delivery(
        body=body,
        headers={storable_text(k.lower()): storable_text(v) for k, v in request.headers.items()},
        query={storable_text(k): storable_text(v) for k, v in request.query.items()},
        method=request.method,
        now=time.time(),
    )


def check_and_parse(
    provider: Provider, source: Source, creds: Credentials, delivery: Delivery
) -> Parsed:
    """Verify (unless the source turned it off), then parse. Raises 400/401 errors."""
    if source.verify and provider.verify is not None:
        provider.verify(delivery, creds)
    parsed = provider.parse(delivery, creds)
    if not parsed.signals and parsed.errors:
        raise BadRequest(
            "no valid signal in the delivery",
            rejected=[{"index": e.index, "message": e.message} for e in parsed.errors],
        )
    return parsed


def record_for(
    source: Source, provider: Provider, delivery: Delivery, parsed: Parsed, content_type: str | None
) -> DeliveryRecord:
    return DeliveryRecord(
        source=source.name,
        provider=provider.name,
        received_at=iso_utc(datetime.fromtimestamp(delivery.now or time.time(), UTC)),
        body=delivery.body.decode("utf-8", "replace"),
        headers=delivery.headers,
        content_type=content_type,
        delivery_id=parsed.event_id,
        event_type=parsed.event_type,
        signals=parsed.signals,
        rejected=parsed.errors,
        ping=parsed.ping,
        body_sha256=hashlib.sha256(delivery.body).hexdigest(),
        body_bytes=len(delivery.body),
    )


def answer(stored: StoredDelivery, parsed: Parsed) -> dict[str, Any]:
    body: dict[str, Any] = {
        "accepted": stored.accepted,
        "duplicates": stored.duplicates,
        "ids": stored.ids,
    }
    if parsed.errors:
        body["rejected"] = [{"index": e.index, "message": e.message} for e in parsed.errors]
    if parsed.ping:
        body["ping"] = True
    return body


async def receive(request: web.Request) -> web.Response:
    started = time.perf_counter()
    name = request.match_info["source"]
    outcome = "error"
    parsed: Parsed | None = None
    try:
        source, provider = _lookup(request)
        _check_content_type(request, provider)
        body = await read_body(request, request.app[UPLOADS])
        delivery = delivery_from(request, body)
        if len(body) > PARSE_INLINE_MAX:
            # A big batch takes tens of ms to validate: in a thread, so the event loop (health
            # checks, small deliveries) gets the GIL back every switch interval meanwhile.
            async with request.app[BIG_PARSES]:
                with quick_gil_handoff():
                    parsed = await asyncio.to_thread(
                        check_and_parse, provider, source, source.credentials, delivery
                    )
        else:
            parsed = check_and_parse(provider, source, source.credentials, delivery)
        rec = record_for(source, provider, delivery, parsed, request.content_type)
        try:
            stored = await request.app[STORE].write_many(store_deliveries, rec)
        except sqlite3.Error as exc:
            raise ServiceUnavailable(f"storage unavailable: {exc}") from None
        if stored.new_ids:
            request.app[NEW_SIGNALS].set()
        outcome = f"accepted={stored.accepted} duplicates={stored.duplicates}"
        if parsed.reply is not None:
            r = parsed.reply
            return web.Response(status=r.status, text=r.body, content_type=r.content_type)
        return web.json_response(answer(stored, parsed))
    except HTTPError as exc:
        outcome = f"{exc.status} {exc.message}"
        raise
    finally:
        log.info(
            "delivery source=%s id=%s %s %.1fms",
            esc(name),
            esc((parsed.event_id if parsed else None) or "-"),
            esc(outcome),
            (time.perf_counter() - started) * 1000,
        )


async def handshake(request: web.Request) -> web.Response:
    source, provider = _lookup(request)
    if provider.handshake is None:
        raise web.HTTPMethodNotAllowed(
            "GET",
            ["POST"],
            text=json.dumps(
                {
                    "error": "method_not_allowed",
                    "message": f"source type {source.type!r} takes POST only",
                }
            ),
            content_type="application/json",
        )
    reply = provider.handshake(delivery_from(request, b""), source.credentials)
    log.info("handshake source=%s status=%d", esc(source.name), reply.status)
    return web.Response(status=reply.status, text=reply.body, content_type=reply.content_type)

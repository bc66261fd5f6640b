"""Reading a request body with bounds: size, a deadline, a number read at once.

A client that sends its headers and then stalls would otherwise hold a connection, a handler
and its buffer for ever (aiohttp has no body deadline), and a few thousand of them exhaust the
process. Each body is read within `[server] body_timeout_s` (else 408), at most
`[server] max_uploads` are read at once (one more gets 503 at once, so a stalled crowd cannot
queue up the healthy), and a client that hangs up mid-body is one INFO line, not a traceback.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from cxbot.errors import BadRequest, ClientGone, PayloadTooLarge, RequestTimeout, ServiceUnavailable
from cxbot.listener.logsafe import esc

log = logging.getLogger("cxbot.web")


@dataclass
class UploadLimits:
    max_bytes: int
    timeout_s: float
    max_uploads: int
    reading: int = 0  # bodies being read now (the event loop is the only writer)


UPLOADS = web.AppKey("uploads", UploadLimits)


def _abandon(request: web.Request) -> None:
    """The rest of the body will not be read: answer, then close the connection. Marking the
    stream finished stops aiohttp's lingering read (it would wait on the stalled client, or
    re-raise a decoding error as an 'Unhandled exception' traceback)."""
    request.content.feed_eof()
    if request.protocol is not None:
        request.protocol.close()


async def _read_all(request: web.Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(65536):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_body(request: web.Request, limits: UploadLimits) -> bytes:
    """The whole body, or a 4xx/503 error (see the module docstring)."""
    if request.content_length is not None and request.content_length > limits.max_bytes:
        _abandon(request)
        raise PayloadTooLarge(
            f"body of {request.content_length} bytes is over the {limits.max_bytes}-byte limit"
        )
    if limits.reading >= limits.max_uploads:
        _abandon(request)
        raise ServiceUnavailable(
            f"too many uploads in progress ({limits.max_uploads}); retry shortly",
            retry_after=max(1, round(limits.timeout_s)),
        )
    limits.reading += 1
    try:
        async with asyncio.timeout(limits.timeout_s):
            return await _read_all(request, limits.max_bytes)
    except TimeoutError:
        _abandon(request)
        raise RequestTimeout(
            f"body not received within {limits.timeout_s:g}s of the headers"
        ) from None
    except PayloadTooLarge:
        _abandon(request)
        raise
    except (RequestPayloadError, HttpProcessingError) as exc:
        # A Content-Encoding the body does not match (gzip that is not gzip), a broken chunk.
        _abandon(request)
        cause = exc.__cause__ if isinstance(exc.__cause__, HttpProcessingError) else exc
        reason = cause.message if isinstance(cause, HttpProcessingError) else str(cause)
        raise BadRequest(f"body could not be read: {' '.join(reason.split())}") from None
    except (ConnectionError, asyncio.IncompleteReadError) as exc:
        log.info(
            "client hung up mid-body on %s %s (%s)",
            esc(request.method),
            esc(request.path),
            type(exc).__name__,
        )
        raise ClientGone("client disconnected before the body was complete") from None
    finally:
        limits.reading -= 1

"""Request-supplied values made safe to log: one line, no control characters.

A path such as `/webhooks/x%0a2026-12-01 00:00:00,000 ERROR …` would otherwise write a forged
log line, and a NUL or a bidi override would garble what a person reads in the log.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from aiohttp.http_exceptions import HttpProcessingError

# C0 and C1 controls, DEL, line/paragraph separators, bidi embeddings/overrides/isolates and the
# zero-width characters that hide text.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
MAX_LOGGED = 300


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def esc(value: Any, limit: int = MAX_LOGGED) -> str:
    """`value` as one printable line, cut at `limit` characters (lone surrogates escaped too)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    text = _UNSAFE.sub(_escape, text)
    # Lone surrogates (undecodable bytes in a header) cannot be written to a UTF-8 log.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class MalformedRequestLine(logging.Filter):
    """aiohttp answers a request its parser refuses (a raw byte in the path, a bad header line)
    with 400, and fails to drain the unread body of a request we refused (a gzip body that is
    not gzip, after our 415); both it logs as an ERROR with a traceback that may quote the raw
    bytes. Anyone can send those: make each one INFO line, escaped, without the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = _http_error(record.exc_info[1] if record.exc_info else None)
        if exc is not None:
            remote = record.args[0] if isinstance(record.args, tuple) and record.args else "-"
            reason = str(exc.message).strip().split("\n", 1)[0].rstrip(":")  # not the bytes
            record.msg = "malformed request from %s: %s %s"
            record.args = (esc(remote, 60), exc.code or 400, esc(reason, 120))
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info, record.exc_text = None, None
        return True


def _http_error(exc: BaseException | None) -> HttpProcessingError | None:
    """The client's 4xx HTTP error behind `exc` (itself, or what caused it), if any."""
    for _ in range(5):
        if exc is None:
            return None
        if isinstance(exc, HttpProcessingError):
            return exc if 400 <= (exc.code or 400) < 500 else None
        exc = exc.__cause__ or exc.__context__
    return None


class OneLine(logging.Filter):
    """A third party's record made one escaped line; a traceback becomes the exception's name
    and message (these loggers log request values, and a traceback is many lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None:
            text += f" ({type(exc).__name__}: {exc})"
        record.msg, record.args = esc(text), ()
        record.exc_info, record.exc_text = None, None
        return True


def quiet_malformed_requests() -> None:
    """Install MalformedRequestLine on aiohttp's server logger, once."""
    logger = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, MalformedRequestLine) for f in logger.filters):
        logger.addFilter(MalformedRequestLine())

"""Request-supplied values made safe to log: one line, no control characters.

A path such as `/webhooks/x%0a2026-12-01 00:00:00,000 ERROR …` would otherwise write a forged
log line, and a NUL or a bidi override would garble what a person reads in the log.
"""

from __future__ import annotations

import re
from typing import Any

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

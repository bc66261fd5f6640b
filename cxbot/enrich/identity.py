"""Customer identity helpers: pure functions, no I/O.

We only normalise what is provably the same address: case and surrounding blanks. Dots and
+tags are kept -- "a.b+x@example.com" and "ab@example.com" may be two different people
(only some providers ignore dots or tags), and merging two customers is worse than keeping
one customer twice.
"""

from __future__ import annotations

import re

# Pragmatic, not RFC 5322: one @, a local part without blanks or a second @, and a domain of
# dot-separated labels (Unicode letters allowed for IDNs) ending in a 2+ letter or punycode TLD.
_EMAIL = re.compile(
    r"^[^\s@<>(),;:\"\[\]]{1,64}@(?=.{1,253}$)(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+"
    r"(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})$"
)


def normalise_email(value: str | None) -> str | None:
    """Lower-cased, trimmed address, or None when `value` is not an e-mail address."""
    if value is None:
        return None
    email = value.strip().lower()
    if not _EMAIL.match(email) or ".." in email or email.startswith(".") or ".@" in email:
        return None
    return email


def normalise_handle(handle: str | None) -> str | None:
    """A social handle without its leading @, lower-cased and trimmed; None when empty."""
    if handle is None:
        return None
    cleaned = handle.strip().lstrip("@").strip().lower()
    return cleaned or None

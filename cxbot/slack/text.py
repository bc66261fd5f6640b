"""Slack mrkdwn text: making untrusted text inert, trimming to Slack's limits, and reading it back.

Pure string functions; `cxbot.blocks` builds messages from them.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

# Slack's limits (Block Kit reference). Lengths are counted in code points here.
SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
HEADER_TEXT_MAX = 150
BUTTON_TEXT_MAX = 75
BLOCKS_MAX = 50
CONTEXT_ELEMENTS_MAX = 10
URL_MAX = 3000
# Slack accepts 40,000, but a fallback is shown in notifications and search snippets: keep it short.
FALLBACK_MAX = 4000

ELLIPSIS = "…"

# Formatting characters are swapped for lookalikes rather than "escaped" with a zero-width space:
# Slack documents no escape for them, and whether a ZWSP breaks a `*bold*` run depends on its
# parser's idea of a word boundary (it can even create one). A different code point can never
# start formatting, stays readable, and `to_plain` maps it back. The cost: copying the text out of
# Slack gives the lookalike (the original is one click away in the stored signal and its link).
_LOOKALIKES = {
    "*": "\u2217",  # ∗ ASTERISK OPERATOR
    "_": "\u02cd",  # ˍ MODIFIER LETTER LOW MACRON
    "~": "\u223c",  # ∼ TILDE OPERATOR
    "`": "\u02cb",  # ˋ MODIFIER LETTER GRAVE ACCENT
}
_QUOTE_LOOKALIKE = "\u203a"  # › at a line start: Slack quotes a line starting with `>` (or &gt;)
_AT_LOOKALIKE = "\uff20"  # ＠ FULLWIDTH COMMERCIAL AT, so "@here" is never auto-parsed
_UNLOOK = {v: k for k, v in _LOOKALIKES.items()} | {_AT_LOOKALIKE: "@"}

# C0 and C1 controls other than tab and newline: unreadable in Slack, and on a console an ESC
# in a review could rewrite the terminal.
# Also the invisible characters that change what a reader sees: bidi embeddings, overrides and
# isolates (U+202E turns "gpj.exe" around) and zero-width space, word joiner, BOM (they hide
# words). Kept: ZWJ (emoji sequences), ZWNJ (Persian), LRM/RLM (harmless direction marks).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u2060\ufeff\u202a-\u202e\u2066-\u2069]")
# Not after a word character or dot, so e-mail addresses (ann@here.com) stay as they are.
_BROADCAST = re.compile(r"(?<![\w.])@(here|channel|everyone)\b", re.IGNORECASE)
_LINE_QUOTE = re.compile(r"^([ \t]*)>", re.MULTILINE)
_ENTITY = re.compile(r"&(?:amp|lt|gt);")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


def escape(text: str) -> str:
    """Untrusted text made inert for a mrkdwn field: no mentions, links or formatting."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    # Lookalikes first: they contain no & < > so the entity step cannot disturb them.
    text = "".join(_LOOKALIKES.get(c, c) for c in text)
    text = _LINE_QUOTE.sub(r"\1" + _QUOTE_LOOKALIKE, text)
    text = _BROADCAST.sub(_AT_LOOKALIKE + r"\1", text)
    # Slack's own three: anything in <...> is a mention, a link or a special command.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _extends_previous(ch: str) -> bool:
    """True when `ch` belongs to the grapheme before it (cutting before it would break that)."""
    cp = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Me", "Mc")  # Persian vowel marks, keycap enclosers
        or 0xFE00 <= cp <= 0xFE0F  # variation selectors (emoji vs text presentation)
        or 0x1F3FB <= cp <= 0x1F3FF  # skin-tone modifiers
        or 0xE0020 <= cp <= 0xE007F  # tag characters (subdivision flags)
        or cp == 0x200D  # zero-width joiner (family and profession emoji)
    )


def _is_regional_indicator(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def trim(text: str, limit: int) -> str:
    """`text` cut to at most `limit` code points, ending in "…" when it was cut.

    Never ends inside an `&amp;`-style entity, a `<...>` link or mention, or a grapheme
    (combining marks, emoji sequences, flags), so the result is still valid mrkdwn.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return text
    cut = limit - len(ELLIPSIS)
    entity = text.rfind("&", max(0, cut - 4), cut)
    if entity != -1 and (m := _ENTITY.match(text, entity)) and m.end() > cut:
        cut = entity
    # An open `<` with no `>` before the cut: ours (escaped text has none), and half a link
    # would swallow the rest of the message.
    opening = text.rfind("<", 0, cut)
    if opening > text.rfind(">", 0, cut):
        cut = opening
    while cut > 0 and (_extends_previous(text[cut]) or text[cut - 1] == "\u200d"):
        cut -= 1
    run = 0
    while run < cut and _is_regional_indicator(text[cut - 1 - run]):
        run += 1
    if run % 2 and _is_regional_indicator(text[cut]):
        cut -= 1  # a flag is a pair of regional indicators: do not keep half of one
    return text[:cut].rstrip() + ELLIPSIS


def one_line(text: str) -> str:
    return " ".join(text.split())


def safe_url(url: str | None) -> str | None:
    """An http(s) URL ready for `<url|label>`, or None when it is not one we should link."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    if not parts.netloc.isascii():
        try:  # an internationalised host name must go out as punycode, not percent-encoded
            url = url.replace(parts.netloc, parts.netloc.encode("idna").decode("ascii"), 1)
        except UnicodeError:
            return None
    # `|` would end the URL early and `<`, `>`, spaces and quotes are not URL characters:
    # percent-encode them (and non-ASCII) but keep existing escapes and reserved characters.
    url = quote(url, safe="!#$%&'()*+,/:;=?@[]~")
    url = url.replace("&", "&amp;")
    return url if len(url) <= URL_MAX else None


def link(url: str | None, label: str) -> str:
    """`<url|label>` for an http(s) URL, else just the label. `label` must be escaped already."""
    safe = safe_url(url)
    return f"<{safe}|{label}>" if safe else label


def user(user_id: str | None) -> str:
    """A user mention when this looks like a Slack user id, else the name as inert text."""
    if not user_id:
        return "someone"
    if _USER_ID.fullmatch(user_id):
        return f"<@{user_id}>"
    return escape(user_id)


def when(iso: str | None) -> str:
    """A stored ISO time as a Slack date token ("10:00, yesterday") in each reader's time zone."""
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return escape(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{time}}, {{date_short_pretty}}|{fallback}>"


_TOKEN = re.compile(r"<([^<>]*)>")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_CODE = re.compile(r"`([^`\n]+)`")


def _token_text(token: str) -> str:
    body, _, label = token.partition("|")
    if body.startswith("@"):
        return label or body
    if body.startswith("#"):
        return "#" + label if label else body
    if body.startswith("!"):
        return label or "@" + body[1:].split("^")[0]
    return f"{label} ({body})" if label and label != body else body


def to_plain(mrkdwn: str) -> str:
    """mrkdwn back to readable text: links as "label (url)", mentions as @id, escapes undone."""
    out = []
    for i, part in enumerate(_TOKEN.split(mrkdwn)):
        if i % 2:  # the captured <...> tokens
            out.append(_token_text(part))
        else:
            # Only ASCII markers are ours: user text carries lookalikes, restored below.
            out.append(_CODE.sub(r"\1", _BOLD.sub(r"\1", part)))
    text = "".join(out)
    text = re.sub(r"^([ \t]*)" + _QUOTE_LOOKALIKE, r"\1>", text, flags=re.MULTILINE)
    text = "".join(_UNLOOK.get(c, c) for c in text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return _CONTROL.sub("", text)

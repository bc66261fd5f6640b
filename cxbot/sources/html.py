"""HTML bodies (help-desk comments, Mastodon statuses) to plain text."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser


class _TextExtractor(HTMLParser):
    # Tags that end a line when rendered; everything else is inline.
    BLOCKS = frozenset(
        "p div br li tr h1 h2 h3 h4 h5 h6 blockquote pre ul ol table hr section article".split()
    )
    HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n- " if tag == "li" else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Readable plain text from an HTML body: block tags become line breaks, entities are
    decoded, runs of spaces collapse. Non-breaking and zero-width characters inside words
    (Persian ZWNJ) are kept."""
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
        raw = "".join(parser.parts)
    except Exception:  # html.parser is lenient, but a body must never turn into a 500
        raw = html.unescape(re.sub(r"<[^>]*>", " ", markup))
    lines = (" ".join(line.split()) for line in raw.splitlines())
    return "\n".join(line for line in lines if line)

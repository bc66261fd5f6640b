"""The Reply modal (`views.open`): the customer's words quoted, an editable draft, *Send*.

Pure: the caller passes the signal row, the provider's limits and the `private_metadata`
(signal id, a fresh draft key, the fingerprint of what is answered). Its callback_id and
block/action ids are what the view_submission listener reads back (cxbot/listener/
slack_replies.py). Also the pure checks of a submitted draft and of the metadata.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cxbot.slack.text import SECTION_TEXT_MAX, escape, one_line, trim

CALLBACK_ID = "cx_reply_modal"
BLOCK_ID = "reply"
ACTION_ID = "text"
INPUT_MAX = 3000  # Slack's limit on a plain_text_input's max_length
METADATA_MAX = 3000  # Slack's limit on private_metadata
QUOTE_MAX = 1500  # of the section's 3000: the quote is a reminder, the original is linked
_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@dataclass(frozen=True)
class DraftMeta:
    """What the modal carries from the click to the *Send*."""

    signal_id: int
    draft_key: str
    basis: str | None

    def dumps(self) -> str:
        return json.dumps({"signal": self.signal_id, "draft": self.draft_key, "basis": self.basis})


def parse_meta(text: Any) -> DraftMeta:
    """The modal's private_metadata back, or ValueError (it is ours, but check it anyway)."""
    if not isinstance(text, str) or len(text) > METADATA_MAX:
        raise ValueError("private_metadata is missing or too long")
    try:
        data = json.loads(text)
    except ValueError:
        raise ValueError("private_metadata is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("private_metadata is not an object")
    signal, key, basis = data.get("signal"), data.get("draft"), data.get("basis")
    if isinstance(signal, bool) or not isinstance(signal, int) or not 0 < signal < 2**63:
        raise ValueError("private_metadata has no signal id")
    if not isinstance(key, str) or not _KEY.match(key):
        raise ValueError("private_metadata has no draft key")
    if basis is not None and not (isinstance(basis, str) and len(basis) <= 64):
        raise ValueError("private_metadata has a bad fingerprint")
    return DraftMeta(signal, key, basis)


def draft_problem(text: str | None, max_chars: int, *, in_bytes: bool = False) -> str | None:
    """Why a submitted reply cannot be sent as it is (shown under the input), or None."""
    if text is None or not text.strip():
        return "Write the reply first: it is empty."
    size = len(text.encode()) if in_bytes else len(text)
    limit = min(max_chars, INPUT_MAX) if not in_bytes else max_chars
    if size > limit:
        unit = "bytes" if in_bytes else "characters"
        return f"Too long for this provider: {size} {unit}, at most {limit}."
    return None


def first_draft(signal: Mapping[str, Any]) -> str:
    """The editable starting point: a greeting by first name; the rest is the team's."""
    name = one_line(str(signal.get("author_name") or "")).split(" ")[0]
    return (
        f"Hi {name},\n\nThank you for telling us. "
        if name
        else "Hello,\n\nThank you for telling us. "
    )


def _quote(signal: Mapping[str, Any]) -> str:
    title = one_line(str(signal.get("title") or ""))
    text = str(signal.get("text") or "")
    words = (f"{title}\n" if title else "") + text
    clipped = trim(escape(words.strip()), QUOTE_MAX) or "(no text)"
    return "\n".join("> " + line for line in clipped.splitlines() or [clipped])


def reply_modal(
    signal: Mapping[str, Any], meta: DraftMeta, *, max_chars: int, shown_as: str, source: str
) -> dict[str, Any]:
    who = one_line(str(signal.get("author_name") or "the customer"))
    head = f"*{trim(escape(who), 200)}* wrote on *{trim(escape(source), 100)}*:\n"
    limit = min(max_chars, INPUT_MAX)
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": trim(head + _quote(signal), SECTION_TEXT_MAX)},
        },
        {
            "type": "input",
            "block_id": BLOCK_ID,
            "label": {"type": "plain_text", "text": "Your reply"},
            "element": {
                "type": "plain_text_input",
                "action_id": ACTION_ID,
                "multiline": True,
                "initial_value": first_draft(signal)[:limit],
                "max_length": limit,
            },
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": trim(
                        f"Sent as {escape(shown_as)} when you press *Send*; nothing is sent before.",
                        SECTION_TEXT_MAX,
                    ),
                }
            ],
        },
    ]
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": {"type": "plain_text", "text": "Reply to the customer"[:24]},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": meta.dumps(),
        "blocks": blocks,
    }


def submitted_text(view: Mapping[str, Any]) -> str | None:
    """The reply as typed, from a view_submission's `view.state.values`."""
    values = view.get("state", {}).get("values", {})
    field = values.get(BLOCK_ID, {}).get(ACTION_ID, {}) if isinstance(values, dict) else {}
    value = field.get("value") if isinstance(field, dict) else None
    return value if isinstance(value, str) else None

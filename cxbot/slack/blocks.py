"""Block Kit messages for alerts, roll-ups and spikes, and their plain-text form for the console.

Pure functions over plain data: no I/O and no clock (times come from the signal row). Every
piece of signal text goes through `escape` and `trim`, so a review can neither ping a channel,
nor format, nor push a block past Slack's limits (which would fail the whole message).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cxbot.alerts.rules import AlertRule
from cxbot.models import SCORE_RANGES
from cxbot.slack.text import (
    BUTTON_TEXT_MAX,
    FALLBACK_MAX,
    FIELD_TEXT_MAX,
    HEADER_TEXT_MAX,
    SECTION_TEXT_MAX,
    escape,
    link,
    one_line,
    to_plain,
    trim,
    user,
    when,
)

__all__ = [
    "AlertView",
    "alert_message",
    "console_text",
    "escape",
    "rollup_message",
    "spike_message",
    "trim",
]

Block = dict[str, Any]
Message = dict[str, Any]

ROLLUP_LINKS_MAX = 10
_TITLE_MAX = 300  # of the section's 3000, so a long title cannot crowd out the text
_FALLBACK_SNIPPET = 300
_KINDS = {"review": "Review", "ticket": "Ticket", "message": "Message", "mention": "Mention"}
_KINDS |= {"survey": "Survey"}
_PLURALS = {"review": "reviews", "ticket": "tickets", "message": "messages"}
_PLURALS |= {"mention": "mentions", "survey": "survey answers"}


@dataclass(frozen=True)
class AlertView:
    """What one alert shows: a `signals` row and what the caller looked up around it."""

    signal: Mapping[str, Any]
    rules: Sequence[str]
    customer_name: str | None
    earlier_signals: int
    source_label: str
    can_reply: bool = False  # its source has a reply client and credentials (issue 17)
    replied: tuple[str, str] | None = None  # (who, when) of the latest reply sent


def _mrkdwn(text: str) -> Block:
    # verbatim: Slack skips its own auto-linking of URLs, #channels and @mentions in the text,
    # a second guard behind escape(). Our explicit <url|label> and <@U…> markup still works.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _plain(text: str, limit: int) -> Block:
    return {"type": "plain_text", "text": trim(one_line(text), limit) or "-", "emoji": True}


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(trim(text, SECTION_TEXT_MAX))}


def _context(*texts: str) -> Block:
    return {"type": "context", "elements": [_mrkdwn(trim(t, SECTION_TEXT_MAX)) for t in texts]}


def _button(action_id: str, label: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "action_id": action_id,
        "text": _plain(label, BUTTON_TEXT_MAX),
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _number(value: float) -> str:
    return f"{value:g}"


def _code(name: str) -> str:
    # Inside `code` Slack applies no formatting, so rule names like vip_refund read as written.
    return "`" + escape(name.replace("`", "'")).replace("\u02cd", "_") + "`"


def score_label(row: Mapping[str, Any]) -> str | None:
    """Stars for a rating, else the survey score on its scale ("NPS 3 (detractor)")."""
    rating, score, kind = row.get("rating"), row.get("score"), row.get("score_type")
    if isinstance(rating, int) and 1 <= rating <= 5:
        return "★" * rating + "☆" * (5 - rating)
    if score is None:
        return None
    if kind == "nps":
        group = "detractor" if score <= 6 else "passive" if score <= 8 else "promoter"
        return f"NPS {_number(score)} ({group})"
    if kind in SCORE_RANGES:
        return f"{kind.upper()} {_number(score)}/{_number(SCORE_RANGES[kind][1])}"
    return f"Score {_number(score)}"


def _topics(raw: Any) -> list[str]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return []
    return [str(t) for t in raw] if isinstance(raw, list) else []


def _facts(view: AlertView) -> list[Block]:
    row = view.signal
    fields: list[str] = []
    who = view.customer_name or row.get("author_name") or row.get("author_handle")
    earlier = view.earlier_signals
    email = row.get("author_email")
    if who or earlier or email:
        line = f"*{escape(one_line(str(who)))}*" if who else "Unknown customer"
        if email:  # what the team replies to
            line += f" · {escape(one_line(str(email)))}"
        if earlier:
            line += f" · {earlier} earlier signal{'s' if earlier != 1 else ''}"
        fields.append("*Customer*\n" + line)
    if row.get("sentiment_label"):
        detail = [f"{row['sentiment']:+.2f}"] if row.get("sentiment") is not None else []
        if row.get("sentiment_source"):
            detail.append("from " + escape(str(row["sentiment_source"])))
        extra = f" ({', '.join(detail)})" if detail else ""
        fields.append(f"*Sentiment*\n{escape(str(row['sentiment_label']))}{extra}")
    if topics := _topics(row.get("topics")):
        fields.append("*Topics*\n" + escape(", ".join(topics)))
    if row.get("urgency"):
        fields.append(f"*Urgency*\n{row['urgency']} of 3")
    if row.get("lang") and row["lang"] != "en":
        fields.append("*Language*\n" + escape(str(row["lang"])))
    if (original := link(row.get("url"), "Open original")) != "Open original":
        fields.append("*Original*\n" + original)
    if not fields:
        return []
    return [{"type": "section", "fields": [_mrkdwn(trim(f, FIELD_TEXT_MAX)) for f in fields]}]


_SNOOZE_OPTIONS = [("1h", "1 hour"), ("8h", "8 hours"), ("1d", "1 day")]
_SNOOZE_OPTIONS.append(("customer", "Until the customer writes again"))
OPTION_TEXT_MAX = 75  # a select option's text (Block Kit)


def _option(value: str, label: str) -> Block:
    return {"text": _plain(label, OPTION_TEXT_MAX), "value": value}


def _snooze_menu() -> Block:
    return {
        "type": "static_select",
        "action_id": "cx_snooze",
        "placeholder": _plain("Snooze", OPTION_TEXT_MAX),
        "options": [_option(v, label) for v, label in _SNOOZE_OPTIONS],
    }


def _assign_menu() -> Block:
    return {
        "type": "users_select",
        "action_id": "cx_assign_to",
        "placeholder": _plain("Assign", 150),
    }


def _actions(row: Mapping[str, Any]) -> list[Block]:
    """The alert's controls in its status, built in this one place (other actions, such as a
    reply, are added here). The signal id is each button's value and the block's id (menus
    carry no value of their own)."""
    status, value = row.get("status") or "new", str(row.get("id"))
    if status == "resolved":
        return [_button("cx_reopen", "Reopen", value)]
    elements: list[Block] = []
    if status in ("new", "regressed"):
        elements.append(_button("cx_ack", "Acknowledge", value))
    # "Assign to me" stays once assigned: someone else can take the signal over.
    elements += [_button("cx_assign", "Assign to me", value), _assign_menu(), _snooze_menu()]
    elements.append(_button("cx_resolve", "Resolve", value, style="primary"))
    return elements


def _status(row: Mapping[str, Any]) -> str | None:
    """The status line: what state the alert is in, who put it there and when."""
    status = row.get("status") or "new"
    at = f" at {when(row.get('status_at'))}" if row.get("status_at") else ""
    by = user(row.get("status_by"))
    if status == "resolved":
        return f":white_check_mark: Resolved by {by}{at}"
    if status == "assigned":
        by_text = f" by {by}" if row.get("status_by") != row.get("assignee") else ""
        return f"Assigned to {user(row.get('assignee'))}{by_text}{at}"
    if status == "acknowledged":
        return f"Acknowledged by {by}{at}"
    if status == "snoozed":
        until = row.get("snoozed_until")
        end = "the customer writes again" if until == "customer" else when(until)
        return f":zzz: Snoozed by {by}{at} until {end}"
    if status == "regressed":
        times = int(row.get("reopened") or 0)
        count = f" (reopened {times}×)" if times > 1 else ""
        if row.get("status_by") == CXBOT:
            return f":repeat: Regressed{at}: the customer wrote again after it was resolved{count}"
        return f":repeat: Reopened by {by}{at}{count}"
    return None


CXBOT = "cxbot"  # status_by of a change cxbot made itself (a wake-up, a regression)


def note_message(text: str) -> Message:
    """A thread note or escalation: `text` is mrkdwn built by cxbot (customer text escaped).
    The fallback keeps the markup: it is what notifies a mentioned user (an assignee)."""
    return {"text": trim(text, FALLBACK_MAX), "blocks": [_section(text)]}


REDACTED = "Removed at the customer's request."


def redacted_message() -> Message:
    """What a posted message about erased data is edited to: nothing of the customer, and no
    buttons (there is nothing left to act on)."""
    return {"text": REDACTED, "blocks": [_context(REDACTED)]}


def alert_message(view: AlertView) -> Message:
    row = view.signal
    kind = str(row.get("kind") or "signal")
    score = score_label(row)
    header = f"{_KINDS.get(kind, kind.capitalize())} · {view.source_label}"
    if score:
        header = f"{score} · {header}"
    blocks: list[Block] = [{"type": "header", "text": _plain(header, HEADER_TEXT_MAX)}]

    title = escape(one_line(row.get("title") or ""))
    text = escape(row.get("text") or "")
    body = f"*{trim(title, _TITLE_MAX)}*\n" if title else ""
    if text:
        body += trim(text, SECTION_TEXT_MAX - len(body))
    if body:
        blocks.append(_section(body.rstrip("\n")))
    blocks += _facts(view)

    status_line, buttons = _status(row), _actions(row)
    # The signal's own time (not the alert's) and the channel it came through at the provider.
    context = [f"Signal {row.get('id')}", when(row.get("created_at"))]
    if row.get("channel"):
        context.append("via " + escape(one_line(str(row["channel"]))))
    if view.rules:
        context.append("Matched " + ", ".join(_code(r) for r in view.rules))
    blocks.append(_context(*context))
    if status_line:
        blocks.append(_context(status_line))
    if view.replied:
        blocks.append(_context(f"Replied by {user(view.replied[0])} · {when(view.replied[1])}"))
    if view.can_reply:  # answering the customer stays possible in every status
        buttons = [*buttons, _button("cx_reply", "Reply", str(row.get("id")))]
    if buttons:
        block_id = f"cx_alert:{row.get('id')}"
        blocks.append({"type": "actions", "block_id": block_id, "elements": buttons})

    snippet = trim(escape(one_line(row.get("title") or row.get("text") or "")), _FALLBACK_SNIPPET)
    fallback = escape(header) + (f": {snippet}" if snippet else "")
    return {"text": trim(fallback, FALLBACK_MAX), "blocks": blocks}


def _what(rule: AlertRule | str) -> str:
    """ "negative reviews" for a rule on low-rated reviews; "signals" when it cannot tell."""
    if isinstance(rule, str):
        return "signals"
    noun = _PLURALS.get(rule.kinds[0], "signals") if len(rule.kinds) == 1 else "signals"
    negative = (
        (rule.max_rating is not None and rule.max_rating <= 2)
        or (rule.sentiment_below is not None and rule.sentiment_below <= 0)
        or rule.labels == ["negative"]
        or rule.nps_detractor
        or rule.csat_low
    )
    return f"negative {noun}" if negative else noun


def rollup_message(
    rule: AlertRule | str,
    channel: str,
    count: int,
    window_minutes: float,
    links: Sequence[tuple[str, str | None]],
) -> Message:
    """One message for the alerts past a rule's per-window budget, with a few of their links."""
    name = rule if isinstance(rule, str) else rule.name
    what = _what(rule)
    if count == 1:
        what = what.removesuffix("s")
    headline = f"{count} more {what} in the last {_number(window_minutes)} min"
    shown = links[:ROLLUP_LINKS_MAX]
    items = [(trim(escape(one_line(t)) or "(no text)", 150), u) for t, u in shown]
    lines = ["• " + label for label, _ in items]
    # Every item fits unlinked (10 × 152 characters); links are added while the section has
    # room, so a few very long URLs cost their links, never the items or the message.
    room = SECTION_TEXT_MAX - len(headline) - 40 - sum(len(line) + 1 for line in lines)
    for i, (label, url) in enumerate(items):
        linked = "• " + link(url, label)
        if len(linked) - len(lines[i]) <= room:
            room -= len(linked) - len(lines[i])
            lines[i] = linked
    rest = max(count, len(links)) - len(lines)
    if rest > 0 and lines:
        lines.append(f"and {rest} more")
    blocks: list[Block] = [_section("\n".join([f"*{escape(headline)}*", *lines]))]
    blocks.append(_context(f"Rule {_code(name)} · rolled up in {escape(channel)}"))
    return {"text": trim(escape(headline), FALLBACK_MAX), "blocks": blocks}


def spike_message(
    rule_name: str, by: str, key: str, recent: int, baseline: float, window_minutes: float
) -> Message:
    """Too many negative signals for one source or topic against the usual for that window."""
    subject = f"{escape(by)} *{escape(one_line(key))}*"
    window = f"the last {_number(window_minutes)} min"
    if baseline > 0:
        usual = f"usually {baseline:.1f} (×{recent / baseline:.1f})"
    else:
        usual = "usually none"
    text = f":chart_with_upwards_trend: *Spike in negative signals* for {subject}\n"
    text += f"*{recent}* in {window}, {usual}"
    fallback = f"Spike: {recent} negative signals for {by} {one_line(key)} in {window}"
    blocks = [_section(text), _context(f"Rule {_code(rule_name)}")]
    return {"text": trim(escape(fallback), FALLBACK_MAX), "blocks": blocks}


def poll_failing_message(source: str, failures: int, error: str) -> Message:
    """A poll source that keeps failing: the admins hear once per streak (cxbot/poll/runner.py)."""
    subject = f"Source *{escape(one_line(source))}* has failed {failures} polls in a row"
    text = f":warning: {subject}\nLast error: {escape(one_line(error))}"
    fallback = f"Source {one_line(source)} has failed {failures} polls in a row: {one_line(error)}"
    blocks = [_section(text), _context("It is tried again on its interval; `/healthz` shows it.")]
    return {"text": trim(escape(fallback), FALLBACK_MAX), "blocks": blocks}


def _element_text(element: Mapping[str, Any]) -> str:
    if element.get("type") == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if element.get("type") == "button":
        return f"[{element.get('text', {}).get('text', '')}]"
    if element.get("type") == "mrkdwn":
        return to_plain(str(element.get("text", "")))
    if "text" in element and isinstance(element["text"], str):
        return str(element["text"])
    if "elements" in element:  # rich_text sections and lists
        return "".join(_element_text(e) for e in element["elements"])
    return str(element.get("url", ""))


def console_text(message: Mapping[str, Any]) -> str:
    """Any message dict as plain text for the console sink: blocks when present, else `text`.
    Blocks are paragraphs (a digest reads as `--print` shows it); buttons are left out, since
    nothing on a console can press them."""
    blocks = message.get("blocks")
    if not blocks:
        return to_plain(str(message.get("text", "")))
    paragraphs: list[str] = []
    for block in blocks:
        lines: list[str] = []
        kind = block.get("type")
        if kind == "header":  # a title: its first paragraph follows on the next line
            title = _element_text(block["text"])
            paragraphs.append(title + "\n")
            continue
        if kind == "section":
            if "text" in block:
                lines.append(_element_text(block["text"]))
            lines += [_element_text(f).replace("\n", ": ", 1) for f in block.get("fields", [])]
        elif kind == "context":
            lines.append(" · ".join(_element_text(e) for e in block.get("elements", [])))
        elif kind == "actions":
            continue
        elif kind == "divider":
            lines.append("-" * 20)
        else:
            lines.append(_element_text(block))
        paragraphs.append("\n".join(lines) + "\n\n")
    return "".join(paragraphs).rstrip("\n")

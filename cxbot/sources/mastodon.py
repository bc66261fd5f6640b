"""Mastodon admin webhooks (Preferences → Administration → Webhooks, Mastodon ≥ 4.0).

These are *server* webhooks on an instance you administer, not fediverse-wide mentions. Events:
`account.approved`, `account.created`, `account.updated`, `report.created`, `report.updated`,
`status.created`, `status.updated`. Status events fire for statuses posted *on that instance*.

Signing: `X-Hub-Signature: sha256=<hex HMAC-SHA256(webhook secret, raw body)>` — GitHub's SHA-1
header name with a SHA-256 value.

Body: `{"event", "created_at", "object"}`, one event per delivery. Mastodon retries for days and
sends no delivery id, so the idempotency key is object id + event (+ `edited_at` for edits).

Mapping: public and unlisted statuses → `mention`; new reports → `ticket`; everything else is
acknowledged without a signal.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from cxbot.errors import BadRequest, Unauthorized
from cxbot.models import Signal
from cxbot.sources.base import Credentials, Delivery, Parsed, Provider
from cxbot.sources.fields import decode_json, parse_items, require_object
from cxbot.sources.signing import hmac_digest, require_header, require_secret, signature_matches

SIGNATURE_HEADER = "x-hub-signature"
# Status webhooks fire for every local status, direct messages between members included;
# only what is already public is stored.
PUBLIC_VISIBILITIES = frozenset({"public", "unlisted"})


# --- verification -----------------------------------------------------------------------------


def verify(delivery: Delivery, creds: Credentials) -> None:
    secret = require_secret(creds)
    given = require_header(delivery, SIGNATURE_HEADER)
    expected = "sha256=" + hmac_digest(secret, delivery.body).hex()
    if not signature_matches(expected, given.lower()):
        raise Unauthorized("X-Hub-Signature does not match the body (wrong webhook secret?)")


# --- parsing ----------------------------------------------------------------------------------


def parse(delivery: Delivery, creds: Credentials) -> Parsed:
    body = require_object(decode_json(delivery.body))
    event = body.get("event")
    obj = body.get("object")
    if not isinstance(event, str) or not isinstance(obj, dict):
        # Mastodon ≥ 4.3 lets admins replace the body with a template; those need `mapped`.
        raise BadRequest(
            'expected a Mastodon webhook: {"event": …, "object": {…}} '
            "(with a custom payload template, use a `mapped` source instead)"
        )
    object_id = _id(obj.get("id"))
    parsed = Parsed(event_id=event_key(object_id, event, obj), event_type=event)
    build = BUILDERS.get(event)
    if build is None:
        return parsed  # account events, report updates: nothing to store
    # One event per delivery: a bad one is a bad request, not a batch with a bad item.
    result = parse_items([obj], lambda item: build(item, event))
    if result.errors:
        raise BadRequest(result.errors[0].message)
    parsed.signals = result.signals
    return parsed


def event_key(object_id: str, event: str, obj: dict[str, Any]) -> str:
    """`<object id>:<event>`; an edit adds `edited_at` so that each edit is kept once."""
    key = f"{object_id}:{event}"
    if event == "status.updated":
        edited = obj.get("edited_at")
        if isinstance(edited, str) and edited:
            key += f":{edited}"
        else:
            key += ":" + _digest(str(obj.get("content")))
    return key


def _status(obj: dict[str, Any], event: str) -> Signal | None:
    if obj.get("reblog") is not None:
        return None  # a boost repeats another status; it has no text of its own
    if obj.get("visibility") not in PUBLIC_VISIBILITIES:
        return None
    text = html_to_text(obj.get("content"))
    if not text:
        return None  # media-only status: nothing to analyse
    status_id = _id(obj.get("id"))
    account = _object(obj.get("account"))
    edited = event == "status.updated"
    return Signal.model_validate(
        {
            "external_id": event_key(status_id, event, obj),
            "kind": "mention",
            "text": text,
            # The content warning, when there is one, reads as the title of the post.
            "title": obj.get("spoiler_text") or None,
            "author": {"name": account.get("display_name"), "handle": _handle(account)},
            "url": obj.get("url") or obj.get("uri"),
            "created_at": (obj.get("edited_at") if edited else None) or obj.get("created_at"),
            "channel": "mastodon",
            "thread_key": status_id,
            "metadata": _kept(
                {
                    "event": event,
                    "status_id": status_id,
                    "account_id": account.get("id"),
                    "language": obj.get("language"),
                    "visibility": obj.get("visibility"),
                    "in_reply_to_id": obj.get("in_reply_to_id"),
                    "sensitive": obj.get("sensitive"),
                    "uri": obj.get("uri"),
                }
            ),
        }
    )


def _report(obj: dict[str, Any], event: str) -> Signal:
    """A member's report to the moderators: a ticket, whose author is the reporter."""
    report_id = _id(obj.get("id"))
    reporter = _object(obj.get("account"))  # an Admin::Account; its public profile is `account`
    profile = _object(reporter.get("account"))
    target = _object(_object(obj.get("target_account")).get("account"))
    category = obj.get("category")
    comment = obj.get("comment")
    if isinstance(comment, str):
        comment = comment.strip()
    return Signal.model_validate(
        {
            "external_id": event_key(report_id, event, obj),
            "kind": "ticket",
            # Reports often come without a comment; the model needs some text to store.
            "text": comment
            or f"Report about {_handle(target) or 'an account'} ({category}), no comment",
            "title": f"Report: {category}" if category else "Report",
            "author": {
                "name": profile.get("display_name"),
                "handle": _handle(profile),
                "email": reporter.get("email"),  # present for local members only
            },
            "created_at": obj.get("created_at"),
            "channel": "mastodon",
            "thread_key": f"report:{report_id}",
            "metadata": _kept(
                {
                    "event": event,
                    "report_id": report_id,
                    "category": category,
                    "target_account": _handle(target),
                    "status_ids": _ids_of(obj.get("statuses")),
                    "rule_ids": _ids_of(obj.get("rules")),
                    "forwarded": obj.get("forwarded"),
                }
            ),
        }
    )


BUILDERS: dict[str, Callable[[dict[str, Any], str], Signal | None]] = {
    "status.created": _status,
    "status.updated": _status,
    "report.created": _report,
}


# --- small helpers ----------------------------------------------------------------------------


def _handle(account: dict[str, Any]) -> str | None:
    """`@user@host`: local accounts have a bare `acct`, so the host comes from the profile URL."""
    acct = account.get("acct")
    if not isinstance(acct, str) or not acct:
        return None
    if "@" not in acct:
        url = account.get("url")
        host = urlsplit(url).hostname if isinstance(url, str) else None
        if host:
            acct = f"{acct}@{host}"
    return f"@{acct}"


def _digest(text: str) -> str:
    # surrogatepass: a lone surrogate (text cut inside an emoji) is the model's to refuse, not ours.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _id(value: Any) -> str:
    # Mastodon serialises ids as strings (snowflakes exceed 2**53); an int is still exact.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise BadRequest("object.id must be a non-empty string id")


def _ids_of(items: Any) -> list[Any]:
    return (
        [item.get("id") for item in items if isinstance(item, dict)]
        if isinstance(items, list)
        else []
    )


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _kept(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value not in (None, "", [])}


class _TextExtractor(HTMLParser):
    """Status HTML → plain text: `<br>` and paragraph ends become line breaks, tags go."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(content: Any) -> str | None:
    if content is None:
        return None
    if not isinstance(content, str):
        raise BadRequest("status content must be a string")
    parser = _TextExtractor()
    try:
        parser.feed(content)
        parser.close()
        raw = "".join(parser.parts)
    except Exception:
        # html.parser raises AssertionError on some malformed markup (`<![ifx`); a status must
        # never turn into a 500, so fall back to dropping anything tag-like.
        breaks = re.sub(r"(?i)<br\s*/?>|</p>", "\n", content)
        raw = html.unescape(re.sub(r"<[^>]*>?", "", breaks))
    lines = raw.split("\n")
    return "\n".join(line.rstrip() for line in lines).strip() or None


PROVIDER = Provider(name="mastodon", parse=parse, verify=verify, auth="secret")

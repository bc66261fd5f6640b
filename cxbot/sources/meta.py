"""Meta Graph API webhooks: Facebook Page comments and mentions, Instagram comments and mentions.

Signing: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`. Meta signs the
body exactly as sent, which is *escaped* unicode (`\\u00e4`), so the HMAC is taken over the raw
bytes; parsing and re-serialising would break every non-ASCII comment.

Handshake: `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…` is answered with the
challenge when the verify token matches the one configured.

One POST is a batch, `{"object", "entry": [{"id", "time", "changes": [{"field", "value"}]}]}`,
with up to 1000 changes. Meta has no delivery id and retries for 36 hours, so each signal's
`external_id` is the object id + field + verb (see `_key`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from cxbot.errors import BadRequest, Unauthorized
from cxbot.models import Signal
from cxbot.sources.base import Credentials, Delivery, HandshakeReply, ItemError, Parsed, Provider
from cxbot.sources.fields import decode_json, parse_items, require_object
from cxbot.sources.signing import hmac_digest, require_header, require_secret, signature_matches

SIGNATURE_HEADER = "x-hub-signature-256"
FACEBOOK_URL = "https://www.facebook.com/{id}"
# Meta sends `edited` for feed comments; the mention reference says `edit`.
KEPT_VERBS = frozenset({"add", "edit", "edited"})
# Stored as the text of a mention whose webhook carries ids only (Instagram `mentions` always,
# Page `mention` sometimes): the model needs some text, and `metadata.needs_fetch` marks it for a
# later Graph API fetch.
THIN_TEXT = "({network} mention: the text is not in the webhook; fetch it by its id)"

Change = tuple[dict[str, Any], dict[str, Any]]  # (entry, change)


# --- verification -----------------------------------------------------------------------------


def verify(delivery: Delivery, creds: Credentials) -> None:
    secret = require_secret(creds)
    given = require_header(delivery, SIGNATURE_HEADER)
    expected = "sha256=" + hmac_digest(secret, delivery.body).hex()
    if not signature_matches(expected, given.lower()):
        raise Unauthorized("X-Hub-Signature-256 does not match the body (wrong app secret?)")


def handshake(delivery: Delivery, creds: Credentials) -> HandshakeReply:
    """The subscription check Meta sends when the callback URL is saved in the App Dashboard."""
    if not creds.verify_token:
        raise Unauthorized("this source has no verify token configured")
    if delivery.query.get("hub.mode") != "subscribe":
        raise BadRequest("expected hub.mode=subscribe")
    if not signature_matches(creds.verify_token, delivery.query.get("hub.verify_token")):
        raise Unauthorized("hub.verify_token does not match the configured verify token")
    challenge = delivery.query.get("hub.challenge")
    if not challenge:
        raise BadRequest("missing hub.challenge")
    return HandshakeReply(200, challenge)


# --- parsing ----------------------------------------------------------------------------------


def parse(delivery: Delivery, creds: Credentials) -> Parsed:
    body = require_object(decode_json(delivery.body))
    object_type = body.get("object")
    entries = body.get("entry")
    if not isinstance(object_type, str) or not isinstance(entries, list):
        raise BadRequest('expected a Meta webhook: {"object": "page"|"instagram", "entry": [...]}')
    changes, places = _flatten(entries)
    parsed = parse_items(changes, lambda change: _signal(object_type, change))
    # Item indexes count changes across entries; say which entry and change went wrong.
    parsed.errors = [ItemError(e.index, f"{places[e.index]}: {e.message}") for e in parsed.errors]
    parsed.event_type = _event_type(object_type, changes)
    return parsed


def _flatten(entries: list[Any]) -> tuple[list[Any], list[str]]:
    """Every (entry, change) pair in delivery order, and where each one sits for error messages."""
    changes: list[Any] = []
    places: list[str] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            changes.append(entry)  # reported by `_signal` as a bad item
            places.append(f"entry[{i}]")
            continue
        # Entries without `changes` (Messenger's `messaging`, say) are not handled here.
        entry_changes = entry.get("changes")
        for j, change in enumerate(entry_changes if isinstance(entry_changes, list) else []):
            changes.append((entry, change))
            places.append(f"entry[{i}].changes[{j}]")
    return changes, places


def _signal(object_type: str, item: Any) -> Signal | None:
    if not isinstance(item, tuple):
        raise BadRequest("entry must be a JSON object")
    entry, change = item
    change = require_object(change, "change")
    field = change.get("field")
    build = BUILDERS.get((object_type, field)) if isinstance(field, str) else None
    if build is None:
        return None  # a field cxbot does not read (photos, ratings, live comments…)
    return build(entry, require_object(change.get("value"), "change value"))


def _page_comment(entry: dict[str, Any], value: dict[str, Any]) -> Signal | None:
    """Page `feed` change about a comment on one of the Page's posts."""
    verb = _verb(value)
    if value.get("item") != "comment" or verb is None:
        return None  # posts, likes, reactions, removals and hides are not signals
    sender = _object(value.get("from"))
    if _same_id(sender.get("id"), entry.get("id")):
        return None  # the Page's own reply: alerting on it would be alerting on ourselves
    if not value.get("message"):
        return None  # a sticker or photo comment: no text to store
    comment_id = _id(value.get("comment_id"), "comment_id")
    return _build(
        external_id=_key(comment_id, "feed", verb, value.get("message")),
        kind="message",
        text=value.get("message"),
        author={"name": sender.get("name")},
        url=FACEBOOK_URL.format(id=comment_id),
        created_at=value.get("created_time"),
        channel="facebook",
        # All comments on one post are one conversation: they share the post's Slack thread.
        thread_key=value.get("post_id") or comment_id,
        metadata={
            "page_id": entry.get("id"),
            "post_id": value.get("post_id"),
            "parent_id": value.get("parent_id"),
            "author_id": sender.get("id"),
            "verb": verb,
        },
    )


def _page_mention(entry: dict[str, Any], value: dict[str, Any]) -> Signal | None:
    """Page `mention` change: the Page was @-mentioned in a post or comment elsewhere."""
    verb = _verb(value)
    if verb is None:
        return None
    object_id = _id(value.get("comment_id") or value.get("post_id"), "comment_id or post_id")
    message = value.get("message")
    return _build(
        external_id=_key(object_id, "mention", verb, message),
        kind="mention",
        text=message or THIN_TEXT.format(network="Facebook"),
        author={"name": value.get("sender_name")},
        url=FACEBOOK_URL.format(id=object_id),
        created_at=value.get("created_time"),
        channel="facebook",
        thread_key=value.get("post_id") or object_id,
        metadata={
            "page_id": entry.get("id"),
            "post_id": value.get("post_id"),
            "comment_id": value.get("comment_id"),
            "author_id": value.get("sender_id"),
            "item": value.get("item"),
            "verb": verb,
            "needs_fetch": None if message else True,
        },
    )


def _instagram_comment(entry: dict[str, Any], value: dict[str, Any]) -> Signal | None:
    """Instagram `comments` change: a comment on the account's media (only new comments)."""
    sender = _object(value.get("from"))
    if _same_id(sender.get("id"), entry.get("id")):
        return None  # the account's own reply
    comment_id = _id(value.get("id"), "id")
    media = _object(value.get("media"))
    username = sender.get("username")
    return _build(
        external_id=_key(comment_id, "comments"),
        kind="message",
        text=value.get("text"),
        author={"handle": f"@{username}" if isinstance(username, str) and username else None},
        # The comment's permalink needs a Graph API call; the payload has no URL.
        url=None,
        # The value has no creation time; `entry.time` is when Meta sent the notification.
        created_at=entry.get("time"),
        channel="instagram",
        thread_key=media.get("id") or comment_id,
        metadata={
            "instagram_account_id": entry.get("id"),
            "media_id": media.get("id"),
            "media_product_type": media.get("media_product_type"),
            "parent_id": value.get("parent_id"),
            "author_id": sender.get("id"),
        },
    )


def _instagram_mention(entry: dict[str, Any], value: dict[str, Any]) -> Signal:
    """Instagram `mentions` change: ids only, so the signal is stored as needing a fetch."""
    media_id = value.get("media_id")
    object_id = _id(value.get("comment_id") or media_id, "comment_id or media_id")
    text = value.get("text")
    return _build(
        external_id=_key(object_id, "mentions"),
        kind="mention",
        text=text or THIN_TEXT.format(network="Instagram"),
        created_at=entry.get("time"),
        channel="instagram",
        thread_key=media_id or object_id,
        metadata={
            "instagram_account_id": entry.get("id"),
            "media_id": media_id,
            "comment_id": value.get("comment_id"),
            "needs_fetch": None if text else True,
        },
    )


BUILDERS: dict[tuple[str, str], Callable[[dict[str, Any], dict[str, Any]], Signal | None]] = {
    ("page", "feed"): _page_comment,
    ("page", "mention"): _page_mention,
    ("instagram", "comments"): _instagram_comment,
    ("instagram", "mentions"): _instagram_mention,
}


# --- small helpers ----------------------------------------------------------------------------


def _build(*, metadata: dict[str, Any], **fields: Any) -> Signal:
    kept = {key: value for key, value in metadata.items() if value not in (None, "")}
    return Signal.model_validate({**fields, "metadata": kept})


def _key(object_id: str, field: str, verb: str | None = None, text: Any = None) -> str:
    """`<object id>:<field>[:<verb>]`, plus a digest of the text for edits.

    A retry repeats the same change and so the same key; a second edit of the same comment has
    different text, hence a different key, instead of being dropped as a duplicate.
    """
    key = f"{object_id}:{field}" + (f":{verb}" if verb else "")
    if verb in ("edit", "edited"):
        key += ":" + _digest(str(text))
    return key


def _verb(value: dict[str, Any]) -> str | None:
    """The verb when it is one that carries new text (add or edit), else None."""
    verb = value.get("verb")
    return verb if isinstance(verb, str) and verb in KEPT_VERBS else None


def _digest(text: str) -> str:
    # surrogatepass: a lone surrogate (text cut inside an emoji) is the model's to refuse, not ours.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _id(value: Any, what: str) -> str:
    # Meta ids are strings; an int is accepted as exact, a float would have lost digits.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise BadRequest(f"{what} must be a non-empty string id")


def _same_id(a: Any, b: Any) -> bool:
    return a is not None and b is not None and str(a) == str(b)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _event_type(object_type: str, changes: list[Any]) -> str:
    kinds: list[str] = []
    for item in changes:
        field = (
            item[1].get("field") if isinstance(item, tuple) and isinstance(item[1], dict) else None
        )
        name = f"{object_type}.{field}" if isinstance(field, str) else object_type
        if name not in kinds:
            kinds.append(name)
    return ",".join(kinds) or object_type


PROVIDER = Provider(name="meta", parse=parse, verify=verify, handshake=handshake, auth="secret")

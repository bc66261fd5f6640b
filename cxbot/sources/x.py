"""X (Twitter) Account Activity API webhooks: mentions and replies to the subscribed account.

Signing: `x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(consumer secret, raw body)>`.
The key is the app's consumer (API) secret, not an access-token secret or bearer token.

Handshake: X sends `GET ?crc_token=…` when the webhook is registered and hourly afterwards; the
answer is `{"response_token": "sha256=<base64 HMAC-SHA256(consumer secret, crc_token)>"}`. A failed
check marks the webhook invalid and stops delivery.

One POST carries one event type, `{"for_user_id", "<type>_events": [...]}`. Only
`tweet_create_events` (mentions, replies, quotes) become signals; likes, follows, DMs and the rest
are acknowledged without one. Tweets are v1.1 objects: ids beyond 2**53, so `id_str` only.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import Any

from cxbot.errors import BadRequest, Unauthorized
from cxbot.models import Signal
from cxbot.sources.base import Credentials, Delivery, HandshakeReply, Parsed, Provider
from cxbot.sources.fields import decode_json, parse_items, require_object
from cxbot.sources.signing import (
    b64,
    hmac_digest,
    require_header,
    require_secret,
    signature_matches,
)

SIGNATURE_HEADER = "x-twitter-webhooks-signature"
TWEET_URL = "https://x.com/{screen_name}/status/{id}"
MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def _sign(secret: str, message: bytes) -> str:
    return "sha256=" + b64(hmac_digest(secret, message))


# --- verification -----------------------------------------------------------------------------


def verify(delivery: Delivery, creds: Credentials) -> None:
    secret = require_secret(creds)
    given = require_header(delivery, SIGNATURE_HEADER)
    # Base64 is case-sensitive: compare exactly, unlike the hex schemes.
    if not signature_matches(_sign(secret, delivery.body), given):
        raise Unauthorized(
            "x-twitter-webhooks-signature does not match the body (wrong consumer secret?)"
        )


def handshake(delivery: Delivery, creds: Credentials) -> HandshakeReply:
    """The CRC check: proves we hold the consumer secret without sending it."""
    secret = require_secret(creds)
    token = delivery.query.get("crc_token")
    if not token:
        raise BadRequest("missing crc_token")
    try:
        message = token.encode()
    except UnicodeEncodeError:
        raise BadRequest("crc_token is not valid UTF-8") from None
    body = json.dumps({"response_token": _sign(secret, message)})
    return HandshakeReply(200, body, content_type="application/json")


# --- parsing ----------------------------------------------------------------------------------


def parse(delivery: Delivery, creds: Credentials) -> Parsed:
    body = require_object(decode_json(delivery.body))
    event_type = next((key for key in body if key.endswith("_events")), None)
    tweets = body.get("tweet_create_events")
    if tweets is None:
        return Parsed(event_type=event_type)  # likes, follows, DMs, deletes: nothing to store
    if not isinstance(tweets, list):
        raise BadRequest("tweet_create_events must be an array")
    own_id = _own_id(body.get("for_user_id"))
    parsed = parse_items(tweets, lambda tweet: signal_from_tweet(tweet, own_id, body))
    parsed.event_type = event_type
    return parsed


def signal_from_tweet(tweet: Any, own_id: str | None, body: dict[str, Any]) -> Signal | None:
    tweet = require_object(tweet, "tweet")
    user = require_object(tweet.get("user"), "tweet user")
    # Our own tweets and our replies to customers arrive here too; storing them would make the
    # team's answers look like customer mentions (and alert on them).
    if own_id is not None and user.get("id_str") == own_id:
        return None
    # A plain retweet repeats someone else's text (often ours); it is not the retweeter's words.
    if tweet.get("retweeted_status") is not None:
        return None
    tweet_id = _id_str(tweet.get("id_str"))
    screen_name = user.get("screen_name")
    if not isinstance(screen_name, str) or not screen_name:
        raise BadRequest("tweet user has no screen_name")
    return Signal.model_validate(
        {
            "external_id": tweet_id,
            "kind": "mention",
            "text": _text(tweet),
            "author": {"name": user.get("name"), "handle": f"@{screen_name}"},
            "url": TWEET_URL.format(screen_name=screen_name, id=tweet_id),
            "created_at": _created_at(tweet),
            "channel": "x",
            "metadata": _metadata(tweet, user, body),
        }
    )


def _own_id(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) and value else None


def _id_str(value: Any) -> str:
    # Never fall back to the numeric `id`: JavaScript-based relays round it to a double.
    if not isinstance(value, str) or not value.isdigit():
        raise BadRequest("tweet has no id_str (a string of digits)")
    return value


def _text(tweet: dict[str, Any]) -> str | None:
    """The full text: `text` is cut at 140 characters when `truncated` is true."""
    extended = tweet.get("extended_tweet")
    full = extended.get("full_text") if isinstance(extended, dict) else None
    text = full or tweet.get("full_text") or tweet.get("text")
    if text is None:
        return None
    if not isinstance(text, str):
        raise BadRequest("tweet text must be a string")
    # v1.1 HTML-escapes &, < and > in tweet text; store what the person typed.
    return html.unescape(text)


def _created_at(tweet: dict[str, Any]) -> datetime | None:
    value = tweet.get("created_at")
    if isinstance(value, str):
        return parse_twitter_time(value)
    millis = tweet.get("timestamp_ms")
    if isinstance(millis, str) and millis.isdigit():
        try:
            return datetime.fromtimestamp(int(millis) / 1000, UTC)
        except (ValueError, OverflowError, OSError):
            raise BadRequest(f"timestamp_ms {millis[:30]!r} is out of range") from None
    return None


def parse_twitter_time(value: str) -> datetime:
    """`Wed Oct 10 20:19:24 +0000 2018` → aware UTC datetime.

    The month is looked up by hand because `strptime("%b")` follows the process locale.
    """
    parts = value.split()
    if len(parts) != 6 or parts[1] not in MONTHS:
        raise BadRequest(f"created_at {value!r} is not like 'Wed Oct 10 20:19:24 +0000 2018'")
    _weekday, month, day, clock, offset, year = parts
    try:
        stamp = datetime.strptime(
            f"{year}-{MONTHS[month]:02d}-{day} {clock} {offset}", "%Y-%m-%d %H:%M:%S %z"
        )
    except ValueError:
        raise BadRequest(f"created_at {value!r} is not a valid date") from None
    return stamp.astimezone(UTC)


def _metadata(tweet: dict[str, Any], user: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    fields = {
        "author_id": user.get("id_str"),
        "lang": tweet.get("lang"),
        "in_reply_to_status_id": tweet.get("in_reply_to_status_id_str"),
        "in_reply_to_screen_name": tweet.get("in_reply_to_screen_name"),
        "quoted_status_id": tweet.get("quoted_status_id_str"),
        "for_user_id": body.get("for_user_id"),
        # Present only on mentions and replies: the author is blocked by the subscribed account.
        "user_has_blocked": body.get("user_has_blocked"),
    }
    return {key: value for key, value in fields.items() if value not in (None, "")}


PROVIDER = Provider(name="x", parse=parse, verify=verify, handshake=handshake, auth="secret")

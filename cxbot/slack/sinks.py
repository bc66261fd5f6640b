"""Where messages go: Slack through slack_sdk, or the console when there is no bot token.

A sink turns Slack's answers into two outcomes the outbox understands: `RetryLater` (network
trouble, 5xx, 429 with its Retry-After) and `Undeliverable` (an error a retry cannot fix).
"""

from __future__ import annotations

import itertools
import sys
from typing import Any, Protocol, TextIO

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from cxbot.slack.blocks import console_text

# Slack errors that no retry will fix: the row is marked failed with the reason.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_blocks",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "msg_too_long",
        "no_text",
        "invalid_arguments",
        "missing_scope",
        "message_not_found",
        "cant_update_message",
        "restricted_action",
        "too_many_attachments",
        "invalid_metadata_format",
    }
)


class RetryLater(Exception):
    """Try again later. `ambiguous`: the request may have reached Slack (a dropped connection),
    so before posting again the outbox must look for the message first."""

    def __init__(self, reason: str, delay: float | None = None, *, ambiguous: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay
        self.ambiguous = ambiguous


class Undeliverable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Sink(Protocol):
    async def post(
        self, channel: str, message: dict[str, Any], *, thread_ts: str | None, outbox_id: int
    ) -> tuple[str, str]: ...
    async def update(self, channel_id: str, ts: str, message: dict[str, Any]) -> None: ...
    async def find_posted(
        self, channel: str, outbox_id: int, since: float, thread_ts: str | None
    ) -> tuple[str, str] | None: ...
    async def upload(self, channel: str, filename: str, content: bytes, title: str) -> None: ...
    async def close(self) -> None: ...


class ConsoleSink:
    """Readable text on stdout: the embedded default needs no Slack workspace."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self._ts = itertools.count(1)

    def _print(self, header: str, message: dict[str, Any]) -> None:
        self.out.write(f"── {header} ──\n{console_text(message)}\n\n")
        self.out.flush()

    async def post(
        self, channel: str, message: dict[str, Any], *, thread_ts: str | None, outbox_id: int
    ) -> tuple[str, str]:
        where = f"{channel} (thread {thread_ts})" if thread_ts else channel
        self._print(f"to {where}", message)
        return channel, f"console.{next(self._ts)}"

    async def update(self, channel_id: str, ts: str, message: dict[str, Any]) -> None:
        self._print(f"update of {ts} in {channel_id}", message)

    async def find_posted(
        self, channel: str, outbox_id: int, since: float, thread_ts: str | None
    ) -> tuple[str, str] | None:
        return None  # the console keeps no history; a message cut off mid-print is printed again

    async def upload(self, channel: str, filename: str, content: bytes, title: str) -> None:
        self.out.write(
            f"── {channel}: chart {filename} ({len(content)} bytes) not shown on the console ──\n"
        )

    async def close(self) -> None:
        return None


class SlackSink:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._channel_ids: dict[str, str] = {}

    async def close(self) -> None:
        session = getattr(self.client, "session", None)
        if session is not None and not session.closed:
            await session.close()

    async def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return await getattr(self.client, method)(**kwargs)
        except SlackApiError as exc:
            status = exc.response.status_code
            error = (
                str(exc.response.get("error", "")) if isinstance(exc.response.data, dict) else ""
            )
            if status == 429 or error == "ratelimited":
                retry_after = exc.response.headers.get("retry-after") or exc.response.headers.get(
                    "Retry-After"
                )
                delay = float(retry_after) if retry_after else 30.0
                raise RetryLater(f"ratelimited (retry after {delay:g}s)", delay) from None
            if status >= 500:
                raise RetryLater(f"slack answered {status}") from None
            if error in PERMANENT:
                raise Undeliverable(error) from None
            raise RetryLater(error or f"slack answered {status}") from None
        except (TimeoutError, aiohttp.ClientError, ConnectionError, OSError) as exc:
            raise RetryLater(f"network: {type(exc).__name__}: {exc}", ambiguous=True) from None

    async def channel_id(self, channel: str) -> str:
        """Slack wants channel ids for updates and history; config names channels `#name`."""
        name = channel.lstrip("#")
        if name[:1] in ("C", "G", "D") and name.isupper() and name.isalnum():
            return name
        if name not in self._channel_ids:
            cursor: str | None = None
            while True:
                resp = await self._call(
                    "conversations_list",
                    types="public_channel,private_channel",
                    limit=1000,
                    exclude_archived=True,
                    cursor=cursor,
                )
                for ch in resp.get("channels", []):
                    self._channel_ids[ch["name"]] = ch["id"]
                cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor or name in self._channel_ids:
                    break
        if name not in self._channel_ids:
            raise Undeliverable(f"channel_not_found: {channel} (invite the bot to it)")
        return self._channel_ids[name]

    async def post(
        self, channel: str, message: dict[str, Any], *, thread_ts: str | None, outbox_id: int
    ) -> tuple[str, str]:
        channel_id = await self.channel_id(channel)
        resp = await self._call(
            "chat_postMessage",
            channel=channel_id,
            text=message["text"],
            blocks=message.get("blocks"),
            thread_ts=thread_ts,
            unfurl_links=False,
            # The outbox id rides along so a restart can find a message Slack took before we
            # could record it (find_posted), instead of posting it twice.
            metadata={"event_type": "cxbot_outbox", "event_payload": {"outbox_id": outbox_id}},
        )
        return str(resp["channel"]), str(resp["ts"])

    async def update(self, channel_id: str, ts: str, message: dict[str, Any]) -> None:
        await self._call(
            "chat_update",
            channel=channel_id,
            ts=ts,
            text=message["text"],
            blocks=message.get("blocks"),
        )

    async def find_posted(
        self, channel: str, outbox_id: int, since: float, thread_ts: str | None
    ) -> tuple[str, str] | None:
        channel_id = await self.channel_id(channel)
        if thread_ts:  # replies live in the thread, not in the channel's history
            resp = await self._call(
                "conversations_replies",
                channel=channel_id,
                ts=thread_ts,
                include_all_metadata=True,
                limit=200,
            )
        else:
            resp = await self._call(
                "conversations_history",
                channel=channel_id,
                oldest=f"{since:.6f}",
                include_all_metadata=True,
                limit=200,
            )
        for msg in resp.get("messages", []):
            payload = (msg.get("metadata") or {}).get("event_payload") or {}
            if payload.get("outbox_id") == outbox_id:
                return channel_id, str(msg["ts"])
        return None

    async def upload(self, channel: str, filename: str, content: bytes, title: str) -> None:
        channel_id = await self.channel_id(channel)
        await self._call(
            "files_upload_v2", channel=channel_id, filename=filename, content=content, title=title
        )


def slack_client(token: str | None, api_url: str) -> AsyncWebClient:
    # No client-side retries: the outbox retries, and after a dropped connection a blind resend
    # could post twice; the outbox first looks for the message (find_posted).
    return AsyncWebClient(token=token, base_url=api_url, retry_handlers=[])


def sink_for(token: str | None, api_url: str) -> Sink:
    """Slack when a bot token is set, else the console (the embedded default needs no Slack)."""
    return SlackSink(slack_client(token, api_url)) if token else ConsoleSink()

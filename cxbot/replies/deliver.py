"""Delivering an owed reply (outbox kind `reply`): the outbox worker hands the row here.

The reply row decides: one no longer `pending` was settled already (a retry after a crash
between the provider's answer and the outbox mark finds it so, and sends nothing). Before the
call the signal is read again: gone (erased) or changed since the draft was opened (its
fingerprint, `records.basis_of`) → `outdated`, and the sender is told in the alert's thread
instead. A provider's refusal → `error` with its reason, told the same way; nothing is resent.
429, 5xx and timeouts raise `RetryLater` for the worker's own retry and backoff.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

from cxbot.listener.logsafe import esc
from cxbot.models import iso_utc
from cxbot.outbox.rows import mark
from cxbot.replies import records
from cxbot.replies.clients import ReplySource
from cxbot.replies.http import Refused, ReplyHttp
from cxbot.slack.text import escape, one_line, trim, user

log = logging.getLogger("cxbot.replies")


def not_sent_note(author: str, why: str) -> str:
    """The thread note when a reply did not go out (pure; `why` is escaped here)."""
    return f":warning: {user(author)}, your reply was not sent: {trim(escape(one_line(why)), 500)}"


class ReplyDelivery:
    """The `reply` kind's handler for cxbot/outbox/worker.py."""

    def __init__(
        self,
        store: Any,
        sources: Mapping[str, ReplySource],
        http: ReplyHttp,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.sources = sources
        self.http = http
        self.clock = clock

    async def deliver(self, row: dict[str, Any]) -> None:
        started = time.perf_counter()
        reply_id = int(json.loads(row["payload"])["reply_id"])
        reply = await self.store.read(partial(records.reply_row, reply_id=reply_id))
        if reply is None or reply["status"] != "pending":
            await self.store.write(
                partial(mark, outbox_id=row["id"], status="sent", sent_at=iso_utc(self.clock()))
            )
            return
        signal_id = int(reply["signal_id"])
        signal = await self.store.read(partial(records.reply_signal, signal_id=signal_id))
        basis = await self.store.read(partial(records.basis_of, signal_id=signal_id))
        source = self.sources.get(str(reply["source"]))
        target = source.client.target(signal) if source and signal else None
        if signal is None:
            why = "the review or ticket was erased after the draft was opened"
            return await self._not_sent(row, reply, "outdated", why, started)
        if reply["basis"] is not None and basis != reply["basis"]:
            why = (
                "the review or ticket changed after the draft was opened (press Reply again"
                " to answer what it says now)"
            )
            return await self._not_sent(row, reply, "outdated", why, started)
        if source is None or target is None:
            why = f"source {reply['source']} can no longer reply (its reply keys are gone)"
            return await self._not_sent(row, reply, "error", why, started)
        try:
            provider_id = await self.http.send(source, signal, target, str(reply["text"]))
        except Refused as exc:
            return await self._not_sent(row, reply, "error", exc.reason, started)
        await self.store.write(
            partial(
                records.mark_sent,
                reply_id=reply_id,
                provider_reply_id=provider_id,
                outbox_id=row["id"],
                now=self.clock(),
            )
        )
        log.info(
            "reply id=%d signal=%d source=%s sent provider_id=%s %.0fms",
            reply_id, signal_id, esc(reply["source"]), esc(provider_id, 80),
            (time.perf_counter() - started) * 1000,
        )  # fmt: skip

    async def give_up(self, row: dict[str, Any], reason: str) -> None:
        """The outbox's send timeout passed with the provider still failing."""
        reply_id = int(json.loads(row["payload"])["reply_id"])
        reply = await self.store.read(partial(records.reply_row, reply_id=reply_id))
        if reply is None or reply["status"] != "pending":
            await self.store.write(partial(mark, outbox_id=row["id"], status="failed"))
            return
        await self.store.write(
            partial(
                records.give_up,
                reply_id=int(reply["id"]),
                error=reason,
                note=not_sent_note(str(reply["author"]), reason),
                outbox_id=row["id"],
                now=self.clock(),
            )
        )
        log.warning("reply id=%d signal=%d gave up: %s", reply["id"], reply["signal_id"],
                    esc(reason, 200))  # fmt: skip

    async def _not_sent(
        self, row: dict[str, Any], reply: dict[str, Any], status: str, why: str, started: float
    ) -> None:
        await self.store.write(
            partial(
                records.mark_not_sent,
                reply_id=int(reply["id"]),
                status=status,
                error=why,
                note=not_sent_note(str(reply["author"]), why),
                outbox_id=row["id"],
                now=self.clock(),
            )
        )
        log.warning(
            "reply id=%d signal=%d source=%s %s: %s %.0fms",
            reply["id"], reply["signal_id"], esc(reply["source"]), status, esc(why, 200),
            (time.perf_counter() - started) * 1000,
        )  # fmt: skip

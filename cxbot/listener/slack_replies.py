"""Slack listeners for replying to the customer: the Reply button opens the modal, the modal's
*Send* records the reply and its owed delivery (one writer job), acks, and pokes the outbox.

Registered on the bolt app by `build_bolt` (cxbot/listener/slack.py). Nothing reaches the
provider from here: the outbox sends it (cxbot/replies/deliver.py), so a provider that is slow
or down never holds a Slack request past its 3 seconds, and a restart resumes the delivery.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from cxbot.listener.logsafe import esc
from cxbot.replies import records
from cxbot.replies.clients import ReplySource, can_reply
from cxbot.slack.reply_view import (
    BLOCK_ID,
    CALLBACK_ID,
    DraftMeta,
    draft_problem,
    parse_meta,
    reply_modal,
    submitted_text,
)

log = logging.getLogger("cxbot.slack")

Ack = Callable[..., Awaitable[None]]
ERASED = "This review or ticket was erased after the draft was opened: nothing was sent."
CHANGED = (
    "The review or ticket changed after you opened this draft: nothing was sent. Copy your"
    " text, close, and press Reply again to answer what it says now."
)


def register(
    bolt: AsyncApp,
    store: Any,
    poke_outbox: Callable[[], None],
    sources: Mapping[str, ReplySource],
    signal_id_of: Callable[[Any], int],
) -> None:
    @bolt.action("cx_reply")
    async def on_reply(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        started = time.perf_counter()
        who = esc(body.get("user", {}).get("id"), 40)
        try:
            signal_id = signal_id_of(action.get("value"))
        except ValueError as exc:
            log.warning("reply button by %s refused: %s", who, exc)
            return
        signal = await store.read(partial(records.reply_signal, signal_id=signal_id))
        if signal is None or not can_reply(sources, signal):
            log.warning("reply button signal=%d by %s refused: cannot reply", signal_id, who)
            return
        basis = await store.read(partial(records.basis_of, signal_id=signal_id))
        source = sources[str(signal["source"])]
        meta = DraftMeta(signal_id, secrets.token_urlsafe(16), basis)
        view = reply_modal(
            signal,
            meta,
            max_chars=source.client.max_chars,
            shown_as=source.client.shown_as,
            source=source.name,
        )
        try:
            await client.views_open(trigger_id=str(body.get("trigger_id") or ""), view=view)
        except SlackApiError as exc:
            log.warning("reply modal signal=%d by %s: views.open failed: %s", signal_id, who,
                        esc(exc.response.get("error"), 80))  # fmt: skip
            return
        log.info("reply modal signal=%d by=%s opened %.0fms", signal_id, who,
                 (time.perf_counter() - started) * 1000)  # fmt: skip

    @bolt.view(CALLBACK_ID)
    async def on_send(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        started = time.perf_counter()
        who = esc(body.get("user", {}).get("id"), 40)
        try:
            meta = parse_meta(view.get("private_metadata"))
        except ValueError as exc:
            log.warning("reply send by %s refused: %s", who, exc)
            await ack(response_action="errors", errors={BLOCK_ID: "This draft cannot be read."})
            return
        text = submitted_text(view)
        signal = await store.read(partial(records.reply_signal, signal_id=meta.signal_id))
        source = sources.get(str(signal["source"])) if signal else None
        problem = None
        if signal is None:
            problem = ERASED
        elif source is None or not can_reply(sources, signal):
            problem = "This source can no longer reply: nothing was sent."
        else:
            in_bytes = source.client.name == "google_business"  # its limit is in bytes
            problem = draft_problem(text, source.client.max_chars, in_bytes=in_bytes)
        if problem is None and meta.basis is not None:
            now_basis = await store.read(partial(records.basis_of, signal_id=meta.signal_id))
            problem = CHANGED if now_basis != meta.basis else None
        if problem is not None:
            await ack(response_action="errors", errors={BLOCK_ID: problem})
            log.info("reply send signal=%d by=%s refused: %s", meta.signal_id, who, problem)
            return
        assert signal is not None and text is not None
        draft = records.Draft(
            signal_id=meta.signal_id,
            source=str(signal["source"]),
            author=who,
            text=text.strip(),
            draft_key=meta.draft_key,
            basis=meta.basis,
        )
        reply_id = await store.write(
            partial(records.record_draft, draft=draft, now=datetime.now(UTC))
        )
        await ack()  # closes the modal
        poke_outbox()
        log.info(
            "reply send signal=%d by=%s reply=%s %.0fms",
            meta.signal_id, who, reply_id if reply_id is not None else "duplicate",
            (time.perf_counter() - started) * 1000,
        )  # fmt: skip

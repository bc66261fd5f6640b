"""`/cx TEXT` and `cxbot ask "TEXT"`: one path from text to answer, shared by Slack and the CLI.

Reads run on the reader thread; the verbs that write (mute, unmute) come back from `ask` as a
`Write` and run on the writer thread; `digest` is answered by the digest module.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlite_utils import Database

from cxbot.config import Settings
from cxbot.cx.ask import Write, ask
from cxbot.cx.grammar import Command
from cxbot.slack.fmt import Answer

log = logging.getLogger("cxbot.cx")


def _ask(
    settings: Settings, text: str, user_id: str | None, now: datetime
) -> Callable[[Database], Any]:
    f = settings.file
    return partial(
        ask,
        text=text,
        now=now,
        tz=settings.tz,
        rules=[*f.alerts, *f.spikes],
        user_id=user_id,
        admins=f.slack.admins,
    )


def digest_preview_answer(settings: Settings, db: Database, now: datetime) -> Answer:
    """`/cx digest`: this week's digest as it stands (the last complete week), for the asker."""
    from cxbot.digest.queries import digest_preview

    return digest_preview(db, now, settings.tz, settings)


async def digest_send_answer(
    settings: Settings, store: Any, poke: Callable[[], None], now: datetime
) -> Answer:
    """`/cx digest send` (admins): owe the last complete week's digest to every channel now."""
    from cxbot.digest.build import last_complete_week
    from cxbot.digest.job import DigestRunner

    period = last_complete_week(now, settings.tz)
    outcomes = await DigestRunner(store, settings, poke).send(period, now)
    if not outcomes:
        return Answer("No digest channels are configured ([digest] channels).", None)
    lines = [
        f"{o.channel}: {'queued' if o.new else 'already ' + o.status} ({o.period})"
        for o in outcomes
    ]
    return Answer("Digest " + period + "\n" + "\n".join(lines), None)


async def answer_async(
    settings: Settings,
    read: Callable[[Callable[[Database], Any]], Awaitable[Any]],
    write: Callable[[Callable[[Database], Any]], Awaitable[Any]],
    text: str,
    user_id: str | None,
    now: datetime | None = None,
    *,
    store: Any = None,
    poke: Callable[[], None] = lambda: None,
) -> Answer:
    now = now or datetime.now(UTC)
    reply = await read(_ask(settings, text, user_id, now))
    if isinstance(reply, Write):
        public = reply.command.public
        reply = await write(reply.apply)
        reply = dataclasses.replace(reply, public=reply.public or public)
    if isinstance(reply, Command):  # digest
        if reply.args == ("send",):
            if store is None:
                return Answer(
                    "`digest send` needs the running service; use `cxbot digest --send`.", None
                )
            return await digest_send_answer(settings, store, poke, now)
        reply = await read(lambda db: digest_preview_answer(settings, db, now))
    assert isinstance(reply, Answer)
    return reply


def answer_sync(
    settings: Settings,
    db: Database,
    write: Callable[[Callable[[Database], Any]], Any],
    text: str,
    now: datetime | None = None,
) -> Answer:
    """The terminal's path: the same ask, on this thread (`user_id` None: trusted like the file)."""
    now = now or datetime.now(UTC)
    reply = _ask(settings, text, None, now)(db)
    if isinstance(reply, Write):
        reply = write(reply.apply)
    if isinstance(reply, Command):  # digest
        if reply.args == ("send",):
            return Answer("In a terminal, send the digest with `cxbot digest --send`.", None)
        return digest_preview_answer(settings, db, now)
    assert isinstance(reply, Answer)
    return reply


def slash_handler(
    settings: Settings, store: Any, poke: Callable[[], None]
) -> Callable[..., Awaitable[None]]:
    """The bolt listener for `/cx`: ack at once (Slack's 3 s), answer through response_url."""

    async def on_cx(
        command: dict[str, Any],
        ack: Callable[..., Awaitable[Any]],
        respond: Callable[..., Awaitable[Any]],
    ) -> None:
        await ack()
        started = time.perf_counter()
        text = command.get("text", "")
        user = command.get("user_id")
        answer = await answer_async(
            settings, store.read, store.write, text, user, store=store, poke=poke
        )
        await respond(
            text=answer.text,
            blocks=answer.blocks,
            response_type="in_channel" if answer.public else "ephemeral",
        )
        log.info(
            "/cx user=%s verb=%s public=%s %.0fms",
            user,
            (text.split() or ["help"])[0][:20],
            answer.public,
            (time.perf_counter() - started) * 1000,
        )

    return on_cx

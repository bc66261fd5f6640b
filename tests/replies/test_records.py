"""The replies table on both engines, and the delivery handler's decisions on a real store:
a draft recorded once with its owed delivery, the fingerprint that notices an edit or a new
message on the ticket, `outdated` instead of a send, and an erasure that scrubs the text."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from cxbot.outbox.rows import owed_rows
from cxbot.replies import records, zendesk
from cxbot.replies.clients import ReplySource
from cxbot.replies.deliver import ReplyDelivery
from cxbot.replies.http import ReplyHttp
from cxbot.store.writer import Store
from tests.kit.postgres import Engine

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def add_signal(db: Any, external_id: str, text: str, ticket: str = "4471") -> int:
    db.execute(
        "INSERT INTO signals (source, provider, kind, external_id, text, thread_key, created_at,"
        " received_at) VALUES ('zd', 'zendesk', 'ticket', ?, ?, ?, ?, ?)",
        [external_id, text, ticket, "2026-12-01T08:00:00.000000Z", "2026-12-01T08:00:00.000000Z"],
    )
    return int(db.execute("SELECT max(id) FROM signals").fetchone()[0])


def draft(signal_id: int, basis: str | None, key: str = "draft-key-0001") -> records.Draft:
    return records.Draft(signal_id, "zd", "U111", "On it.", key, basis)


def test_a_draft_is_recorded_once_with_its_delivery(engine: Engine) -> None:
    db = engine.migrated()
    sid = add_signal(db, "c1", "Parcel lost")
    basis = records.basis_of(db, sid)
    with db.atomic():
        first = records.record_draft(db, draft(sid, basis), NOW)
    with db.atomic():
        again = records.record_draft(db, draft(sid, basis), NOW)
    assert isinstance(first, int) and again is None
    outbox = db.execute("SELECT kind, channel, dedup_key, payload FROM outbox").fetchall()
    assert [tuple(r) for r in outbox] == [
        ("reply", "reply:zd", "reply:draft-key-0001", json.dumps({"reply_id": first}))
    ]
    # The fingerprint follows an edit of the words and a new message on the same ticket.
    db.execute("UPDATE signals SET text = 'Parcel lost, twice' WHERE id = ?", [sid])
    edited = records.basis_of(db, sid)
    assert edited != basis
    add_signal(db, "c2", "Hello?")
    assert records.basis_of(db, sid) not in (basis, edited)
    add_signal(db, "other", "Elsewhere", ticket="9")
    assert records.basis_of(db, 999) is None


def test_an_erasure_scrubs_reply_text_and_outdates_what_is_owed(engine: Engine) -> None:
    db = engine.migrated()
    sid = add_signal(db, "c1", "Parcel lost")
    with db.atomic():
        records.record_draft(db, draft(sid, None), NOW)
    with db.atomic():
        assert records.forget_replies(db, [sid]) == 1
    row = db.execute("SELECT status, text, error FROM replies").fetchone()
    assert tuple(row) == ("outdated", "", "its signal was erased")


class Unused(ReplyHttp):
    async def send(self, *args: Any, **kwargs: Any) -> str | None:
        raise AssertionError("nothing may be sent")


async def test_a_ticket_changed_after_send_is_outdated_and_said_in_the_thread(
    engine: Engine,
) -> None:
    store = Store(engine.writer())
    await asyncio.to_thread(store.open)
    try:
        sid = await store.write(lambda db: add_signal(db, "c1", "Parcel lost"))
        # The signal's alert message, posted: the note goes in its thread.
        await store.write(lambda db: db.execute(
            "INSERT INTO outbox (kind, dedup_key, channel, signal_id, status, next_attempt_at,"
            " created_at, slack_channel, slack_ts) VALUES ('alert', 'alert:1:#cx', '#cx', ?,"
            " 'sent', ?, ?, 'C1', '1.1')", [sid, "x", "x"]))  # fmt: skip
        basis = await store.read(lambda db: records.basis_of(db, sid))
        reply_id = await store.write(lambda db: records.record_draft(db, draft(sid, basis), NOW))
        await store.write(lambda db: add_signal(db, "c2", "Anyone?"))  # the customer again
        [row] = [r for r in await store.read(owed_rows) if r["kind"] == "reply"]
        source = ReplySource("zd", zendesk.CLIENT, {"api_email": "a", "api_token": "t",
                                                    "api_url": "http://127.0.0.1:9"})  # fmt: skip
        await ReplyDelivery(store, {"zd": source}, Unused(), clock=lambda: NOW).deliver(row)
        reply = await store.read(lambda db: records.reply_row(db, reply_id))
        assert reply is not None and reply["status"] == "outdated"
        assert "changed after the draft was opened" in reply["error"]
        notes = await store.read(lambda db: [tuple(r) for r in db.execute(
            "SELECT kind, thread_of, status, payload FROM outbox WHERE kind = 'note'").fetchall()])  # fmt: skip
        [(kind, thread_of, status, payload)] = notes
        assert (kind, status) == ("note", "pending") and thread_of is not None
        assert "<@U111>, your reply was not sent" in json.loads(payload)["text"]
        done = await store.read(lambda db: db.execute(
            "SELECT status FROM outbox WHERE kind = 'reply'").fetchone()[0])  # fmt: skip
        assert done == "sent"  # settled: never tried again
    finally:
        await asyncio.to_thread(store.close)


pytestmark = pytest.mark.usefixtures("blockbuster")


async def test_a_reply_still_failing_at_the_send_timeout_is_an_error(engine: Engine) -> None:
    from datetime import timedelta

    from cxbot.outbox.worker import OutboxWorker

    store = Store(engine.writer())
    await asyncio.to_thread(store.open)
    try:
        sid = await store.write(lambda db: add_signal(db, "c1", "Parcel lost"))
        reply_id = await store.write(lambda db: records.record_draft(db, draft(sid, None), NOW))
        source = ReplySource("zd", zendesk.CLIENT, {"api_email": "a", "api_token": "t",
                                                    "api_url": "http://127.0.0.1:9"})  # fmt: skip
        later = NOW + timedelta(hours=2)
        handler = ReplyDelivery(store, {"zd": source}, Unused(), clock=lambda: later)
        worker = OutboxWorker(store, sink=None, timeout_seconds=3600, clock=lambda: later,  # type: ignore[arg-type]
                              handlers={"reply": handler})  # fmt: skip
        await worker.deliver_due()
        reply = await store.read(lambda db: records.reply_row(db, reply_id))
        assert reply is not None and reply["status"] == "error"
        assert reply["error"].startswith("gave up after 1:00:00")
        kinds = await store.read(lambda db: [tuple(r) for r in db.execute(
            "SELECT kind, status FROM outbox ORDER BY id").fetchall()])  # fmt: skip
        assert kinds == [("reply", "failed")]  # no alert message: no thread to tell
    finally:
        await asyncio.to_thread(store.close)

"""The digest's intent mix, on both engines: what customers wanted this week and the week
before (signals whose intent is unknown are left out), in the key figures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlite_utils import Database

from cxbot.digest.build import IntentCount, Scope, build_digest, digest_window
from cxbot.digest.queries import collect
from cxbot.digest.render import render, render_plain
from cxbot.store.writer import migrate
from tests.digest.test_digest import IST, MONDAY_9
from tests.kit.digest_data import add, fill, utc
from tests.kit.fakeslack import validate_message
from tests.kit.postgres import Engine


@pytest.fixture
def db(engine: Engine) -> Iterator[Database]:
    database = engine.connect()
    migrate(database)
    fill(database)  # 26 signals in W47 and 20 in W46, none with an intent
    w47, w46 = utc(2026, 11, 18, 9), utc(2026, 11, 11, 9)
    for intent, now, before in (("complaint", 3, 1), ("churn_risk", 2, 0), ("question", 0, 2)):
        for _ in range(now):
            add(database, w47, source="zendesk", kind="ticket", intent=intent)
        for _ in range(before):
            add(database, w46, source="zendesk", kind="ticket", intent=intent)
    add(database, utc(2026, 11, 23, 1), intent="praise")  # W48: in neither week
    yield database
    database.conn.close()


def test_intent_mix_is_counted_and_shown(db: Database) -> None:
    d = build_digest(collect(db, digest_window("2026-W47", IST, MONDAY_9), Scope(), MONDAY_9))
    assert d.data.intents == (
        IntentCount("complaint", 3, 1),
        IntentCount("question", 0, 2),
        IntentCount("churn_risk", 2, 0),
    )
    assert d.data.current.n == 31
    text = render_plain(d)
    assert (
        "Intent: complaint 3 (10%) (+200%) · question 0 (0%) (-100%) · churn risk 2 (6%) (new)"
        in text
    )
    assert validate_message(render(d)) == []


def test_intent_mix_follows_the_scope(db: Database) -> None:
    window = digest_window("2026-W47", IST, MONDAY_9)
    apps = build_digest(collect(db, window, Scope(("appstore",), None, "Apps"), MONDAY_9))
    assert apps.data.intents == ()
    assert "Intent:" not in render_plain(apps)

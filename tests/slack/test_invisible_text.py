"""Bidi overrides and zero-width characters never reach Slack or the console (issue 14, defect
13): unit checks of the escaping, and one alert end to end through the fake Slack."""

from __future__ import annotations

import json

import pytest

from cxbot.slack.text import escape, to_plain
from tests.kit.fakeslack import FakeSlack
from tests.kit.support import MakeSettings, serving

pytestmark = pytest.mark.usefixtures("blockbuster")

INVISIBLE = "\u202e\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200b\u2060\ufeff"
TRICK = "invoice\u202egpj.exe and ref\u200bund \u2067hidden\u2069"


def test_escape_and_to_plain_drop_invisible_controls() -> None:
    assert escape(TRICK) == "invoicegpj.exe and refund hidden"
    assert to_plain("a\u202eb\u200bc") == "abc"
    for ch in INVISIBLE:
        assert ch not in escape(f"x{ch}y") and ch not in to_plain(f"x{ch}y")


def test_joiners_that_carry_meaning_are_kept() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # ZWJ emoji sequence
    persian = "حساب\u200cها"  # ZWNJ before a suffix
    assert escape(family) == family and escape(persian) == persian


async def test_an_alert_reaches_slack_without_them(
    slack_settings: MakeSettings, fake_slack: FakeSlack
) -> None:
    rules = '[[alerts]]\nname = "bad"\nchannel = "#cx-alerts"\nmax_rating = 2\n'
    review = {
        "id": "b-1",
        "kind": "review",
        "rating": 1,
        "title": "Order \u202eredro",
        "text": TRICK,
        "author": {"name": "An\u200bna \u202eX"},
    }
    async with serving(slack_settings(rules)) as server:
        status, _ = await server.post("/webhooks/web", review, sign=True)
        assert status == 200
        await fake_slack.wait_for(lambda: fake_slack.messages["C0001"])
    [message] = fake_slack.messages["C0001"]
    sent = json.dumps(message, ensure_ascii=False)
    assert "invoicegpj.exe" in sent
    assert [ch for ch in INVISIBLE if ch in sent] == []

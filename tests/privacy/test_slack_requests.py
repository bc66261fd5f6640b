"""`/cx erase` and `/cx export` through the real app and the fake Slack: admins only, erase
asks first, the confirmed erase edits the posted alerts, the export arrives as a CSV upload
in the channel with as many rows as `/cx volume` counts."""

from __future__ import annotations

import csv
import io

import pytest

from cxbot.slack.blocks import REDACTED
from tests.cx.test_cx_flow import cx_server, slash
from tests.kit.fakeslack import FakeSlack
from tests.kit.support import Server
from tests.privacy.test_erase import A1, A2, B1, SECRET_EMAIL

pytestmark = pytest.mark.usefixtures("blockbuster")

# The same app as the /cx flow tests: one admin (UADMIN), a bad-review rule.
server = cx_server


async def reply(server: Server, fake: FakeSlack, text: str, user: str, name: str) -> str:
    assert await slash(server, fake, text, user=user, name=name) == 200
    [answer] = await fake.wait_for(lambda: fake.responses_by_name.get(name), timeout=15)
    assert answer["response_type"] == "ephemeral"
    return str(answer["text"])


async def test_erase_asks_first_and_then_redacts(server: Server, fake_slack: FakeSlack) -> None:
    assert (await server.post("/webhooks/web", [A1, A2, B1], sign=True))[0] == 200
    await fake_slack.wait_for(lambda: len(fake_slack.messages["C0001"]) == 3, timeout=20)

    said = await reply(server, fake_slack, f"erase {SECRET_EMAIL} confirm", "U1", "nobody")
    assert "Only admins can use `erase`" in said
    said = await reply(server, fake_slack, f"erase {SECRET_EMAIL}", "UADMIN", "ask")
    assert "This erases 2 signal(s) (2 from web) and 1 profile(s)" in said
    assert f"/cx erase {SECRET_EMAIL} confirm" in said
    assert not any(m["text"] == REDACTED for m in fake_slack.messages["C0001"])

    said = await reply(server, fake_slack, f"erase {SECRET_EMAIL} confirm", "UADMIN", "do")
    assert "Erased 2 signal(s) and 1 profile(s); 2 Slack message(s)" in said
    await fake_slack.wait_for(
        lambda: [m["text"] for m in fake_slack.messages["C0001"]].count(REDACTED) == 2, timeout=20
    )
    said = await reply(server, fake_slack, f"erase {SECRET_EMAIL} confirm", "UADMIN", "again")
    assert "nothing to erase" in said


async def test_export_uploads_a_csv_in_the_channel(server: Server, fake_slack: FakeSlack) -> None:
    assert (await server.post("/webhooks/web", [A1, A2, B1], sign=True))[0] == 200
    said = await reply(server, fake_slack, "export 30d", "U1", "nobody")
    assert "Only admins can use `export`" in said
    said = await reply(server, fake_slack, "export 30d kind:review", "UADMIN", "export")
    assert "3 signal(s), as `/cx volume` counts them" in said
    [upload] = await fake_slack.wait_for(lambda: [u for u in fake_slack.uploads if u.completed])
    assert upload.channel == "C0001" and upload.filename.endswith(".csv")
    assert upload.data is not None
    table = list(csv.DictReader(io.StringIO(upload.data.decode())))
    assert sorted(r["external_id"] for r in table) == ["a1", "a2", "b1"]
    said = await reply(server, fake_slack, "volume 30d kind:review", "U1", "volume")
    assert "3 signals" in said

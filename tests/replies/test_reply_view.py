"""The Reply modal, pure: what Slack accepts (the fake's validator), the draft checks, and the
private_metadata read back, refusing anything but what the modal carries."""

from __future__ import annotations

import json

import pytest

from cxbot.slack.reply_view import (
    DraftMeta,
    draft_problem,
    parse_meta,
    reply_modal,
    submitted_text,
)
from tests.kit.fakeslack import validate_view

SIGNAL = {"id": 7, "source": "zd", "author_name": "Nora Vale", "title": "Parcel",
          "text": "<!channel> it never came\n*twice*" + "!" * 5000}  # fmt: skip


def test_the_modal_is_valid_and_quotes_the_customer_inertly() -> None:
    meta = DraftMeta(7, "k" * 22, "b" * 32)
    view = reply_modal(SIGNAL, meta, max_chars=350, shown_as="a <reply>", source="zd")
    assert validate_view(view) == []
    assert view["title"]["text"] == "Reply to the customer" and view["submit"]["text"] == "Send"
    quoted = view["blocks"][0]["text"]["text"]
    assert "&lt;!channel&gt;" in quoted and "<!channel>" not in quoted
    assert len(quoted) <= 3000
    element = view["blocks"][1]["element"]
    assert element["max_length"] == 350 and element["initial_value"].startswith("Hi Nora,")
    assert parse_meta(view["private_metadata"]) == meta


def test_the_fake_refuses_what_slack_would() -> None:
    meta = DraftMeta(7, "k" * 22, None)
    view = reply_modal(SIGNAL, meta, max_chars=350, shown_as="x", source="zd")
    assert validate_view({**view, "title": {"type": "plain_text", "text": "x" * 25}})
    assert validate_view({k: v for k, v in view.items() if k != "submit"})
    assert validate_view({**view, "private_metadata": "x" * 3001})


@pytest.mark.parametrize(
    "meta",
    [None, "x" * 3001, "not json", "[]", json.dumps({"signal": True, "draft": "k" * 22}),
     json.dumps({"signal": 7, "draft": "short"}), json.dumps({"signal": 0, "draft": "k" * 22}),
     json.dumps({"signal": 7, "draft": "k" * 22, "basis": 5})],
)  # fmt: skip
def test_bad_metadata_is_refused(meta: object) -> None:
    with pytest.raises(ValueError):
        parse_meta(meta)


def test_draft_checks() -> None:
    assert draft_problem(None, 100) and draft_problem(" \n", 100)
    assert (
        draft_problem("x" * 101, 100) == "Too long for this provider: 101 characters, at most 100."
    )
    assert draft_problem("é" * 3000, 4096, in_bytes=True) is not None  # 6000 bytes
    assert draft_problem("ok", 100) is None
    view = {"state": {"values": {"reply": {"text": {"type": "plain_text_input", "value": "Hi"}}}}}
    assert submitted_text(view) == "Hi" and submitted_text({}) is None

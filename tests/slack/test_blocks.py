"""Block Kit rendering: untrusted text stays inert, everything fits Slack's limits."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxbot.alerts.rules import AlertRule
from cxbot.slack.blocks import (
    AlertView,
    alert_message,
    console_text,
    escape,
    rollup_message,
    spike_message,
    trim,
)
from cxbot.slack.text import safe_url, to_plain
from tests.kit.fakeslack import validate_message

ROW: dict[str, Any] = {
    "id": 42,
    "source": "trustpilot",
    "provider": "trustpilot",
    "kind": "review",
    "external_id": "r-1",
    "customer_id": 3,
    "author_name": "ann_l",
    "author_handle": None,
    "author_email": "ann@example.com",
    "title": "Late again",
    "text": "Parcel came a week late.",
    "rating": 2,
    "score": None,
    "score_type": None,
    "url": "https://www.trustpilot.com/reviews/abc",
    "channel": None,
    "thread_key": None,
    "metadata": "{}",
    "created_at": "2024-05-01T09:00:00.000000Z",
    "received_at": "2024-05-01T09:00:01.000000Z",
    "event_id": 9,
    "lang": "en",
    "sentiment": -0.62,
    "sentiment_label": "negative",
    "sentiment_source": "vader",
    "topics": '["delivery"]',
    "urgency": 1,
    "enriched_at": "2024-05-01T09:00:02.000000Z",
    "status": "new",
    "assignee": None,
    "status_by": None,
    "status_at": None,
    "acknowledged_at": None,
    "resolved_at": None,
}
AT = "2024-05-01T10:00:00.000000Z"
AT_TOKEN = "<!date^1714557600^{time}, {date_short_pretty}|2024-05-01 10:00 UTC>"
CREATED_TOKEN = "<!date^1714554000^{time}, {date_short_pretty}|2024-05-01 09:00 UTC>"


def view(**changes: Any) -> AlertView:
    return AlertView(
        signal=ROW | changes,
        rules=["bad-review"],
        customer_name="Ann Lee",
        earlier_signals=3,
        source_label="Trustpilot",
    )


def valid(message: dict[str, Any]) -> dict[str, Any]:
    assert validate_message(message) == []
    assert len(message["text"]) <= 4000
    return message


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def button(action_id: str, label: str, style: str | None = None) -> dict[str, Any]:
    b = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "value": "42",
    }
    return b | ({"style": style} if style else {})


ACK, ASSIGN = button("cx_ack", "Acknowledge"), button("cx_assign", "Assign to me")
RESOLVE = button("cx_resolve", "Resolve", "primary")
REOPEN = button("cx_reopen", "Reopen")
PICK = {
    "type": "users_select",
    "action_id": "cx_assign_to",
    "placeholder": {"type": "plain_text", "text": "Assign", "emoji": True},
}
SNOOZE = {
    "type": "static_select",
    "action_id": "cx_snooze",
    "placeholder": {"type": "plain_text", "text": "Snooze", "emoji": True},
    "options": [
        {"text": {"type": "plain_text", "text": label, "emoji": True}, "value": value}
        for value, label in [
            ("1h", "1 hour"),
            ("8h", "8 hours"),
            ("1d", "1 day"),
            ("customer", "Until the customer writes again"),
        ]
    ],
}


def actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "block_id": "cx_alert:42", "elements": list(elements)}


# -- escape


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("<!channel> look", "&lt;!channel&gt; look"),
        ("hi <@U1>", "hi &lt;@U1&gt;"),
        ("<https://evil.example|your bank>", "&lt;https://evil.example|your bank&gt;"),
        ("Tom & Jerry", "Tom &amp; Jerry"),
        ("&amp; stays literal", "&amp;amp; stays literal"),
        ("*bold* _it_ ~gone~ `code`", "∗bold∗ ˍitˍ ∼gone∼ ˋcodeˋ"),
        ("> quoted\n  > indented\nnot > this", "› quoted\n  › indented\nnot &gt; this"),
        ("@here @Channel @everyone ann@here.com", "＠here ＠Channel ＠everyone ann@here.com"),
        ("red\x1b[31m\r\nbell\x07", "red[31m\nbell"),
        ("سلام 👍🏽", "سلام 👍🏽"),
    ],
)
def test_escape(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped


# Input free of the lookalikes themselves (and of controls, which escape drops).
_readable = st.text(
    st.characters(
        blacklist_categories=("Cc", "Cs"),
        blacklist_characters="\u2217\u02cd\u223c\u02cb\u203a\uff20",
    )
)


@given(_readable)
def test_escape_is_inert_and_reads_back(text: str) -> None:
    escaped = escape(text)
    assert not re.search(r"[<>*_~`]|&(?!amp;|lt;|gt;)", escaped)
    assert to_plain(escaped) == text


# -- trim


@pytest.mark.parametrize(
    ("text", "limit", "trimmed"),
    [
        ("hello", 5, "hello"),
        ("hello world", 8, "hello w…"),
        ("hello world", 7, "hello…"),
        ("x", 1, "x"),
        ("xy", 1, "…"),
        ("a &amp; b", 5, "a…"),  # never "a &a…"
        ("a &lt;b", 7, "a &lt;b"),
        ("a &lt;b&gt;", 8, "a &lt;b…"),
        ("see <https://example.com/x|link> now", 20, "see…"),
        ("ab👨\u200d👩\u200d👧", 5, "ab…"),  # a family emoji is one grapheme of 5 code points
        ("ok👍🏽!", 4, "ok…"),  # skin tone modifier stays with its hand
        ("🇹🇷🇮🇷x", 4, "🇹🇷…"),  # never half a flag
        ("سلامِ دنیا", 5, "سلا…"),  # kasra stays on its letter
        ("می\u200cخواهم", 4, "می\u200c…"),  # cutting after a ZWNJ is fine
    ],
)
def test_trim(text: str, limit: int, trimmed: str) -> None:
    assert trim(text, limit) == trimmed


def test_trim_100k() -> None:
    assert trim("a" * 100_000, 3000) == "a" * 2999 + "…"
    assert trim(escape("&" * 100_000), 3000) == "&amp;" * 599 + "…"


def test_trim_rejects_zero() -> None:
    with pytest.raises(ValueError):
        trim("abc", 0)


@given(_readable, st.integers(1, 60))
def test_trim_fits_and_keeps_entities(text: str, limit: int) -> None:
    trimmed = trim(escape(text), limit)
    assert len(trimmed) <= limit
    assert "&" not in re.sub(r"&(amp|lt|gt);", "", trimmed)


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://ex.com/a?b=1&c=2", "https://ex.com/a?b=1&amp;c=2"),
        ("https://ex.com/x|<y> z", "https://ex.com/x%7C%3Cy%3E%20z"),
        ("http://ex.com/caf%C3%A9", "http://ex.com/caf%C3%A9"),
        ("https://bücher.example/ü", "https://xn--bcher-kva.example/%C3%BC"),
        ("javascript:alert(1)", None),
        ("ftp://ex.com/f", None),
        ("https:///nohost", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_url(url: str | None, safe: str | None) -> None:
    assert safe_url(url) == safe


# -- alert_message


def test_alert_message_new_review() -> None:
    assert valid(alert_message(view())) == {
        "text": "★★☆☆☆ · Review · Trustpilot: Late again",
        "blocks": [
            {
                "type": "header",
                "text": {
                    "type": "plain_text",
                    "text": "★★☆☆☆ · Review · Trustpilot",
                    "emoji": True,
                },
            },
            {
                "type": "section",
                "text": mrkdwn("*Late again*\nParcel came a week late."),
            },
            {
                "type": "section",
                "fields": [
                    mrkdwn("*Customer*\n*Ann Lee* · ann@example.com · 3 earlier signals"),
                    mrkdwn("*Sentiment*\nnegative (-0.62, from vader)"),
                    mrkdwn("*Topics*\ndelivery"),
                    mrkdwn("*Urgency*\n1 of 3"),
                    mrkdwn("*Original*\n<https://www.trustpilot.com/reviews/abc|Open original>"),
                ],
            },
            {
                "type": "context",
                "elements": [
                    mrkdwn("Signal 42"),
                    mrkdwn(CREATED_TOKEN),
                    mrkdwn("Matched `bad-review`"),
                ],
            },
            actions(ACK, ASSIGN, PICK, SNOOZE, RESOLVE),
        ],
    }


def test_alert_message_hostile_text() -> None:
    message = valid(
        alert_message(
            view(
                title="<https://evil.example|Click> *now*",
                text="<!channel> refund & <@U1> _please_",
                url="javascript:alert(1)",
                topics="not json",
                urgency=None,
                sentiment_label=None,
                lang="fa",
            )
        )
    )
    assert message["text"] == (
        "★★☆☆☆ · Review · Trustpilot: &lt;https://evil.example|Click&gt; ∗now∗"
    )
    assert message["blocks"][1:3] == [
        {
            "type": "section",
            "text": mrkdwn(
                "*&lt;https://evil.example|Click&gt; ∗now∗*\n"
                "&lt;!channel&gt; refund &amp; &lt;@U1&gt; ˍpleaseˍ"
            ),
        },
        {
            "type": "section",
            "fields": [
                mrkdwn("*Customer*\n*Ann Lee* · ann@example.com · 3 earlier signals"),
                mrkdwn("*Language*\nfa"),
            ],
        },
    ]


def test_alert_message_scores_and_customer() -> None:
    nps = view(kind="survey", rating=None, score=3.0, score_type="nps", title=None)
    csat = view(kind="survey", rating=None, score=2, score_type="csat", text=None)
    headers = [alert_message(v)["blocks"][0]["text"]["text"] for v in (nps, csat)]
    assert headers == ["NPS 3 (detractor) · Survey · Trustpilot", "CSAT 2/5 · Survey · Trustpilot"]
    bare = AlertView(ROW | {"url": None, "topics": "[]", "author_email": None}, [], None, 1, "Web")
    fields = valid(alert_message(bare))["blocks"][2]["fields"]
    assert fields[0] == mrkdwn("*Customer*\n*annˍl* · 1 earlier signal")


def test_alert_message_100k_text_and_long_title() -> None:
    message = valid(alert_message(view(text="x&" * 50_000, title="T" * 2000)))
    section = message["blocks"][1]["text"]["text"]
    # 303 characters of title, then the text cut before an entity it would have split.
    assert section == "*" + "T" * 299 + "…*\n" + "x&amp;" * 449 + "x…"
    assert len(message["text"]) < 400


def test_alert_message_persian_and_emoji_trimmed() -> None:
    persian = "a" + "سلامِ " * 700  # the cut falls on a kasra: its letter goes too
    emoji = "b" * 2997 + "👨\u200d👩\u200d👧" * 100  # the cut falls inside a ZWJ sequence
    sections = [
        valid(alert_message(view(text=t, title=None)))["blocks"][1]["text"]["text"]
        for t in (persian, emoji)
    ]
    assert sections == ["a" + "سلامِ " * 499 + "سلا…", "b" * 2997 + "…"]


def test_alert_message_acknowledged() -> None:
    message = valid(alert_message(view(status="acknowledged", status_by="U0123ABCD", status_at=AT)))
    assert message["blocks"][-2:] == [
        {"type": "context", "elements": [mrkdwn(f"Acknowledged by <@U0123ABCD> at {AT_TOKEN}")]},
        actions(ASSIGN, PICK, SNOOZE, RESOLVE),
    ]


def test_alert_message_assigned() -> None:
    row = {"status": "assigned", "assignee": "U0ASSIGN1", "status_by": "U0123ABCD", "status_at": AT}
    assert valid(alert_message(view(**row)))["blocks"][-2:] == [
        {
            "type": "context",
            "elements": [mrkdwn(f"Assigned to <@U0ASSIGN1> by <@U0123ABCD> at {AT_TOKEN}")],
        },
        actions(ASSIGN, PICK, SNOOZE, RESOLVE),
    ]
    self_assigned = view(**row | {"status_by": "U0ASSIGN1"})
    assert alert_message(self_assigned)["blocks"][-2]["elements"] == [
        mrkdwn(f"Assigned to <@U0ASSIGN1> at {AT_TOKEN}")
    ]


def test_alert_message_resolved_offers_only_reopen() -> None:
    message = valid(alert_message(view(status="resolved", status_by="U0123ABCD", status_at=AT)))
    assert message["blocks"][-2:] == [
        {
            "type": "context",
            "elements": [mrkdwn(f":white_check_mark: Resolved by <@U0123ABCD> at {AT_TOKEN}")],
        },
        actions(REOPEN),
    ]
    # Not a Slack id (a CLI user): shown as inert text, never as a mention.
    by_cli = alert_message(view(status="resolved", status_by="<!here> *x*", status_at=None))
    assert by_cli["blocks"][-2]["elements"] == [
        mrkdwn(":white_check_mark: Resolved by &lt;!here&gt; ∗x∗")
    ]


# -- roll-ups and spikes


def test_rollup_message() -> None:
    rule = AlertRule.model_validate(
        {"name": "bad-review", "channel": "#cx-alerts", "kinds": ["review"], "max_rating": 2}
    )
    links = [("Late *again*", "https://ex.com/1?a=1&b=2"), ("No link", None), ("Bad", "data:x")]
    assert valid(rollup_message(rule, "#cx-alerts", 12, 10, links)) == {
        "text": "12 more negative reviews in the last 10 min",
        "blocks": [
            {
                "type": "section",
                "text": mrkdwn(
                    "*12 more negative reviews in the last 10 min*\n"
                    "• <https://ex.com/1?a=1&amp;b=2|Late ∗again∗>\n"
                    "• No link\n"
                    "• Bad\n"
                    "and 9 more"
                ),
            },
            {
                "type": "context",
                "elements": [mrkdwn("Rule `bad-review` · rolled up in #cx-alerts")],
            },
        ],
    }


def test_rollup_message_caps_links() -> None:
    links = [(f"review {i} " + "w" * 500, "https://ex.com/" + "p" * 2500) for i in range(30)]
    message = valid(rollup_message("vip_any", "#cx-vip", 1, 2.5, links))
    text = message["blocks"][0]["text"]["text"]
    assert message["text"] == "1 more signal in the last 2.5 min"
    assert text.count("• ") == 10
    assert "https://" not in text  # each link would push the section past 3000
    assert text.endswith("\nand 20 more")
    short = valid(
        rollup_message("r", "#c", 30, 10, [(s, "https://ex.com/" + "p" * 200) for s in "ab"])
    )
    assert short["blocks"][0]["text"]["text"].count("<https://ex.com/") == 2
    assert message["blocks"][1]["elements"][0]["text"] == "Rule `vip_any` · rolled up in #cx-vip"


def test_spike_message() -> None:
    assert valid(spike_message("spikes", "topic", "billing_<x>", 14, 2.5, 60)) == {
        "text": "Spike: 14 negative signals for topic billingˍ&lt;x&gt; in the last 60 min",
        "blocks": [
            {
                "type": "section",
                "text": mrkdwn(
                    ":chart_with_upwards_trend: *Spike in negative signals* for topic "
                    "*billingˍ&lt;x&gt;*\n*14* in the last 60 min, usually 2.5 (×5.6)"
                ),
            },
            {"type": "context", "elements": [mrkdwn("Rule `spikes`")]},
        ],
    }
    quiet = spike_message("spikes", "source", "web", 5, 0, 60)
    assert quiet["blocks"][0]["text"]["text"].endswith("*5* in the last 60 min, usually none")


# -- console


def test_console_text_alert() -> None:
    message = alert_message(
        view(
            text="Hi <@U1> & *you*\n> quoted",
            url="https://ex.com/r?a=1&b=2",
            status="acknowledged",
            status_by="U0123ABCD",
            status_at=AT,
            lang="fa",
            channel="email",
        )
    )
    assert console_text(message) == "\n".join(
        [
            "★★☆☆☆ · Review · Trustpilot",
            "Late again",
            "Hi <@U1> & *you*",
            "> quoted",
            "",
            "Customer: Ann Lee · ann@example.com · 3 earlier signals",
            "Sentiment: negative (-0.62, from vader)",
            "Topics: delivery",
            "Urgency: 1 of 3",
            "Language: fa",
            "Original: Open original (https://ex.com/r?a=1&b=2)",
            "",
            "Signal 42 · 2024-05-01 09:00 UTC · via email · Matched bad-review",
            "",
            "Acknowledged by @U0123ABCD at 2024-05-01 10:00 UTC",
        ]
    )  # the signal's time, email and channel; no buttons: nothing on a console presses them


def test_console_text_other_messages() -> None:
    rollup = rollup_message("r", "#c", 2, 10, [("A & B", "https://ex.com/a")])
    assert console_text(rollup) == (
        "2 more signals in the last 10 min\n• A & B (https://ex.com/a)\nand 1 more\n\n"
        "Rule r · rolled up in #c"
    )
    assert console_text({"text": "plain &lt;b&gt; \x1b[2J<!here>"}) == "plain <b> [2J@here"
    assert console_text({"blocks": [{"type": "divider"}, {"type": "image", "alt_text": "x"}]}) == (
        "--------------------\n\n[image: x]"
    )

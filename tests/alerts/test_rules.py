"""Alert rules and status changes as plain functions over plain data."""

from __future__ import annotations

import pytest

from cxbot.alerts.actions import next_status
from cxbot.alerts.rules import (
    AlertRule,
    Facts,
    SpikeRule,
    VipList,
    alerts_for,
    has_keyword,
    spike_detected,
)

BAD_REVIEW = AlertRule(name="bad-review", channel="#cx-alerts", kinds=["review"], max_rating=2)
ANGRY = AlertRule(
    name="angry", channel="#cx-alerts", sentiment_below=-0.4, keywords=["refund", "cancel"]
)
DETRACTOR = AlertRule(name="detractor", channel="#surveys", nps_detractor=True)
UNSCORED = AlertRule(name="triage", channel="#triage", labels=["unscored"])
VIP = AlertRule(name="vip", channel="#vip", vip=True)
PERSIAN = AlertRule(name="fa", channel="#fa", languages=["fa"], min_urgency=2)
CHURN = AlertRule(name="churn", channel="#retention", intents=["churn_risk", "request"])
RULES = [BAD_REVIEW, ANGRY, DETRACTOR, UNSCORED, VIP, PERSIAN, CHURN]


def facts(**kw: object) -> Facts:
    base: dict[str, object] = {"source": "web", "kind": "review"}
    return Facts(**{**base, **kw})  # type: ignore[arg-type]


def test_several_rules_to_one_channel_make_one_message() -> None:
    f = facts(rating=1, text="I want a refund now", sentiment=-0.7, sentiment_label="negative")
    assert alerts_for(f, RULES) == {"#cx-alerts": ["bad-review", "angry"]}


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        (facts(rating=3), {}),
        (facts(kind="ticket", rating=1), {}),
        (facts(text="refunded twice?", sentiment=-0.9), {}),  # keyword needs a whole word
        (facts(text="Cancel it", sentiment=-0.5), {"#cx-alerts": ["angry"]}),
        (facts(text="cancel", sentiment=-0.3), {}),  # not angry enough
        (facts(kind="survey", score=6, score_type="nps"), {"#surveys": ["detractor"]}),
        (facts(kind="survey", score=7, score_type="nps"), {}),
        (facts(kind="survey", score=2, score_type="csat"), {}),
        (facts(text="?", sentiment_label="unscored"), {"#triage": ["triage"]}),
        (facts(text="hi", vip=True), {"#vip": ["vip"]}),
        (facts(lang="fa", urgency=2), {"#fa": ["fa"]}),
        (facts(lang="fa", urgency=1), {}),
        (facts(intent="churn_risk"), {"#retention": ["churn"]}),
        (facts(intent="request"), {"#retention": ["churn"]}),
        (facts(intent="complaint"), {}),
        (facts(intent=None), {}),  # unknown intent matches no intents rule
    ],
)
def test_conditions(f: Facts, expected: dict[str, list[str]]) -> None:
    assert alerts_for(f, RULES) == expected


def test_muted_rules_are_skipped() -> None:
    f = facts(rating=1, text="refund", sentiment=-0.9)
    assert alerts_for(f, RULES, muted={"bad-review"}) == {"#cx-alerts": ["angry"]}


def test_keywords_in_any_script() -> None:
    # Folded like topics (textnorm.fold): İ is i, as Turkish customers type it either way.
    assert has_keyword("İade istiyorum", ["iade"]) is True
    assert has_keyword("پول من را پس بدهید، بازپرداخت", ["بازپرداخت"]) is True
    assert has_keyword("prefund", ["refund"]) is False
    assert has_keyword("REFUND!", ["refund"]) is True


def test_vip_list() -> None:
    vip = VipList(emails=["Boss@Big.com"], domains=["@acme.io"])
    assert [vip.contains(e) for e in ("boss@big.com", "x@acme.io", "x@big.com", None)] == [
        True,
        True,
        False,
        False,
    ]


def test_spike_detection() -> None:
    rule = SpikeRule(name="s", channel="#c", factor=3, min_count=5)
    assert spike_detected(6, [1, 2, 1, 2, 1, 2, 1], rule) is True
    assert spike_detected(4, [0] * 7, rule) is False  # under min_count
    assert spike_detected(9, [3] * 7, rule) is False  # not above 3 × 3
    assert spike_detected(10, [3] * 7, rule) is True


def test_a_rule_needs_a_condition() -> None:
    with pytest.raises(ValueError, match="has no condition"):
        AlertRule(name="all", channel="#c")


@pytest.mark.parametrize(
    ("current", "assignee", "action", "user", "expected"),
    [
        ("new", None, "cx_ack", "U1", ("acknowledged", None)),
        ("acknowledged", None, "cx_ack", "U2", None),
        ("new", None, "cx_assign", "U1", ("assigned", "U1")),
        ("assigned", "U1", "cx_assign", "U1", None),
        ("assigned", "U1", "cx_assign", "U2", ("assigned", "U2")),
        ("assigned", "U1", "cx_ack", "U2", None),
        ("assigned", "U1", "cx_resolve", "U2", ("resolved", "U1")),
        ("resolved", "U1", "cx_resolve", "U2", None),
        ("resolved", "U1", "cx_assign", "U2", None),
    ],
)
def test_status_transitions(
    current: str,
    assignee: str | None,
    action: str,
    user: str,
    expected: tuple[str, str | None] | None,
) -> None:
    assert next_status(current, assignee, action, user) == expected


def test_rule_intents_are_the_enrichers() -> None:
    from typing import get_args

    from cxbot.alerts.rules import Intent
    from cxbot.enrich.intent import INTENTS

    assert get_args(Intent) == INTENTS

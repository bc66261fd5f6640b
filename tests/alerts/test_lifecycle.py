"""The lifecycle's transition table, pure: snooze, wake, assign, resolve, reopen, regress."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cxbot.alerts.actions import next_state, snooze_until
from cxbot.alerts.records import Lifecycle
from cxbot.listener.slack_actions import click_of

NOW = datetime(2026, 6, 3, 8, tzinfo=UTC)
IN_1H = "2026-06-03T09:00:00.000000Z"


def state(status: str, assignee: str | None = None, **extra: str | None) -> Lifecycle:
    return Lifecycle(status, assignee, extra.get("until"), extra.get("before"))


def test_snooze_options() -> None:
    assert snooze_until("1h", NOW) == IN_1H
    assert snooze_until("8h", NOW) == "2026-06-03T16:00:00.000000Z"
    assert snooze_until("1d", NOW) == "2026-06-04T08:00:00.000000Z"
    assert snooze_until("customer", NOW) == "customer"
    with pytest.raises(ValueError, match="unknown snooze option"):
        snooze_until("1y", NOW)


@pytest.mark.parametrize(
    ("before", "action", "target", "until", "after"),
    [
        # snooze remembers where it came from; a wake goes back there
        (state("new"), "cx_snooze", None, IN_1H, state("snoozed", until=IN_1H, before="new")),
        (state("assigned", "U1"), "cx_snooze", None, "customer",
         state("snoozed", "U1", until="customer", before="assigned")),
        (state("snoozed", until=IN_1H, before="acknowledged"), "wake", None, None,
         state("acknowledged")),
        (state("snoozed", until="customer"), "wake", None, None, state("new")),
        (state("new"), "wake", None, None, None),
        # snoozing again changes the end, keeps the status to return to; a double click is nothing
        (state("snoozed", until=IN_1H, before="acknowledged"), "cx_snooze", None, "customer",
         state("snoozed", until="customer", before="acknowledged")),
        (state("snoozed", until=IN_1H, before="new"), "cx_snooze", None,
         "2026-06-03T09:00:20.000000Z", None),
        (state("snoozed", until="customer", before="new"), "cx_snooze", None, "customer", None),
        # acting on a snoozed alert ends the snooze
        (state("snoozed", until=IN_1H, before="new"), "cx_assign_to", "U2", None,
         state("assigned", "U2")),
        (state("snoozed", until=IN_1H, before="new"), "cx_resolve", None, None,
         state("resolved")),
        (state("snoozed", until=IN_1H, before="new"), "cx_ack", None, None, None),
        # assign to someone else, or to oneself
        (state("new"), "cx_assign_to", "U9", None, state("assigned", "U9")),
        (state("assigned", "U9"), "cx_assign_to", "U9", None, None),
        # resolved: only a reopen (by hand) or a regression (the customer) changes it
        (state("resolved", "U1"), "cx_reopen", None, None, state("regressed", "U1")),
        (state("resolved", "U1"), "regress", None, None, state("regressed", "U1")),
        (state("resolved"), "cx_snooze", None, IN_1H, None),
        (state("resolved"), "cx_assign_to", "U2", None, None),
        (state("regressed"), "regress", None, None, None),
        (state("regressed"), "cx_reopen", None, None, None),
        (state("new"), "cx_reopen", None, None, None),
        # a regressed alert is open: acknowledged, assigned, resolved again
        (state("regressed"), "cx_ack", None, None, state("acknowledged")),
        (state("regressed", "U1"), "cx_resolve", None, None, state("resolved", "U1")),
    ],
)  # fmt: skip
def test_transitions(
    before: Lifecycle, action: str, target: str | None, until: str | None, after: Lifecycle | None
) -> None:
    assert next_state(before, action, target=target, until=until) == after


def test_unknown_action_and_missing_arguments() -> None:
    with pytest.raises(ValueError, match="unknown action"):
        next_state(state("new"), "cx_explode")
    with pytest.raises(ValueError, match="needs a user"):
        next_state(state("new"), "cx_assign_to")
    with pytest.raises(ValueError, match="needs an end"):
        next_state(state("new"), "cx_snooze")


def test_clicks_are_read_from_the_action() -> None:
    block = {"block_id": "cx_alert:7"}
    assert click_of({"action_id": "cx_ack", "value": "7"}) == (7, None, None)
    picked = {"action_id": "cx_assign_to", "selected_user": "U0ABC123", **block}
    assert click_of(picked) == (7, "U0ABC123", None)
    chosen = {"action_id": "cx_snooze", "selected_option": {"value": "8h"}, **block}
    assert click_of(chosen) == (7, None, "8h")


@pytest.mark.parametrize(
    "action",
    [
        {"action_id": "cx_ack", "value": "x"},
        {"action_id": "cx_snooze", "block_id": "other", "selected_option": {"value": "1h"}},
        {"action_id": "cx_snooze", "block_id": "cx_alert:99999999999999999999"},
        {"action_id": "cx_snooze", "block_id": "cx_alert:7", "selected_option": {"value": "1y"}},
        {"action_id": "cx_snooze", "block_id": "cx_alert:7", "selected_option": None},
        {"action_id": "cx_assign_to", "block_id": "cx_alert:7", "selected_user": "<!here>"},
        {"action_id": "cx_assign_to", "block_id": "cx_alert:7"},
    ],
)
def test_bad_clicks_are_refused(action: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        click_of(action)

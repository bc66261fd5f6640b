"""The alert message's controls: buttons (Acknowledge, Assign to me, Resolve, Reopen) and
menus (Assign ▾, a `users_select`; Snooze ▾, a `static_select`), one listener for all.

Each acks at once, then queues one writer job (cxbot/alerts/actions.py apply_action); what a
click owes (message edits, thread notes) goes to the outbox, which is poked.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp

from cxbot.alerts.actions import SNOOZE_LABELS, apply_action
from cxbot.listener.logsafe import esc

log = logging.getLogger("cxbot.slack")

ACTION_IDS = re.compile(r"^cx_(ack|assign|assign_to|snooze|resolve|reopen)$")
BLOCK_PREFIX = "cx_alert:"  # the actions block's id: "cx_alert:<signal id>" (blocks.py)
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
MAX_SIGNAL_ID = 2**63 - 1  # SQLite's INTEGER


def signal_id_of(value: Any) -> int:
    """A button's value as a signal id: decimal digits that fit SQLite's INTEGER."""
    if not (isinstance(value, str) and value.isascii() and value.isdigit()):
        raise ValueError(f"button value {esc(value, 40)!r} is not a signal id")
    number = int(value[:20])
    if len(value) > 19 or not 0 < number <= MAX_SIGNAL_ID:
        raise ValueError(f"button value {esc(value, 40)!r} is not a signal id")
    return number


def click_of(action: dict[str, Any]) -> tuple[int, str | None, str | None]:
    """(signal id, picked user, snooze option) of a block action, or ValueError."""
    kind = action.get("action_id")
    if kind in ("cx_assign_to", "cx_snooze"):
        block = action.get("block_id")
        if not (isinstance(block, str) and block.startswith(BLOCK_PREFIX)):
            raise ValueError(f"block id {esc(block, 40)!r} is not an alert's")
        signal_id = signal_id_of(block.removeprefix(BLOCK_PREFIX))
    else:
        signal_id = signal_id_of(action.get("value"))
    if kind == "cx_assign_to":
        picked = action.get("selected_user")
        if not (isinstance(picked, str) and _USER_ID.fullmatch(picked)):
            raise ValueError(f"selected user {esc(picked, 40)!r} is not a Slack user id")
        return signal_id, picked, None
    if kind == "cx_snooze":
        option = (action.get("selected_option") or {}).get("value")
        if option not in SNOOZE_LABELS:
            raise ValueError(f"snooze option {esc(option, 40)!r} is not one of ours")
        return signal_id, None, str(option)
    return signal_id, None, None


def register_actions(bolt: AsyncApp, store: Any, poke_outbox: Callable[[], None]) -> None:
    @bolt.action(ACTION_IDS)
    async def on_action(
        ack: Callable[[], Awaitable[None]], body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await ack()
        started = time.perf_counter()
        user = esc(body.get("user", {}).get("id"), 40)
        name = esc(action.get("action_id"), 40)
        try:
            signal_id, target, option = click_of(action)
            change = await store.write(
                partial(
                    apply_action,
                    signal_id=signal_id,
                    action=str(action["action_id"]),
                    user=user,
                    now=datetime.now(UTC),
                    target=target,
                    option=option,
                )
            )
        except (ValueError, LookupError) as exc:
            log.warning("button %s by %s refused: %s", name, user, exc)
            return
        if change.updates:
            poke_outbox()
        log.info(
            "button %s signal=%d by=%s changed=%s status=%s %.0fms",
            name,
            signal_id,
            user,
            change.changed,
            change.status,
            (time.perf_counter() - started) * 1000,
        )

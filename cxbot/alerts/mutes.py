"""Mutes of alert rules: `/cx mute RULE DURATION`, `/cx unmute RULE`, and the list `/cx alerts`
shows. The writes run on the writer thread (the caller queues them); `alerting.active_mutes`
reads the same table when deciding alerts, comparing `until` with the clock as ISO text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from cxbot.models import iso_utc


@dataclass(frozen=True)
class Mute:
    rule: str
    until: str  # ISO-8601 UTC
    muted_by: str | None
    created_at: str


def list_mutes(db: Database, now: datetime) -> list[Mute]:
    """Mutes still in force at `now` (expired rows are harmless and ignored)."""
    return [
        Mute(*row)
        for row in db.execute(
            "SELECT rule, until, muted_by, created_at FROM mutes WHERE until > ? ORDER BY rule",
            [iso_utc(now)],
        )
    ]


def mute_rule(db: Database, rule: str, until: datetime, by: str | None, now: datetime) -> Mute:
    """Mute `rule` until `until`; muting again replaces the end time (idempotent per click)."""
    mute = Mute(rule, iso_utc(until), by, iso_utc(now))
    db.execute(
        "INSERT INTO mutes (rule, until, muted_by, created_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (rule) DO UPDATE SET until = excluded.until,"
        " muted_by = excluded.muted_by, created_at = excluded.created_at",
        [mute.rule, mute.until, mute.muted_by, mute.created_at],
    )
    return mute


def unmute_rule(db: Database, rule: str, now: datetime | None = None) -> bool:
    """Lift the mute; True when one was in force (at `now`, or at all when `now` is None)."""
    if now is None:
        return db.execute("DELETE FROM mutes WHERE rule = ?", [rule]).rowcount > 0
    active = db.execute(
        "SELECT 1 FROM mutes WHERE rule = ? AND until > ?", [rule, iso_utc(now)]
    ).fetchone()
    db.execute("DELETE FROM mutes WHERE rule = ?", [rule])
    return active is not None

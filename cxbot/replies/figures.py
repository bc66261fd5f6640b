"""Closed-loop reply figures, pure: of the signals alerted in a period, the share the team
replied to (by `as_of`) and the median time from the first alert to the first reply sent."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ReplyFigures:
    alerted: int = 0
    replied: int = 0
    median_seconds: float | None = None

    @property
    def share(self) -> float | None:
        return self.replied / self.alerted if self.alerted else None


def reply_figures(rows: Sequence[tuple[str, str | None]], as_of: datetime) -> ReplyFigures:
    """`rows`: (first alerted at, first reply sent at or None), ISO-8601 UTC text."""
    cutoff = as_of.timestamp()
    waits = []
    for alerted, replied in rows:
        if replied is None:
            continue
        sent = datetime.fromisoformat(replied)
        if sent.timestamp() <= cutoff:
            waits.append(max(0.0, (sent - datetime.fromisoformat(alerted)).total_seconds()))
    median = statistics.median(waits) if waits else None
    return ReplyFigures(len(rows), len(waits), median)

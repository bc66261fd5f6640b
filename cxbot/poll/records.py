"""`poll_cursors`: one row per poll source, the only SQL of cxbot/poll/.

`cursor` is JSON: `page` (the next page of an unfinished walk, or null), `since` (the newest
review time the last complete walk saw: the next walk stops there) and `backfilled` (a
complete walk happened: from then on new reviews alert). The writes run on the writer thread,
in the same job that stores the page's signals, so the cursor never runs ahead of the rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database


@dataclass(frozen=True)
class Cursor:
    page: str | None = None
    since: str | None = None  # ISO-8601 UTC
    backfilled: bool = False
    walk_newest: str | None = None  # the newest review time of the walk under way

    def to_json(self) -> str:
        return json.dumps(
            {
                "page": self.page,
                "since": self.since,
                "backfilled": self.backfilled,
                "walk_newest": self.walk_newest,
            }  # fmt: skip
        )

    @classmethod
    def from_json(cls, text: str | None) -> Cursor:
        try:
            data = json.loads(text or "{}")
        except ValueError:
            data = {}
        data = data if isinstance(data, dict) else {}
        return cls(
            page=_text(data.get("page")),
            since=_text(data.get("since")),
            backfilled=data.get("backfilled") is True,
            walk_newest=_text(data.get("walk_newest")),
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class PollStatus:
    source: str
    cursor: Cursor = field(default_factory=Cursor)
    last_run: str | None = None
    last_ok: str | None = None
    last_error: str | None = None
    failures: int = 0

    def public(self) -> dict[str, Any]:
        """What `/healthz` shows of it."""
        return {
            "last_run": self.last_run,
            "last_ok": self.last_ok,
            "last_error": self.last_error,
            "failures": self.failures,
            "backfilled": self.cursor.backfilled,
        }


_COLUMNS = "source, cursor, last_run, last_ok, last_error, failures"


def _status(row: Any) -> PollStatus:
    source, cursor, last_run, last_ok, last_error, failures = row
    return PollStatus(source, Cursor.from_json(cursor), last_run, last_ok, last_error, failures)


def poll_status(db: Database, source: str) -> PollStatus:
    row = db.execute(f"SELECT {_COLUMNS} FROM poll_cursors WHERE source = ?", [source]).fetchone()
    return _status(row) if row else PollStatus(source)


def all_statuses(db: Database) -> dict[str, PollStatus]:
    rows = db.execute(f"SELECT {_COLUMNS} FROM poll_cursors ORDER BY source").fetchall()
    return {r[0]: _status(r) for r in rows}


def save_cursor(db: Database, source: str, cursor: Cursor, now: str) -> None:
    """A page stored: the cursor moves on (the same statement on both engines)."""
    db.execute(
        "INSERT INTO poll_cursors (source, cursor, last_run) VALUES (?, ?, ?)"
        " ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor,"
        " last_run = excluded.last_run",
        [source, cursor.to_json(), now],
    )


def record_outcome(db: Database, source: str, now: str, error: str | None) -> PollStatus:
    """A run ended: cleanly (error None: failures back to 0) or with `error` (one more)."""
    if error is None:
        db.execute(
            "INSERT INTO poll_cursors (source, last_run, last_ok) VALUES (?, ?, ?)"
            " ON CONFLICT (source) DO UPDATE SET last_run = excluded.last_run,"
            " last_ok = excluded.last_ok, last_error = NULL, failures = 0",
            [source, now, now],
        )
    else:
        db.execute(
            "INSERT INTO poll_cursors (source, last_run, last_error, failures) VALUES (?, ?, ?, 1)"
            " ON CONFLICT (source) DO UPDATE SET last_run = excluded.last_run,"
            " last_error = excluded.last_error, failures = poll_cursors.failures + 1",
            [source, now, error[:500]],
        )
    return poll_status(db, source)

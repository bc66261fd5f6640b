"""`cxbot export QUERY`: the signals behind a `/cx volume QUERY` answer, as CSV or JSON lines.

The query is the `/cx` grammar (period and filters; the same default period), so the file has
as many rows as `/cx volume` counts. Formatting is pure; pages are read on the store's reader.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any, TextIO

from cxbot.config import Settings
from cxbot.cx.grammar import Command, parse_command
from cxbot.periods import DEFAULT_PERIOD, Window, parse_period, resolve
from cxbot.privacy import records
from cxbot.store.writer import Store, writer_for

# Text a customer wrote that a spreadsheet would run as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_TEXT_COLUMNS = {"author_name", "author_email", "author_handle", "title", "text", "url"}


def parse_query(words: Iterable[str]) -> Command:
    """The `/cx volume` reading of the words (raises cx.grammar.CommandError)."""
    return parse_command(" ".join(["volume", *words]))


def window_of(cmd: Command, now: datetime, settings: Settings) -> Window:
    spec = cmd.period or parse_period(DEFAULT_PERIOD)
    assert spec is not None
    return resolve(spec, now, settings.tz)


def _cell(column: str, value: Any) -> Any:
    if column == "topics" and isinstance(value, str):
        try:
            return ", ".join(str(t) for t in json.loads(value))
        except (ValueError, TypeError):
            return value
    if column in _TEXT_COLUMNS and isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_lines(rows: Iterable[dict[str, Any]], header: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(records.EXPORT_COLUMNS)
    for row in rows:
        writer.writerow([_cell(c, row[c]) for c in records.EXPORT_COLUMNS])
    return out.getvalue()


def jsonl_lines(rows: Iterable[dict[str, Any]]) -> str:
    out = []
    for row in rows:
        item = dict(row)
        try:
            item["topics"] = json.loads(item["topics"] or "[]")
        except ValueError:
            pass  # kept as stored
        out.append(json.dumps(item, ensure_ascii=False) + "\n")
    return "".join(out)


def pages(store: Store, window: Window, cmd: Command) -> Iterator[list[dict[str, Any]]]:
    after = 0
    while True:
        page = asyncio.run(
            store.read(
                partial(records.export_signals, window=window, filters=cmd.filters, after_id=after)
            )
        )
        if not page:
            return
        yield page
        after = int(page[-1]["id"])


def export(
    settings: Settings,
    words: Iterable[str],
    fmt: str,
    out: TextIO,
    *,
    on_total: Callable[[int], None] = lambda _: None,
    progress: Callable[[int], None] = lambda _: None,
) -> int:
    """Write the query's signals to `out`; the number written."""
    cmd = parse_query(words)
    window = window_of(cmd, datetime.now(UTC), settings)
    store = Store(writer_for(settings.db_path, settings.file.database, settings.tz))
    store.open()
    try:
        on_total(
            asyncio.run(
                store.read(partial(records.export_count, window=window, filters=cmd.filters))
            )
        )
        written = 0
        for page in pages(store, window, cmd):
            out.write(csv_lines(page, header=written == 0) if fmt == "csv" else jsonl_lines(page))
            written += len(page)
            progress(len(page))
        if written == 0 and fmt == "csv":
            out.write(csv_lines([], header=True))
        return written
    finally:
        store.close()

"""`cxbot export QUERY`: the signals behind a `/cx volume QUERY` answer, as CSV or JSON lines.

The query is the `/cx` grammar (period and filters; the same default period), so the file has
as many rows as `/cx volume` counts. Formatting is pure; pages are read on the store's reader.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any, TextIO

from cxbot.config import Settings
from cxbot.cx.grammar import Command, parse_command
from cxbot.periods import DEFAULT_PERIOD, Window, parse_period, resolve
from cxbot.privacy import records
from cxbot.slack.fmt import Answer
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


# The sink's upload: (channel, filename, content, title).
Upload = Callable[[str, str, bytes, str], Awaitable[None]]
SLACK_EXPORT_MAX = 20_000  # rows; beyond this, `cxbot export` on the server


async def export_to_channel(
    store: Store, cmd: Command, window: Window, channel: str, upload: Upload
) -> Answer:
    """`/cx export QUERY`: the CSV uploaded to the channel the command came from."""
    total = await store.read(partial(records.export_count, window=window, filters=cmd.filters))
    if total > SLACK_EXPORT_MAX:
        return Answer(
            f"That is {total} signals, more than {SLACK_EXPORT_MAX} for Slack: narrow the period"
            " or filters, or run `cxbot export` on the server.",
            None,
        )
    chunks: list[str] = []
    after = 0
    while True:
        page = await store.read(
            partial(records.export_signals, window=window, filters=cmd.filters, after_id=after)
        )
        if not page:
            break
        chunks.append(csv_lines(page, header=not chunks))
        after = int(page[-1]["id"])
    data = ("".join(chunks) or csv_lines([], header=True)).encode()
    name = f"cx-export-{window.start:%Y%m%d}-{window.end:%Y%m%d}.csv"
    await upload(channel, name, data, f"{total} signals · {window.label}")
    return Answer(f"Uploaded {name}: {total} signal(s), as `/cx volume` counts them.", None)

"""blockbuster set up for cxbot: a blocking call made on the event loop by cxbot fails the test.

While active, blockbuster watches time.sleep, blocking file and socket I/O, sqlite3 and lock
waits on a thread that is running an event loop. A call counts when a cxbot frame is on the
stack: the tests' own checks (reading the SQLite file between requests, the fake Slack) are not
what is under test. Work cxbot hands to a thread (the writer, `run_in_executor`) is off the loop.

A finding is recorded with its stack and the call is let through; the fixture then fails the
test at teardown listing every finding. Raising inside cxbot instead would cut the code under
test short (a worker left running, a shutdown half done) and bury the report in the fallout.

The allow-list is for library internals and the test's own set-up only, never for cxbot code:
a finding in cxbot is a bug to fix there.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from blockbuster import BlockBuster

import cxbot

__all__ = ["BlockBuster", "blockbuster_for_cxbot"]

CXBOT = str(Path(cxbot.__file__).resolve().parent) + "/"
ROOT = str(Path(cxbot.__file__).resolve().parents[1]) + "/"

# (function, file suffix, function names): where blocking is the test's own doing.
ALLOWED = [
    # The test's set-up reads its config file (cxbot reads it before the loop starts).
    ("io.BufferedReader.read", "tests/kit/support.py", {"settings_from"}),
    # Tests load their config inside async tests; cxbot loads it before any loop starts.
    ("os.stat", "cxbot/config.py", {"load_settings"}),
    ("io.BufferedReader.read", "cxbot/config.py", {"load_settings"}),
    # The digest flow tests migrate their database before seeding it.
    ("sqlite3.Connection.execute", "tests/digest/test_digest_flow.py", {"prepare"}),
    ("sqlite3.Cursor.fetchall", "tests/digest/test_digest_flow.py", {"prepare"}),
    ("sqlite3.Cursor.execute", "tests/digest/test_digest_flow.py", {"prepare"}),
    ("os.stat", "tests/digest/test_digest_flow.py", {"prepare"}),
    ("os.mkdir", "tests/digest/test_digest_flow.py", {"prepare"}),
    # Log lines go to stderr (a pipe or a terminal) from the loop by design: one line per
    # delivery, alert and command; the write is a few hundred bytes into the OS buffer.
    ("io.TextIOWrapper.write", "logging/__init__.py", {"emit"}),
    ("io.BufferedWriter.write", "logging/__init__.py", {"flush"}),
]


def _frames() -> Iterator[FrameType]:
    frame = inspect.currentframe()
    while frame is not None:
        yield frame
        frame = frame.f_back


def _is_allowed(frame: FrameType, allowed: list[tuple[str, Any]]) -> bool:
    name = frame.f_code.co_filename.replace("\\", "/")
    return any(name.endswith(f) and frame.f_code.co_name in fns for f, fns in allowed)


def _where(frame: FrameType) -> str:
    name = frame.f_code.co_filename.removeprefix(ROOT)
    return f"{name}:{frame.f_lineno} {frame.f_code.co_name}"


def _recording(bb: BlockBuster, findings: list[str]) -> None:
    """Make every watched function record a cxbot caller instead of raising."""
    for full_name, function in bb.functions.items():
        original = function.can_block_predicate
        allowed = function.can_block_functions  # blockbuster's own list, extended above

        def record(
            *args: Any,
            _original: Any = original,
            _allowed: Any = allowed,
            _name: str = full_name,
            **kwargs: Any,
        ) -> bool:
            if _original(*args, **kwargs):
                return True
            frames = list(_frames())[1:]  # from the blocking call outwards
            if any(_is_allowed(f, _allowed) for f in frames):
                return True
            ours = [f for f in frames if f.f_code.co_filename.startswith(CXBOT)]
            if ours:
                stack = [_where(f) for f in frames[:3]] + ["..."] + [_where(f) for f in ours]
                findings.append(f"{_name} on the event loop:\n    " + "\n    ".join(stack))
            return True  # let it through: the fixture reports it at teardown

        function.can_block_predicate = record


@contextlib.contextmanager
def blockbuster_for_cxbot() -> Iterator[list[str]]:
    """Active inside the block; yields the findings list (empty when nothing blocked)."""
    bb = BlockBuster(scanned_modules=["cxbot"])
    for name, suffix, functions in ALLOWED:
        bb.functions[name].can_block_in(suffix, functions)
    findings: list[str] = []
    _recording(bb, findings)
    bb.activate()
    try:
        yield findings
    finally:
        bb.deactivate()
